//! The clap definitions of this library's commands and their dispatch, so that
//! `main` only flattens them into its own command tree and maps a
//! [`Failure`] to the exit code.

use chrono::Utc;

use crate::bootstrap::{self, BootstrapArgs};
use crate::breakglass_cmd::{self, BreakGlassArgs};
use crate::configure::{self, ConfigureArgs};
use crate::credentials::{self, CredentialsArgs, TvmOptions};
use crate::environment::Environment;
use crate::exec::{self, ExecArgs};
use crate::failure::Failure;
use crate::policy_admin::{self, PullArgs, PushArgs};
use crate::profiles::{self, ProfilesArgs};
use crate::proof::{self, ProofArgs, StsEndpointEnv};
use crate::requests_cmd::{self, ApproveArgs, DenyArgs, RequestArgs, RequestsArgs};
use crate::sessions_cmd::{self, SessionsArgs};

/// The engineers' and admins' top-level commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Print credential_process JSON for a profile (the AWS SDKs run this)
    Credentials(CredentialsArgs),
    /// Run a command with a profile's credentials in its environment
    Exec(ExecArgs),
    /// Print the headers that prove this session to a downstream API's authorizer
    Proof(ProofArgs),
    /// List the profiles the TVM serves
    Profiles(ProfilesArgs),
    /// Add or update a profile's credential_process in the AWS config file
    Configure(ConfigureArgs),
    /// Make SSM hold exactly the policies of a directory
    Bootstrap(BootstrapArgs),
    /// List, show, revoke and reconcile sessions (the TVM's admin API)
    Sessions(SessionsArgs),
    /// Ask for a profile that needs approval, and optionally wait for the decision
    Request(RequestArgs),
    /// List, show and revoke approval requests
    Requests(RequestsArgs),
    /// Approve a request (you must be one of its rule's approvers)
    Approve(ApproveArgs),
    /// Deny a request (you must be one of its rule's approvers)
    Deny(DenyArgs),
    /// Emergency credentials without an approver (recorded, notified, reviewed); or list,
    /// show and review break-glass events
    #[command(name = "breakglass")]
    BreakGlass(BreakGlassArgs),
}

/// `sentinel policy` subcommands that talk to SSM.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PolicyRemote {
    /// Print a profile's policy exactly as stored in SSM
    Pull(PullArgs),
    /// Validate a policy file, then store it in SSM
    Push(PushArgs),
    /// Show how a policy file differs from the stored policy (unified diff)
    Diff(PushArgs),
}

/// Runs a command to completion on a single-threaded runtime; `Ok` carries the
/// exit code (0, or the code of the command `exec` ran).
pub fn run(command: &Command, options: &TvmOptions, env: &Environment) -> Result<u8, Failure> {
    block_on(async {
        let now = Utc::now();
        let region = options.region.as_deref();
        match command {
            Command::Credentials(args) => {
                credentials::run(args, options, env, now).await.map(|()| 0)
            }
            Command::Exec(args) => exec::run(args, options, env, now).await,
            Command::Proof(args) => {
                let endpoints = StsEndpointEnv::from_process();
                proof::run(args, options, env, &endpoints, now)
                    .await
                    .map(|()| 0)
            }
            Command::Profiles(args) => profiles::run(args, options, env).await.map(|()| 0),
            Command::Configure(args) => configure::run(args, options, env).map(|()| 0),
            Command::Bootstrap(args) => bootstrap::run(args, region).await.map(|()| 0),
            Command::Sessions(args) => sessions_cmd::run(args, options, env, now).await.map(|()| 0),
            Command::Request(args) => requests_cmd::request(args, options, env).await.map(|()| 0),
            Command::Requests(args) => requests_cmd::run(args, options, env).await.map(|()| 0),
            Command::Approve(args) => requests_cmd::approve(args, options, env).await.map(|()| 0),
            Command::Deny(args) => requests_cmd::deny(args, options, env).await.map(|()| 0),
            Command::BreakGlass(args) => breakglass_cmd::run(args, options, env).await.map(|()| 0),
        }
    })
}

/// Runs a `policy pull|push|diff` command.
pub fn run_policy(command: &PolicyRemote, options: &TvmOptions) -> Result<u8, Failure> {
    block_on(async {
        let region = options.region.as_deref();
        match command {
            PolicyRemote::Pull(args) => policy_admin::pull(args, region).await,
            PolicyRemote::Push(args) => policy_admin::push(args, region).await,
            PolicyRemote::Diff(args) => policy_admin::diff(args, region).await,
        }
        .map(|()| 0)
    })
}

/// A current-thread runtime: these commands wait on one thing at a time, and it
/// starts faster than a multi-threaded one (`credentials` runs on every SDK call).
fn block_on<F: Future<Output = Result<u8, Failure>>>(future: F) -> Result<u8, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the async runtime: {e}")))?
        .block_on(future)
}
