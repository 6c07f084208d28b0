//! `sentinel request|requests|approve|deny|breakglass`, and `credentials` on a profile
//! that needs approval, against a fake TVM.

// Always true in a test binary; it lets helpers unwrap as tests do (clippy.toml).
#![cfg(test)]

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use support::{FakeTvm, Reply, Sandbox, ok, vend_body};

const ID: &str = "9c1e0000000000000000000000000001";

fn reply(status: u16, body: String) -> Reply {
    Reply {
        status,
        body,
        delay: Duration::ZERO,
    }
}

/// A request as the TVM answers it, with `status` and the approvals of `approvers`.
fn request_body(status: &str, approvers: &[&str]) -> String {
    let approvals: Vec<_> = approvers
        .iter()
        .map(|a| {
            serde_json::json!({"approver": a, "principal_arn": format!("arn:aws:iam::111122223333:user/{a}"),
                "group": 0, "at": "2026-11-22T14:00:00Z"})
        })
        .collect();
    let mut body = serde_json::json!({
        "request_id": ID, "profile": "prod", "requester": "carol",
        "principal_arn": "arn:aws:iam::111122223333:user/carol", "reason": "CHG-1234 rotate keys",
        "duration_seconds": 3600, "status": status, "approvals": approvals,
        "created_at": "2026-11-22T13:50:00Z", "expires_at": "2026-11-23T13:50:00Z",
        "rule": "prod-changes", "version": 1,
    });
    if status == "approved" {
        body["approved_until"] = "2026-11-22T15:00:00Z".into();
    }
    if status == "denied" {
        body["closure"] = serde_json::json!({"by": "bob", "principal_arn": "arn:aws:iam::111122223333:user/bob",
            "reason": "not during the freeze", "at": "2026-11-22T14:00:00Z"});
    }
    body.to_string()
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({"Code": code, "Message": message, "RequestId": "req-7"}).to_string()
}

/// `sentinel --region us-east-1 --tvm-url URL ARGS`, with a short first poll.
fn sentinel(sandbox: &Sandbox, tvm: &FakeTvm, args: &[&str]) -> std::process::Command {
    let mut cmd = sandbox.std_command();
    // The global options first: `exec` passes everything after `--` on.
    cmd.args(["--region", "us-east-1", "--tvm-url", &tvm.url])
        .args(args)
        .env("SENTINEL_POLL_INTERVAL_MS", "20");
    cmd
}

fn run(sandbox: &Sandbox, tvm: &FakeTvm, args: &[&str]) -> std::process::Output {
    sentinel(sandbox, tvm, args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn blank_reasons_and_bad_ids_exit_3_before_any_request() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(reply(201, request_body("pending", &[])));
    for args in [
        &["request", "--profile", "prod", "--reason", "  "][..],
        &["request", "--profile", "bad/name", "--reason", "CHG-1"],
        &[
            "request",
            "--profile",
            "prod",
            "--reason",
            "CHG-1",
            "--timeout",
            "soon",
        ],
        &["deny", ID, "--reason", ""],
        &["approve", "not-an-id"],
        &["approve", ID, "--comment", " "],
        &["requests", "revoke", ID, "--reason", ""],
        &["requests", "list", "--limit", "0"],
        &["breakglass", "--profile", "prod", "--reason", ""],
        &["breakglass", "review", ID, "--notes", ""],
        &["breakglass"],
        &[
            "breakglass",
            "--profile",
            "prod",
            "--reason",
            "INC-1",
            "list",
        ],
    ] {
        let out = run(&sandbox, &tvm, args);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).starts_with("sentinel: error: "),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(tvm.count(), 0);
}

#[test]
fn a_request_prints_its_id_and_the_command_an_approver_runs() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(reply(201, request_body("pending", &[])));
    let out = run(
        &sandbox,
        &tvm,
        &[
            "request",
            "--profile",
            "prod",
            "--reason",
            "CHG-1234 rotate keys",
            "--duration",
            "1h",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "request {ID} is pending for profile prod: 1h of access once approved; it expires at 2026-11-23T13:50:00Z\nan approver of rule prod-changes runs: sentinel approve {ID}\n"
        )
    );
    let head = &tvm.requests()[0];
    assert!(head.starts_with("POST /requests HTTP/1.1\r\n"), "{head}");
    let json = run(
        &sandbox,
        &tvm,
        &[
            "request",
            "--profile",
            "prod",
            "--reason",
            "CHG-1234",
            "--json",
        ],
    );
    let body: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(body["request_id"], ID);
}

/// Starts `request --wait`, lets it poll twice, then answers `body` to its polls.
fn wait_for(body: String, extra: &[&str]) -> std::process::Output {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(reply(201, request_body("pending", &[])));
    let mut args = vec![
        "request",
        "--profile",
        "prod",
        "--reason",
        "CHG-1234",
        "--wait",
    ];
    args.extend_from_slice(extra);
    let child = sentinel(&sandbox, &tvm, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while tvm.count() < 3 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    tvm.set_reply(reply(200, body));
    let out = child.wait_with_output().unwrap();
    let heads = tvm.requests();
    assert!(
        heads[1].starts_with(&format!("GET /requests/{ID} HTTP/1.1\r\n")),
        "{}",
        heads[1]
    );
    out
}

#[test]
fn wait_ends_with_exit_0_and_what_to_run_once_approved() {
    let out = wait_for(request_body("approved", &["alice"]), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.ends_with(
            "approved by alice; run `sentinel credentials --profile prod` (or your AWS profile) now\n"
        ),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("waiting up to 30m"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn wait_with_json_prints_only_the_decided_request() {
    let out = wait_for(request_body("approved", &["alice"]), &["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["status"], "approved");
}

#[test]
fn wait_ends_with_exit_2_and_the_reason_when_denied() {
    let out = wait_for(request_body("denied", &[]), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).ends_with(&format!(
            "sentinel: error: request {ID} was denied by bob: not during the freeze\n"
        )),
        "{}",
        text(&out.stderr)
    );
    let expired = wait_for(request_body("expired", &[]), &[]);
    assert_eq!(expired.status.code(), Some(2));
}

#[test]
fn wait_gives_up_after_the_timeout_with_exit_1() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(reply(201, request_body("pending", &[])));
    let out = run(
        &sandbox,
        &tvm,
        &[
            "request",
            "--profile",
            "prod",
            "--reason",
            "CHG-1",
            "--wait",
            "--timeout",
            "1s",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "sentinel: error: request {ID} is still pending after 1s\nhint: "
        )),
        "{stderr}"
    );
    // 20 ms, then 1.5 times longer each time, within one second: a handful of polls.
    assert!((4..=12).contains(&tvm.count()), "{} polls", tvm.count());
}

#[test]
fn credentials_on_a_profile_that_needs_approval_exit_2_naming_the_command() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(reply(
        403,
        error_body(
            "APPROVAL_REQUIRED",
            "profile `prod` needs an approved request (rule `prod-changes`): run `sentinel request --profile prod --reason \"<why>\" --wait`",
        ),
    ));
    for command in [
        &["credentials", "--profile", "prod"][..],
        &["exec", "--profile", "prod", "--", "true"],
    ] {
        let out = run(&sandbox, &tvm, command);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        assert_eq!(
            text(&out.stderr),
            "sentinel: error: APPROVAL_REQUIRED: profile `prod` needs an approved request (request id req-7)\nhint: run `sentinel request --profile prod --reason \"<why>\" --wait`\n"
        );
    }
}

#[test]
fn approve_and_deny_say_where_the_request_stands() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(ok(request_body("approved", &["alice"])));
    let out = run(&sandbox, &tvm, &["approve", ID, "--comment", "ok"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("request {ID} approved for carol until 2026-11-22T15:00:00Z\n")
    );
    assert!(tvm.requests()[0].starts_with(&format!("POST /requests/{ID}/approve HTTP/1.1\r\n")));
    tvm.set_reply(ok(request_body("denied", &[])));
    let out = run(&sandbox, &tvm, &["deny", ID, "--reason", "freeze"]);
    assert_eq!(text(&out.stdout), format!("request {ID} denied\n"));
    tvm.set_reply(reply(
        403,
        error_body(
            "APPROVAL_DENY",
            "you cannot answer your own request; an approver must",
        ),
    ));
    let out = run(&sandbox, &tvm, &["approve", ID]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with("sentinel: error: APPROVAL_DENY: you cannot answer"));
    tvm.set_reply(reply(
        409,
        error_body("REQUEST_CONFLICT", "request is denied"),
    ));
    assert_eq!(run(&sandbox, &tvm, &["approve", ID]).status.code(), Some(3));
}

#[test]
fn requests_list_asks_for_the_filters_and_prints_a_table() {
    let sandbox = Sandbox::new();
    let page = format!(
        r#"{{"requests": [{}], "next": null}}"#,
        request_body("pending", &[])
    );
    let tvm = FakeTvm::start(ok(page));
    let out = run(
        &sandbox,
        &tvm,
        &[
            "requests",
            "list",
            "--mine",
            "--pending",
            "--profile",
            "prod",
            "--limit",
            "5",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let head = &tvm.requests()[0];
    assert!(
        head.starts_with(
            "GET /requests?limit=5&mine=true&status=pending&profile=prod HTTP/1.1\r\n"
        ),
        "{head}"
    );
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.starts_with("REQUEST "), "{stdout}");
    assert!(stdout.contains("carol      pending"), "{stdout}");
}

#[test]
fn requests_revoke_reports_the_revoked_sessions() {
    let sandbox = Sandbox::new();
    let answer = format!(
        r#"{{"request": {}, "sessions": {{"revoked": [], "aws_deny": {{}}}}}}"#,
        request_body("revoked", &[])
    );
    let tvm = FakeTvm::start(ok(answer));
    let out = run(
        &sandbox,
        &tvm,
        &["requests", "revoke", ID, "--reason", "done early"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("request {ID} revoked\n"));
    assert!(text(&out.stderr).contains("no active sessions were vended under request"));
}

#[test]
fn breakglass_prints_credential_process_json_and_a_loud_line() {
    let sandbox = Sandbox::new();
    let mut body: serde_json::Value = serde_json::from_str(&vend_body(
        "prod",
        Utc::now() + chrono::Duration::minutes(30),
        3,
    ))
    .unwrap();
    body["BreakGlassId"] = ID.into();
    let tvm = FakeTvm::start(ok(body.to_string()));
    let out = run(
        &sandbox,
        &tvm,
        &[
            "breakglass",
            "--profile",
            "prod",
            "--reason",
            "INC-42 database down",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "AccessKeyId",
            "Expiration",
            "SecretAccessKey",
            "SessionToken",
            "Version"
        ]
    );
    assert_eq!(doc["AccessKeyId"], "ASIAFAKE3");
    assert_eq!(
        text(&out.stderr),
        format!(
            "sentinel: break-glass opened: {ID}; this is recorded, notified and needs review\n"
        )
    );
    assert!(tvm.requests()[0].starts_with("POST /breakglass HTTP/1.1\r\n"));

    tvm.set_reply(reply(
        429,
        error_body(
            "COOLDOWN",
            "break-glass on profile `prod` is cooling down for you until 2026-11-22T07:00:00Z",
        ),
    ));
    let again = run(
        &sandbox,
        &tvm,
        &["breakglass", "--profile", "prod", "--reason", "INC-42"],
    );
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(text(&again.stderr).starts_with("sentinel: error: COOLDOWN: "));
    assert!(again.stdout.is_empty());
}

#[test]
fn breakglass_list_defaults_to_events_that_need_review() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(ok(r#"{"events": [], "next": null}"#.to_owned()));
    let out = run(&sandbox, &tvm, &["breakglass", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "no break-glass events\n");
    let out = run(&sandbox, &tvm, &["breakglass", "list", "--all"]);
    assert!(out.status.success());
    let heads = tvm.requests();
    assert!(
        heads[0].starts_with("GET /breakglass?limit=50&status=needs_review HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[1].starts_with("GET /breakglass?limit=50 HTTP/1.1\r\n"),
        "{}",
        heads[1]
    );
}
