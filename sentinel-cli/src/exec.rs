//! `sentinel exec`: runs a command with a profile's credentials in its
//! environment and exits with the command's status.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use chrono::{DateTime, Utc};
use protocol::wire_time;
use rustix::process::{Pid, Signal, kill_process};
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};

use crate::credentials::{Nesting, TvmOptions, VendArgs, obtain};
use crate::environment::Environment;
use crate::failure::Failure;
use crate::recursion::DEPTH_VAR;

/// `sentinel exec` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub vend: VendArgs,
    /// The command to run, and its arguments
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// Variables the child must not inherit: a profile would override the
/// exported keys in some SDKs, and old keys must not mix with the new ones.
const REMOVED: [&str; 3] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"];

/// Runs the command; returns its exit code (128 + signal when a signal ended it).
pub async fn run(
    args: &ExecArgs,
    options: &TvmOptions,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<u8, Failure> {
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Failure::invalid("no command given after `--`"))?;
    let vended = obtain(&args.vend, options, env, now, Nesting::Allow).await?;
    let depth = env.depth.saturating_add(1);

    let mut command = Command::new(program);
    command
        .args(rest)
        .env("AWS_ACCESS_KEY_ID", &vended.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &vended.secret_access_key)
        .env("AWS_SESSION_TOKEN", &vended.session_token)
        .env(
            "AWS_CREDENTIAL_EXPIRATION",
            wire_time::format(&vended.expiration),
        )
        .env("SENTINEL_SESSION_ID", vended.session_id.as_str())
        .env("SENTINEL_PROFILE", vended.profile.as_str())
        .env(DEPTH_VAR, depth.to_string());
    for name in REMOVED {
        command.env_remove(name);
    }
    let mut child = command
        .spawn()
        .map_err(|e| Failure::error(format!("cannot run `{}`: {e}", program.to_string_lossy())))?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw);

    let listen = |kind: SignalKind| {
        signal(kind).map_err(|e| Failure::error(format!("cannot listen for signals: {e}")))
    };
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    let mut hangup = listen(SignalKind::hangup())?;
    let status = loop {
        let forward = tokio::select! {
            status = child.wait() => break status,
            _ = interrupt.recv() => Signal::INT,
            _ = terminate.recv() => Signal::TERM,
            _ = hangup.recv() => Signal::HUP,
        };
        if let Some(pid) = pid {
            // The child may have exited in between; nothing to forward to then.
            let _ = kill_process(pid, forward);
        }
    }
    .map_err(|e| Failure::error(format!("lost track of the command: {e}")))?;
    Ok(exit_code(status))
}

/// The shell's convention: the exit code, else 128 + the signal number.
fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + (signal & 0x7f)).unwrap_or(1),
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        // Killed by SIGTERM (15).
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }
}
