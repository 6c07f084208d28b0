//! `sentinel credentials` and `sentinel exec` against a fake TVM.

// Always true in a test binary; it lets helpers unwrap as tests do (clippy.toml).
#![cfg(test)]

mod support;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use support::{FakeTvm, Reply, Sandbox, ok, vend_body};

fn credentials(sandbox: &Sandbox, tvm: &FakeTvm, extra: &[&str]) -> assert_cmd::assert::Assert {
    sandbox
        .sentinel()
        .args([
            "credentials",
            "--profile",
            "prod",
            "--region",
            "us-east-1",
            "--tvm-url",
        ])
        .arg(&tvm.url)
        .args(extra)
        .assert()
}

fn fresh_tvm() -> FakeTvm {
    FakeTvm::start(ok(vend_body(
        "prod",
        Utc::now() + chrono::Duration::hours(1),
        1,
    )))
}

#[test]
fn prints_exactly_the_credential_process_document_from_a_signed_request() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    let out = credentials(&sandbox, &tvm, &[])
        .success()
        .get_output()
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: BTreeSet<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "AccessKeyId",
            "Expiration",
            "SecretAccessKey",
            "SessionToken",
            "Version"
        ])
    );
    assert_eq!(doc["Version"], 1);
    assert_eq!(doc["AccessKeyId"], "ASIAFAKE1");
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let head = &tvm.requests()[0];
    assert!(
        head.starts_with("GET /?profile=prod HTTP/1.1\r\n"),
        "{head}"
    );
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains("authorization: aws4-hmac-sha256 credential=akidsentineltest/")
            && lower.contains("/us-east-1/execute-api/aws4_request"),
        "{head}"
    );
    assert!(lower.contains("x-amz-date: "), "{head}");
}

#[test]
fn a_second_call_is_served_from_the_private_cache() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    let first = credentials(&sandbox, &tvm, &[])
        .success()
        .get_output()
        .stdout
        .clone();
    let second = credentials(&sandbox, &tvm, &[])
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(first, second);
    assert_eq!(tvm.count(), 1);

    use std::os::unix::fs::PermissionsExt;
    let dir = sandbox.cache().join("sentinel");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for entry in std::fs::read_dir(&dir).unwrap() {
        let meta = entry.unwrap().metadata().unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
}

/// SECURITY: the cache key names the signer. Without --source-profile the signer comes
/// from AWS_PROFILE or the key variables; if the key ignored them, b would be handed
/// a's credentials (stamped with a's SourceIdentity, possibly for a profile b may not use).
#[test]
fn two_signers_never_share_a_cache_entry() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    let mut runs = 0;
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", "AKIDSIGNERA"),
        ("AWS_ACCESS_KEY_ID", "AKIDSIGNERB"),
    ] {
        sandbox
            .sentinel()
            .env(name, value)
            .args([
                "credentials",
                "--profile",
                "prod",
                "--region",
                "us-east-1",
                "--tvm-url",
            ])
            .arg(&tvm.url)
            .assert()
            .success();
        runs += 1;
        assert_eq!(
            tvm.count(),
            runs,
            "{name}={value} was served another signer's entry"
        );
    }
    // The same signer again is a cache hit.
    sandbox
        .sentinel()
        .env("AWS_ACCESS_KEY_ID", "AKIDSIGNERB")
        .args([
            "credentials",
            "--profile",
            "prod",
            "--region",
            "us-east-1",
            "--tvm-url",
        ])
        .arg(&tvm.url)
        .assert()
        .success();
    assert_eq!(tvm.count(), runs);
}

#[test]
fn credentials_near_expiry_are_vended_again() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(ok(vend_body(
        "prod",
        Utc::now() + chrono::Duration::minutes(4),
        1,
    )));
    credentials(&sandbox, &tvm, &[]).success();
    tvm.set_reply(ok(vend_body(
        "prod",
        Utc::now() + chrono::Duration::hours(1),
        2,
    )));
    let out = credentials(&sandbox, &tvm, &[])
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(tvm.count(), 2);
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["AccessKeyId"], "ASIAFAKE2");
    // A smaller window accepts the fresh credentials; a window wider than their
    // remaining life does not.
    credentials(&sandbox, &tvm, &["--refresh-window", "1m"]).success();
    assert_eq!(tvm.count(), 2);
    credentials(&sandbox, &tvm, &["--refresh-window", "2h"]).success();
    assert_eq!(tvm.count(), 3);
}

#[test]
fn no_cache_always_calls_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    credentials(&sandbox, &tvm, &["--no-cache"]).success();
    credentials(&sandbox, &tvm, &["--no-cache"]).success();
    assert_eq!(tvm.count(), 2);
    assert!(!sandbox.cache().exists());
}

#[test]
fn a_corrupt_cache_file_is_replaced() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    credentials(&sandbox, &tvm, &[]).success();
    let dir = sandbox.cache().join("sentinel");
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    std::fs::write(&entry, b"{\"Version\": 1, trunc").unwrap();
    credentials(&sandbox, &tvm, &[]).success();
    assert_eq!(tvm.count(), 2);
    let repaired: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    assert_eq!(repaired["SessionId"], format!("{:032x}", 1));
}

#[test]
fn twenty_concurrent_invocations_make_one_tvm_call() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(Reply {
        delay: Duration::from_millis(300),
        ..ok(vend_body(
            "prod",
            Utc::now() + chrono::Duration::hours(1),
            1,
        ))
    });
    let children: Vec<_> = (0..20)
        .map(|_| {
            sandbox
                .std_command()
                .args([
                    "credentials",
                    "--profile",
                    "prod",
                    "--region",
                    "us-east-1",
                    "--tvm-url",
                ])
                .arg(&tvm.url)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, outputs[0].stdout);
    }
    assert_eq!(tvm.count(), 1);
}

#[test]
fn policy_deny_exits_2_with_the_message_and_a_hint() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(Reply {
        status: 403,
        body: r#"{"Code":"POLICY_DENY","Message":"denied by rule `weekend-freeze`","RequestId":"req-42"}"#
            .to_owned(),
        delay: Duration::ZERO,
    });
    let out = credentials(&sandbox, &tvm, &[])
        .code(2)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    insta::assert_snapshot!(stderr);
}

#[test]
fn bad_requests_exit_3_and_server_errors_exit_1() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(Reply {
        status: 400,
        body: r#"{"Code":"INVALID_DURATION","Message":"duration `5` must be whole seconds between 900 and 43200","RequestId":"r"}"#.to_owned(),
        delay: Duration::ZERO,
    });
    credentials(&sandbox, &tvm, &["--no-cache"]).code(3);
    tvm.set_reply(Reply {
        status: 500,
        body: r#"{"Code":"POLICY_ERROR","Message":"the policy for `prod` is invalid","RequestId":"r"}"#.to_owned(),
        delay: Duration::ZERO,
    });
    credentials(&sandbox, &tvm, &["--no-cache"]).code(1);
    tvm.set_reply(Reply {
        status: 403,
        body: r#"{"message":"Forbidden"}"#.to_owned(),
        delay: Duration::ZERO,
    });
    let out = credentials(&sandbox, &tvm, &["--no-cache"])
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("sentinel: error: the tvm answered http 403: Forbidden\nhint: "),
        "{stderr}"
    );
}

#[test]
fn invalid_input_exits_3_before_any_request() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    credentials(&sandbox, &tvm, &["--duration", "60"]).code(3);
    let out = sandbox
        .sentinel()
        .args([
            "credentials",
            "--profile",
            "bad/name",
            "--region",
            "us-east-1",
            "--tvm-url",
        ])
        .arg(&tvm.url)
        .assert()
        .code(3)
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("sentinel: error: profile `bad/name`")
    );
    let no_region = sandbox
        .sentinel()
        .args(["credentials", "--profile", "prod", "--tvm-url"])
        .arg(&tvm.url)
        .assert()
        .code(3)
        .get_output()
        .clone();
    insta::assert_snapshot!(
        "no_region",
        String::from_utf8_lossy(&no_region.stderr).replace(&tvm.url, "http://TVM")
    );
    assert_eq!(tvm.count(), 0);
}

#[test]
fn an_unreachable_tvm_hints_at_the_url() {
    let sandbox = Sandbox::new();
    let out = sandbox
        .sentinel()
        .args([
            "credentials",
            "--profile",
            "prod",
            "--region",
            "us-east-1",
            "--tvm-url",
            "http://127.0.0.1:9",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "sentinel: error: cannot reach the tvm at `http://127.0.0.1:9/?profile=prod`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("\nhint: check --tvm-url"), "{stderr}");
}

#[test]
fn a_recursive_aws_profile_fails_fast_without_calling_the_tvm() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    std::fs::write(
        sandbox.aws_config(),
        format!(
            "[profile prod]\ncredential_process = sentinel credentials --profile prod --tvm-url {} --region us-east-1\n",
            tvm.url
        ),
    )
    .unwrap();
    let out = sandbox
        .sentinel()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_PROFILE", "prod")
        .args([
            "credentials",
            "--profile",
            "prod",
            "--region",
            "us-east-1",
            "--tvm-url",
        ])
        .arg(&tvm.url)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .get_output()
        .clone();
    insta::assert_snapshot!("recursive_profile", String::from_utf8(out.stderr).unwrap());
    assert_eq!(tvm.count(), 0);
}

#[test]
fn credentials_refuse_to_run_under_the_depth_marker() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    let out = sandbox
        .sentinel()
        .env("SENTINEL_CREDENTIAL_PROCESS_DEPTH", "1")
        .args([
            "credentials",
            "--profile",
            "prod",
            "--region",
            "us-east-1",
            "--tvm-url",
        ])
        .arg(&tvm.url)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("`SENTINEL_CREDENTIAL_PROCESS_DEPTH` is set"),
        "{stderr}"
    );
    assert_eq!(tvm.count(), 0);
}

fn exec(sandbox: &Sandbox, tvm: &FakeTvm, script: &str) -> assert_cmd::assert::Assert {
    sandbox
        .sentinel()
        .env("AWS_PROFILE", "someone-else")
        .env("AWS_DEFAULT_PROFILE", "someone-else")
        .args([
            "exec",
            "--profile",
            "prod",
            "--region",
            "us-east-1",
            "--tvm-url",
        ])
        .arg(&tvm.url)
        .args(["--", "sh", "-c", script])
        .assert()
}

#[test]
fn exec_exports_the_credentials_and_removes_profiles() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    let out = exec(
        &sandbox,
        &tvm,
        "echo \"$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN $SENTINEL_SESSION_ID $SENTINEL_PROFILE ${AWS_PROFILE-unset} ${AWS_DEFAULT_PROFILE-unset} $SENTINEL_CREDENTIAL_PROCESS_DEPTH\"; echo \"$AWS_CREDENTIAL_EXPIRATION\"",
    )
    .success()
    .get_output()
    .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("ASIAFAKE1 secret-1 token-1 {:032x} prod unset unset 1", 1)
    );
    let expiration = lines.next().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(expiration).is_ok(),
        "{expiration}"
    );
}

#[test]
fn exec_exits_with_the_commands_status_or_128_plus_its_signal() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    exec(&sandbox, &tvm, "exit 7").code(7);
    exec(&sandbox, &tvm, "kill -TERM $$").code(143);
    assert_eq!(tvm.count(), 1, "exec shares the credential cache");
}

#[test]
fn exec_forwards_sigterm_to_the_command() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    let marker = sandbox.path().join("got-term");
    let ready = sandbox.path().join("ready");
    let script = format!(
        "trap 'touch {}; exit 5' TERM; touch {}; while true; do sleep 0.1; done",
        marker.display(),
        ready.display()
    );
    let mut child = sandbox
        .std_command()
        .args([
            "exec",
            "--profile",
            "prod",
            "--region",
            "us-east-1",
            "--tvm-url",
        ])
        .arg(&tvm.url)
        .args(["--", "sh", "-c", &script])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(std::time::Instant::now() < deadline, "child never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5));
    assert!(marker.exists());
}
