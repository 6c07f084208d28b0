//! The help texts of the engineers' and admins' commands, as users read them.

// Always true in a test binary; it lets helpers unwrap as tests do (clippy.toml).
#![cfg(test)]

mod support;

use support::Sandbox;

fn help(args: &[&str]) -> String {
    let out = Sandbox::new()
        .sentinel()
        .args(args)
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts() {
    for (name, args) in [
        ("credentials", &["credentials"][..]),
        ("exec", &["exec"]),
        ("proof", &["proof"]),
        ("profiles", &["profiles"]),
        ("configure", &["configure"]),
        ("policy_pull", &["policy", "pull"]),
        ("policy_push", &["policy", "push"]),
        ("policy_diff", &["policy", "diff"]),
        ("bootstrap", &["bootstrap"]),
        ("sessions", &["sessions"]),
        ("sessions_list", &["sessions", "list"]),
        ("sessions_show", &["sessions", "show"]),
        ("sessions_revoke", &["sessions", "revoke"]),
        ("request", &["request"]),
        ("requests", &["requests"]),
        ("requests_list", &["requests", "list"]),
        ("approve", &["approve"]),
        ("deny", &["deny"]),
        ("breakglass", &["breakglass"]),
        ("breakglass_list", &["breakglass", "list"]),
        ("breakglass_review", &["breakglass", "review"]),
    ] {
        insta::assert_snapshot!(name, help(args));
    }
}

#[test]
fn sessions_without_a_tvm_url_is_a_clear_invalid_input_error() {
    let out = Sandbox::new()
        .sentinel()
        .args(["sessions", "list"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    insta::assert_snapshot!(String::from_utf8(out.stderr).unwrap());
}

#[test]
fn bootstrap_with_an_invalid_file_aborts_before_any_aws_call() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path().join("policies");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("Not Valid.yaml"), "version: \"1\"\n").unwrap();
    let out = sandbox
        .sentinel()
        // Nothing listens here: any AWS call would fail with exit 1, not 3.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .args(["bootstrap", "--dir"])
        .arg(&dir)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("Not Valid.yaml"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
}
