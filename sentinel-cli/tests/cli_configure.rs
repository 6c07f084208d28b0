//! `sentinel configure` edits a real AWS config file and leaves the rest alone.

// Always true in a test binary; it lets helpers unwrap as tests do (clippy.toml).
#![cfg(test)]

mod support;

use support::Sandbox;

const TRICKY: &str = "# managed by hand\r\n\
[default]\r\n\
region = eu-west-1\r\n\
\r\n\
[sso-session corp]\r\n\
sso_start_url = https://corp.example/start\r\n\
sso_registration_scopes = sso:account:access\r\n\
\r\n\
[profile prod]\r\n\
region = us-east-1\r\n\
s3 =\r\n\
    max_concurrent_requests = 20\r\n\
credential_process = /old/tool --x\r\n\
; keep me\r\n\
\r\n\
[profile other]\r\n\
output = json";

fn configure(sandbox: &Sandbox, args: &[&str]) -> String {
    sandbox
        .sentinel()
        .args(["configure"])
        .args(args)
        .assert()
        .success();
    std::fs::read_to_string(sandbox.aws_config()).unwrap()
}

fn exe() -> String {
    std::fs::canonicalize(assert_cmd::cargo::cargo_bin("sentinel"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn updates_an_existing_profile_in_place_and_is_idempotent() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.aws_config(), TRICKY).unwrap();
    let args = [
        "--profile",
        "prod",
        "--tvm-url",
        "https://abc.execute-api.us-east-1.amazonaws.com/v1",
        "--source-profile",
        "corp-admin",
    ];
    let first = configure(&sandbox, &args);
    let expected = TRICKY.replace(
        "credential_process = /old/tool --x",
        &format!(
            "credential_process = {} credentials --profile prod --tvm-url https://abc.execute-api.us-east-1.amazonaws.com/v1 --source-profile corp-admin",
            exe()
        ),
    );
    assert_eq!(first, expected);
    let second = configure(&sandbox, &args);
    assert_eq!(second.as_bytes(), first.as_bytes());
}

#[test]
fn adds_a_new_profile_with_its_region_after_a_file_without_final_newline() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.aws_config(), TRICKY).unwrap();
    let args = [
        "--profile",
        "dev",
        "--tvm-url",
        "http://127.0.0.1:8787",
        "--region",
        "us-east-1",
    ];
    let out = configure(&sandbox, &args);
    assert_eq!(
        out,
        format!(
            "{TRICKY}\r\n\r\n[profile dev]\r\ncredential_process = {} credentials --profile dev --tvm-url http://127.0.0.1:8787 --region us-east-1\r\nregion = us-east-1\r\n",
            exe()
        )
    );
    assert_eq!(configure(&sandbox, &args), out);
}

#[test]
fn creates_the_file_and_its_directory() {
    let sandbox = Sandbox::new();
    let nested = sandbox.path().join("dot-aws/config");
    sandbox
        .sentinel()
        .env("AWS_CONFIG_FILE", &nested)
        .args([
            "configure",
            "--profile",
            "p",
            "--tvm-url",
            "https://x.lambda-url.eu-west-1.on.aws/",
        ])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&nested).unwrap(),
        format!(
            "[profile p]\ncredential_process = {} credentials --profile p --tvm-url https://x.lambda-url.eu-west-1.on.aws/\n",
            exe()
        )
    );
}

#[test]
fn a_url_without_a_region_is_invalid_input_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let out = sandbox
        .sentinel()
        .args([
            "configure",
            "--profile",
            "p",
            "--tvm-url",
            "https://tvm.example.com",
        ])
        .assert()
        .code(3)
        .get_output()
        .clone();
    insta::assert_snapshot!(String::from_utf8(out.stderr).unwrap());
    assert!(!sandbox.aws_config().exists());
}
