//! `sentinel exec`: runs a command with a profile's credentials in its
//! environment and exits with the command's status. With `--refresh` the command gets
//! a local credentials endpoint ([`crate::endpoint`]) instead of fixed keys, for as long
//! as it runs.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use protocol::wire_time;
use rustix::process::{Pid, Signal, kill_process};
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Mutex, oneshot};

use crate::credentials::{Nesting, TvmOptions, VendArgs, obtain};
use crate::endpoint::{Endpoint, FULL_URI_VAR, Source, TOKEN_VAR};
use crate::environment::Environment;
use crate::failure::Failure;
use crate::recursion::DEPTH_VAR;

/// `sentinel exec` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub vend: VendArgs,
    /// Give the command a local credentials endpoint that re-vends before expiry, not fixed keys
    #[arg(long)]
    pub refresh: bool,
    /// The command to run, and its arguments
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// Variables the child must not inherit: a profile would override the
/// exported keys in some SDKs, and old keys must not mix with the new ones.
const REMOVED: [&str; 3] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"];

/// Also removed with `--refresh`: whatever the SDKs would use before the endpoint, or
/// instead of its URL and token. Every SDK's default chain reads keys in the environment
/// first and web identity (`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`) before container
/// credentials; botocore prefers a relative URI to the full one and a token file to the
/// token. Profiles in the AWS config files still come first (docs/cli.md).
const REMOVED_FOR_ENDPOINT: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

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
        .env("SENTINEL_SESSION_ID", vended.session_id.as_str())
        .env("SENTINEL_PROFILE", vended.profile.as_str())
        .env(DEPTH_VAR, depth.to_string());
    for name in REMOVED {
        command.env_remove(name);
    }
    let endpoint = if args.refresh {
        let endpoint = Endpoint::bind().await?;
        for name in REMOVED_FOR_ENDPOINT {
            command.env_remove(name);
        }
        command
            .env(FULL_URI_VAR, endpoint.url())
            .env(TOKEN_VAR, endpoint.token().as_str());
        Some(endpoint)
    } else {
        command
            .env("AWS_ACCESS_KEY_ID", &vended.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &vended.secret_access_key)
            .env("AWS_SESSION_TOKEN", &vended.session_token)
            .env(
                "AWS_CREDENTIAL_EXPIRATION",
                wire_time::format(&vended.expiration),
            );
        None
    };
    let mut child = command
        .spawn()
        .map_err(|e| Failure::error(format!("cannot run `{}`: {e}", program.to_string_lossy())))?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw);
    // The endpoint is served from here until the child has exited, however it ends.
    let (stop, stopped) = oneshot::channel::<()>();
    let server = endpoint.map(|endpoint| {
        let source = Arc::new(Refresher {
            vend: args.vend.clone(),
            options: options.clone(),
            env: env.clone(),
            one_at_a_time: Mutex::new(()),
        });
        tokio::spawn(endpoint.serve(source, async {
            let _ = stopped.await;
        }))
    });

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
    .map_err(|e| Failure::error(format!("lost track of the command: {e}")));
    drop(stop);
    if let Some(server) = server {
        // Returns once the port is closed; a panic in it has nothing left to serve.
        let _ = server.await;
    }
    Ok(exit_code(status?))
}

/// The endpoint's [`Source`]: `obtain`, as `credentials` and `exec` vend, at the time
/// of each request.
struct Refresher {
    vend: VendArgs,
    options: TvmOptions,
    env: Environment,
    /// The cache's key lock blocks the thread, which here also runs the child's endpoint
    /// and signal forwarding: requests of this process take turns before they take it.
    /// Under the lock, a second request finds what the first vended while it is fresh.
    one_at_a_time: Mutex<()>,
}

impl Source for Refresher {
    async fn credentials(&self) -> Result<protocol::VendResponse, Failure> {
        let _turn = self.one_at_a_time.lock().await;
        obtain(
            &self.vend,
            &self.options,
            &self.env,
            Utc::now(),
            Nesting::Allow,
        )
        .await
    }
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
