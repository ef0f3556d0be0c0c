//! `yuqing demo`: placeholder until the bundled sources land.
use anyhow::Result;
use std::process::ExitCode;

pub async fn run(_seconds: Option<u64>) -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
