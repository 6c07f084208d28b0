//! The harness of Sentinel's system tests: local stand-ins for AWS, started per test.
//!
//! - [`Moto`]: a moto server (STS, SSM, IAM, DynamoDB on one endpoint) from the project's
//!   Python virtualenv, which [`Venv::ensure`] prepares with `scripts/setup.sh`.
//! - [`DynamoDbLocal`]: AWS's DynamoDB Local (installed by `scripts/dynamodb-local.sh`,
//!   run with Java 17), for what must match real DynamoDB most closely.
//! - [`cargo_bin`], [`workspace_root`] and [`free_port`] for tests that run the workspace's
//!   binaries as child processes.
//! - [`oidc::Issuer`]: a local OIDC issuer (discovery, JWKS, request counts, outages) whose
//!   keys and tokens joserfc makes.
//!
//! Each server listens on its own free loopback port and dies with the handle (or with the
//! test process, however it ends), so tests run in parallel and leave nothing behind.
//! SDK configurations come from [`sdk_config_for`], which reads nothing from the host, and
//! child processes get their AWS environment from [`Moto::env`]: no test mutates the
//! process environment.
//!
//! This crate is test support, not product code: its constructors panic with the server's
//! output when a stand-in cannot start, which is how a test should fail. The `try_` forms
//! return [`HarnessError`] instead. It reaches nothing but loopback.
//!
//! ```no_run
//! # async fn example() {
//! use system_tests::Moto;
//!
//! let moto = Moto::start();
//! let dynamodb = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
//! sessions::create_table(&dynamodb, "sentinel-sessions").await.unwrap();
//!
//! // A child process sees the same endpoint through its environment.
//! let status = std::process::Command::new("aws")
//!     .args(["dynamodb", "list-tables"])
//!     .envs(moto.env())
//!     .status()
//!     .unwrap();
//! assert!(status.success());
//! # }
//! ```

#![expect(
    clippy::panic,
    reason = "test harness: a stand-in that cannot start must fail the test loudly, quoting its output"
)]

mod dynamodb_local;
mod http;
mod local_aws;
mod moto;
pub mod oidc;
mod process;
pub mod runtime_api;
mod venv;
mod workspace;

pub use dynamodb_local::DynamoDbLocal;
pub use local_aws::{ACCESS_KEY_ID, AWS_ENV_TO_REMOVE, REGION, SECRET_ACCESS_KEY, sdk_config_for};
pub use moto::Moto;
pub use venv::Venv;
pub use workspace::{cargo_bin, free_port, workspace_root};

/// Why a local stand-in could not be prepared or started.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A setup script failed; the message carries its output.
    #[error("{0}")]
    Setup(String),
    /// A program could not be started at all.
    #[error("could not start `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server exited before it answered.
    #[error("{server} exited before it was ready ({status}); its output:\n{log}")]
    Exited {
        /// Which server.
        server: &'static str,
        /// Its exit status.
        status: String,
        /// The end of its output.
        log: String,
    },
    /// The server did not answer in time.
    #[error("{server} did not answer on port {port} within {seconds} s; its output:\n{log}")]
    NotReady {
        /// Which server.
        server: &'static str,
        /// The port it was told to use.
        port: u16,
        /// How long the harness waited.
        seconds: u64,
        /// The end of its output.
        log: String,
    },
    /// A scratch file could not be written.
    #[error("i/o error: {0}")]
    Io(String),
}

/// A private scratch folder for one server: its log and the empty AWS config files.
fn scratch_dir() -> Result<tempfile::TempDir, HarnessError> {
    tempfile::Builder::new()
        .prefix("sentinel-system-")
        .tempdir()
        .map_err(|e| HarnessError::Io(format!("creating a scratch folder: {e}")))
}
