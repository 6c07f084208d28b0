//! The TVM's DynamoDB tables for local stacks (`sessions create-table`, `requests
//! create-tables`). The CLI links no DynamoDB client: it runs `sentinel-tvm` (installed
//! next to `sentinel`, or on `PATH`) with this shell's environment and answers with its
//! exit status.

use crate::failure::Failure;

/// Runs `sentinel-tvm <subcommand> [--flag value]...`; `what` names the tables for the hint.
pub fn create(subcommand: &str, flags: &[(&str, &str)], what: &str) -> Result<(), Failure> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("sentinel-tvm")))
        .filter(|path| path.is_file());
    let program = beside.unwrap_or_else(|| "sentinel-tvm".into());
    let mut command = std::process::Command::new(&program);
    command.arg(subcommand);
    for (flag, value) in flags {
        command.args([flag, value]);
    }
    let status = command.status().map_err(|e| {
        Failure::error(format!("cannot run `{}`: {e}", program.display())).with_hint(format!(
            "{what} created by `sentinel-tvm {subcommand}`; install sentinel-tvm next to sentinel or on PATH"
        ))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::error(format!(
            "`sentinel-tvm {subcommand}` failed ({status})"
        )))
    }
}
