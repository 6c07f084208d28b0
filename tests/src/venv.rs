//! The project's Python virtualenv (moto, boto3, the AWS CLI), made by `scripts/setup.sh`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::{HarnessError, workspace_root};

/// The test virtualenv. `scripts/setup.sh` is idempotent and flock-guarded, so every test
/// process may ask for it; within one process it runs once.
#[derive(Debug)]
pub struct Venv;

impl Venv {
    /// Runs `bash scripts/setup.sh` (once per process) and returns the virtualenv's `bin`
    /// folder: `$SENTINEL_VENV/bin` when that is set, as setup.sh does, else `.venv/bin`.
    /// Panics with setup.sh's output when it fails.
    pub fn ensure() -> PathBuf {
        Self::try_ensure().unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Venv::ensure`], returning the failure instead of panicking.
    pub fn try_ensure() -> Result<PathBuf, HarnessError> {
        static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        READY
            .get_or_init(|| setup().map_err(|e| e.to_string()))
            .clone()
            .map_err(HarnessError::Setup)
    }
}

fn setup() -> Result<PathBuf, HarnessError> {
    let root = workspace_root();
    let output = Command::new("bash")
        .arg("scripts/setup.sh")
        .current_dir(&root)
        .output()
        .map_err(|source| HarnessError::Spawn {
            program: "bash scripts/setup.sh".into(),
            source,
        })?;
    if !output.status.success() {
        return Err(HarnessError::Setup(format!(
            "`bash scripts/setup.sh` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    // setup.sh reads a relative SENTINEL_VENV from its working folder, the root.
    let venv =
        std::env::var_os("SENTINEL_VENV").map_or_else(|| root.join(".venv"), |v| root.join(v));
    Ok(venv.join("bin"))
}
