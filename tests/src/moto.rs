//! moto server: one local endpoint for STS, SSM, IAM and DynamoDB.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use aws_config::SdkConfig;
use tempfile::TempDir;

use crate::local_aws::{LocalAws, sdk_config_for};
use crate::process::{Launch, ServerProcess};
use crate::{HarnessError, Venv, free_port};

/// moto answers in about 0.5 s; the margin is for a machine busy building.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts with a fresh port when another process took the one picked.
const ATTEMPTS: usize = 3;

/// A moto server on a free loopback port, private to the test that started it and killed
/// when dropped.
#[derive(Debug)]
pub struct Moto {
    // Field order is drop order: the server stops before its scratch folder goes.
    server: ServerProcess,
    aws: LocalAws,
    _dir: TempDir,
}

impl Moto {
    /// Starts `moto_server` from the test virtualenv (set up on first use) and waits until
    /// it answers. Panics, quoting moto's output, when it cannot.
    pub fn start() -> Self {
        Self::try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// moto in auth mode: the first `free_requests` requests pass unchecked (seed IAM
    /// with them), every later one must carry a valid SigV4 signature of a known key
    /// and is evaluated against IAM policies (`INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start_with_auth(free_requests: u32) -> Self {
        let count = free_requests.to_string();
        Self::try_start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", count.as_str())])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Moto::start`], returning the failure instead of panicking.
    pub fn try_start() -> Result<Self, HarnessError> {
        Self::try_start_with(&[])
    }

    fn try_start_with(envs: &[(&str, &str)]) -> Result<Self, HarnessError> {
        let program = Venv::try_ensure()?.join("moto_server");
        let dir = crate::scratch_dir()?;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let port = free_port();
            let args = [
                "-H".to_owned(),
                "127.0.0.1".to_owned(),
                "-p".to_owned(),
                port.to_string(),
            ];
            let launch = Launch {
                name: "moto",
                program: &program,
                args: &args,
                cwd: None,
                envs,
                port,
                timeout: READY_TIMEOUT,
            };
            match ServerProcess::start(&launch, &dir) {
                Ok(server) => {
                    return Ok(Self {
                        aws: LocalAws::new(server.port(), &dir)?,
                        server,
                        _dir: dir,
                    });
                }
                // Most likely the port was taken between picking and binding it.
                Err(e @ HarnessError::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| HarnessError::Io("moto was never started".into())))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.aws.endpoint()
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Wipes every resource in moto (`POST /moto-api/reset`). Panics when moto does not
    /// answer 200.
    pub fn reset(&self) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port()));
        match crate::http::status(addr, "POST", "/moto-api/reset", Duration::from_secs(10)) {
            Ok(200) => {}
            Ok(status) => panic!(
                "moto reset answered HTTP {status}; moto's output:\n{}",
                self.log()
            ),
            Err(e) => panic!("moto reset failed: {e}; moto's output:\n{}", self.log()),
        }
    }

    /// An SDK configuration addressing this moto; see [`sdk_config_for`].
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint()).await
    }

    /// Environment for a child process (the TVM, the CLI, the AWS CLI) to use this moto:
    /// `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` (`testing`), `AWS_EC2_METADATA_DISABLED`, and
    /// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` naming empty files. See also
    /// [`AWS_ENV_TO_REMOVE`](crate::AWS_ENV_TO_REMOVE).
    pub fn env(&self) -> Vec<(String, String)> {
        self.aws.env()
    }

    /// The end of moto's output (it logs every request), for failure messages.
    pub fn log(&self) -> String {
        self.server.log_tail()
    }
}
