//! AWS's DynamoDB Local: the most faithful DynamoDB available offline.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::SdkConfig;
use tempfile::TempDir;

use crate::local_aws::{LocalAws, sdk_config_for};
use crate::process::{Launch, ServerProcess};
use crate::{HarnessError, free_port, workspace_root};

/// It answers in about 2.5 s on an idle machine; the margin is for a busy one.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// Attempts with a fresh port when another process took the one picked.
const ATTEMPTS: usize = 3;

/// A DynamoDB Local server (in memory, one database for every credential and region) on a
/// free port, private to the test that started it and killed when dropped.
#[derive(Debug)]
pub struct DynamoDbLocal {
    // Field order is drop order: the server stops before its scratch folder goes.
    server: ServerProcess,
    aws: LocalAws,
    _dir: TempDir,
}

impl DynamoDbLocal {
    /// Installs DynamoDB Local on first use (`scripts/dynamodb-local.sh`), starts it with
    /// the machine's Java (`$JAVA_HOME/bin/java`, else `java`) and waits until it answers.
    /// Panics, quoting its output, when it cannot.
    pub fn start() -> Self {
        Self::try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`DynamoDbLocal::start`], returning the failure instead of panicking.
    pub fn try_start() -> Result<Self, HarnessError> {
        let jar_dir = install()?;
        let java = std::env::var_os("JAVA_HOME")
            .map(|home| PathBuf::from(home).join("bin").join("java"))
            .filter(|java| java.is_file())
            .unwrap_or_else(|| PathBuf::from("java"));
        let dir = crate::scratch_dir()?;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let port = free_port();
            let args: Vec<String> = [
                // A short-lived test server: the quick JIT tier and the serial collector
                // start faster on a small machine.
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-Djava.library.path=./DynamoDBLocal_lib",
                "-jar",
                "DynamoDBLocal.jar",
                "-inMemory",
                "-sharedDb",
                "-disableTelemetry",
                "-port",
            ]
            .into_iter()
            .map(str::to_owned)
            .chain([port.to_string()])
            .collect();
            let launch = Launch {
                name: "dynamodb-local",
                program: &java,
                args: &args,
                cwd: Some(&jar_dir),
                envs: &[("DDB_LOCAL_TELEMETRY", "0")],
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
                Err(e @ HarnessError::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| HarnessError::Io("DynamoDB Local was never started".into())))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.aws.endpoint()
    }

    /// The port DynamoDB Local listens on.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// An SDK configuration addressing this server; see [`sdk_config_for`].
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint()).await
    }

    /// Environment for a child process to use this server; the same variables as
    /// [`Moto::env`](crate::Moto::env).
    pub fn env(&self) -> Vec<(String, String)> {
        self.aws.env()
    }

    /// The end of DynamoDB Local's output, for failure messages.
    pub fn log(&self) -> String {
        self.server.log_tail()
    }
}

/// Runs `scripts/dynamodb-local.sh` once per process; it prints the folder holding the jar.
fn install() -> Result<PathBuf, HarnessError> {
    static JAR_DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    JAR_DIR
        .get_or_init(|| {
            let output = Command::new("bash")
                .arg("scripts/dynamodb-local.sh")
                .current_dir(workspace_root())
                .output()
                .map_err(|e| format!("could not run `bash scripts/dynamodb-local.sh`: {e}"))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            match stdout.lines().last().map(str::trim) {
                Some(dir) if output.status.success() && !dir.is_empty() => Ok(PathBuf::from(dir)),
                _ => Err(format!(
                    "`bash scripts/dynamodb-local.sh` failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )),
            }
        })
        .clone()
        .map_err(HarnessError::Setup)
}
