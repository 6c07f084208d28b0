//! Running a helper process whose answer is JSON on standard output.

#![cfg(test)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs `command` with `input` (JSON) on its standard input, if any, requires it to
/// succeed (panicking with its standard error otherwise), and parses its standard output
/// as JSON.
pub fn json_output(command: &mut Command, input: Option<&Value>) -> Value {
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = input {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        command.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
