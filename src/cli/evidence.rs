//! `yuqing evidence export ID --out FILE.warc.gz`: an incident's evidence as one WARC file
//! and a manifest beside it (see `evidence::export`).

use crate::cli::{open, or_exit, CommandClock, ConfigArg};
use crate::vocab::clock::Clock;
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Every kept version of the pages of an incident's items, as one WARC file (which
    /// `warcio`, pywb and ReplayWeb.page open), and a manifest (`.manifest.csv`) beside it.
    Export {
        /// The incident.
        id: i64,
        /// The WARC file to write (`事件12.warc.gz`); never overwritten.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        config: ConfigArg,
    },
}

pub async fn run(cmd: EvidenceCommand) -> Result<ExitCode> {
    let EvidenceCommand::Export { id, out, config } = cmd;
    let (config, store) = or_exit!(open(&config).await);
    if store
        .incident(store.pool(), crate::vocab::ids::IncidentId(id))
        .await?
        .is_none()
    {
        eprintln!("error: 没有事件 #{id}（`yuqing incidents --all` 列出全部事件）");
        return Ok(ExitCode::from(2));
    }
    let rows = store
        .incident_evidence(crate::vocab::ids::IncidentId(id))
        .await?;
    let exported = match crate::evidence::export::export(
        id,
        &rows,
        &config.evidence.dir,
        &out,
        config.daemon.timezone,
        CommandClock.now(),
    ) {
        Ok(e) => e,
        Err(e @ crate::evidence::export::ExportError::Exists(_)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    println!(
        "已导出事件 #{id} 的证据：{} 个版本的网页存档 → {}；清单 → {}",
        exported.versions,
        exported.warc.display(),
        exported.manifest.display()
    );
    if exported.without_records > 0 {
        println!(
            "另有 {} 个版本未能取得网页（原因见清单的 error 列）。",
            exported.without_records
        );
    }
    if rows.is_empty() {
        println!("该事件的信息尚无保存的证据。");
    }
    Ok(ExitCode::SUCCESS)
}
