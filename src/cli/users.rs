//! `yuqing user add|list|passwd|role|disable`: the people who may log in to the console. There
//! is no default user and no default password; the password comes from a prompt that does
//! not echo, or from the first line of stdin with `--password-stdin` (for scripts).

use crate::cli::{open, or_exit, ConfigArg};
use crate::vocab::clock::local;
use crate::vocab::clock::{from_secs, secs, Clock};
use crate::web::{hash_password, Role};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user who may log in to the console.
    Add {
        /// The login name; it is also the name the record (留痕) shows.
        name: String,
        /// duty (值班员: every incident action), leader (领导: sees all, adds notes) or
        /// operator (运维: sources, watchlist test; reads incidents).
        #[arg(long)]
        role: String,
        /// Read the password from the first line of stdin instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Every user, with role and state.
    List {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Set a user's password (and enable a disabled user again); their sessions end.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Change a user's role, from their next request on.
    ///
    /// Also repairs a user whose stored role the console does not know (a row edited by
    /// hand, or written by a newer version).
    Role {
        /// The login name (see `yuqing user list`).
        name: String,
        /// duty, leader or operator (see `yuqing user add --help`).
        role: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Stop a user from logging in; their open sessions end at their next request.
    Disable {
        name: String,
        #[command(flatten)]
        config: ConfigArg,
    },
}

/// The hash of `name`'s new password, read as [`read_password`] reads it (argon2 off the
/// async threads: it takes a while on purpose).
async fn new_password_hash(from_stdin: bool, name: &str) -> Result<Result<String, ExitCode>> {
    Ok(match read_password(from_stdin, name) {
        Ok(password) => Ok(tokio::task::spawn_blocking(move || hash_password(&password)).await??),
        Err(code) => Err(code),
    })
}

/// The password for `name`, from a prompt or stdin; exit 2 when it is refused (see
/// `web::password_problem`).
fn read_password(from_stdin: bool, name: &str) -> Result<String, ExitCode> {
    let password = if from_stdin {
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() {
            eprintln!("error: 无法从标准输入读取密码");
            return Err(ExitCode::from(2));
        }
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = rpassword::prompt_password("密码：").map_err(|e| {
            eprintln!("error: 无法读取密码（{e}）；可改用 --password-stdin");
            ExitCode::from(2)
        })?;
        let again = rpassword::prompt_password("再输入一次：").map_err(|_| ExitCode::from(2))?;
        if first != again {
            eprintln!("error: 两次输入的密码不一致");
            return Err(ExitCode::from(2));
        }
        first
    };
    if let Some(why) = crate::web::password_problem(&password, name) {
        eprintln!("error: {why}");
        return Err(ExitCode::from(2));
    }
    Ok(password)
}

/// A role as typed; exit 2 with the roles there are when it is none of them.
fn parse_role(role: &str) -> Result<Role, ExitCode> {
    role.parse().map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn valid_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= 64 && !name.chars().any(char::is_control)
}

pub async fn run(cmd: UserCommand) -> Result<ExitCode> {
    let now = secs(crate::cli::CommandClock.now());
    match cmd {
        UserCommand::Add {
            name,
            role,
            password_stdin,
            config,
        } => {
            let role = or_exit!(parse_role(&role));
            if !valid_name(&name) {
                eprintln!(
                    "error: a user name is 1 to 64 characters, none of them control characters"
                );
                return Ok(ExitCode::from(2));
            }
            let (_, store) = or_exit!(open(&config).await);
            if store.user(&name).await?.is_some() {
                eprintln!("error: 用户 `{name}` 已存在；修改密码请用 `yuqing user passwd {name}`");
                return Ok(ExitCode::from(2));
            }
            let hash = or_exit!(new_password_hash(password_stdin, &name).await?);
            if !store.add_user(&name, role, &hash, now).await? {
                eprintln!("error: 用户 `{name}` 已存在");
                return Ok(ExitCode::from(2));
            }
            println!("已添加用户 {name}，角色 {}（{}）", role.zh(), role.as_str());
        }
        UserCommand::List { config } => {
            let (config, store) = or_exit!(open(&config).await);
            let tz = config.daemon.timezone;
            let users = store.users().await.context(crate::vocab::role::REPAIR)?;
            if users.is_empty() {
                println!("还没有用户；添加：yuqing user add 姓名 --role duty");
            }
            for u in users {
                let state = match u.disabled_at {
                    Some(t) => format!("已停用 {}", local(from_secs(t), tz)),
                    None => "可登录".into(),
                };
                println!(
                    "{}\t{}\t{state}\t密码设置于 {}",
                    u.name,
                    u.role,
                    local(from_secs(u.changed_at), tz)
                );
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
            config,
        } => {
            let (_, store) = or_exit!(open(&config).await);
            if store.user(&name).await?.is_none() {
                eprintln!("error: 没有用户 `{name}`（`yuqing user list` 列出全部用户）");
                return Ok(ExitCode::from(2));
            }
            let hash = or_exit!(new_password_hash(password_stdin, &name).await?);
            store.set_password(&name, &hash, now).await?;
            println!("已修改 {name} 的密码；其已登录的会话均已结束");
        }
        UserCommand::Role { name, role, config } => {
            let role = or_exit!(parse_role(&role));
            let (_, store) = or_exit!(open(&config).await);
            if !store.set_role(&name, role).await? {
                eprintln!("error: 没有用户 `{name}`（`yuqing user list` 列出全部用户）");
                return Ok(ExitCode::from(2));
            }
            println!(
                "已将 {name} 的角色改为 {}（{}）；其下一次操作起生效",
                role.zh(),
                role.as_str()
            );
        }
        UserCommand::Disable { name, config } => {
            let (_, store) = or_exit!(open(&config).await);
            if !store.disable_user(&name, now).await? {
                eprintln!("error: 没有用户 `{name}`（`yuqing user list` 列出全部用户）");
                return Ok(ExitCode::from(2));
            }
            println!("已停用用户 {name}；其已登录的会话均已结束");
        }
    }
    Ok(ExitCode::SUCCESS)
}
