//! `sentinel exec --refresh` against a fake TVM: the child's environment, the local
//! credentials endpoint's answers and refusals, and its lifetime.

// Always true in a test binary; it lets helpers unwrap as tests do (clippy.toml).
#![cfg(test)]

mod support;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use support::{FakeTvm, Reply, Sandbox, ok, vend_body};

const BOUND: Duration = Duration::from_secs(20);

fn vend(n: u32) -> Reply {
    ok(vend_body(
        "prod",
        Utc::now() + chrono::Duration::hours(1),
        n,
    ))
}

fn policy_deny() -> Reply {
    Reply {
        status: 403,
        body: r#"{"Code":"POLICY_DENY","Message":"denied by rule `weekend-freeze`","RequestId":"req-42"}"#
            .to_owned(),
        delay: Duration::ZERO,
    }
}

/// A running `sentinel exec --refresh` whose child wrote its environment to a file and
/// waits for `release` (or a signal).
struct Run {
    child: Child,
    dir: PathBuf,
    env: BTreeMap<String, String>,
    port: u16,
    token: String,
}

impl Run {
    fn start(sandbox: &Sandbox, tvm: &FakeTvm, extra: &[&str]) -> Self {
        let dir = sandbox.path().to_owned();
        let script = r#"env > "$DIR/env.tmp" && mv "$DIR/env.tmp" "$DIR/env"
while [ ! -e "$DIR/release" ]; do sleep 0.05; done"#;
        let child = sandbox
            .std_command()
            // Everything the SDKs would use before (or instead of) the endpoint.
            .env("AWS_SESSION_TOKEN", "old-token")
            .env("AWS_PROFILE", "someone-else")
            .env("AWS_DEFAULT_PROFILE", "someone-else")
            .env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/Other")
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token")
            .env(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/x",
            )
            .env(
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                "/nonexistent/token",
            )
            .env("DIR", &dir)
            .args([
                "exec",
                "--profile",
                "prod",
                "--region",
                "us-east-1",
                "--refresh",
                "--tvm-url",
            ])
            .arg(&tvm.url)
            .args(extra)
            .args(["--", "sh", "-c", script])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + BOUND;
        let path = dir.join("env");
        while !path.exists() {
            assert!(Instant::now() < deadline, "the child never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        let env: BTreeMap<String, String> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let uri = &env["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
        let port = uri
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected endpoint URI {uri}"))
            .parse()
            .unwrap();
        let token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"].clone();
        Self {
            child,
            dir,
            env,
            port,
            token,
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// GET / with the right host and token.
    fn fetch(&self) -> (u16, serde_json::Value) {
        let (status, body) = request(
            self.port,
            "GET",
            &[("Host", &self.host()), ("Authorization", &self.token)],
        );
        (status, serde_json::from_str(&body).unwrap())
    }

    /// Lets the child exit and waits for sentinel.
    fn release(mut self) -> std::process::ExitStatus {
        std::fs::write(self.dir.join("release"), "").unwrap();
        wait(&mut self.child)
    }
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "sentinel did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One raw HTTP/1.1 request (raw, so that any `Host` can be sent); status and body.
fn request(port: u16, method: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(BOUND)).unwrap();
    let mut head = format!("{method} / HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn connect_refused(port: u16) -> bool {
    matches!(
        TcpStream::connect(("127.0.0.1", port)),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused
    )
}

#[test]
fn the_child_gets_the_endpoint_and_no_static_keys() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(vend(1));
    let run = Run::start(&sandbox, &tvm, &[]);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ] {
        assert!(!run.env.contains_key(name), "the child sees {name}");
    }
    assert_eq!(run.env["SENTINEL_SESSION_ID"], format!("{:032x}", 1));
    assert_eq!(run.env["SENTINEL_PROFILE"], "prod");
    assert_eq!(run.token.len(), 64, "256 bits in hex");
    assert!(run.token.bytes().all(|c| c.is_ascii_hexdigit()));
    assert!(
        !run.env.values().any(|v| v.contains("secret-1")),
        "no secret in the environment"
    );

    let (status, doc) = run.fetch();
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["AccessKeyId"], "ASIAFAKE1");
    assert_eq!(doc["SecretAccessKey"], "secret-1");
    assert_eq!(doc["Token"], "token-1");
    assert_eq!(
        doc["RoleArn"],
        "arn:aws:iam::111122223333:role/SentinelProtected-prod"
    );
    assert!(
        doc["Expiration"]
            .as_str()
            .is_some_and(|e| chrono::DateTime::parse_from_rfc3339(e).is_ok()),
        "{doc}"
    );
    assert_eq!(
        tvm.count(),
        1,
        "fresh credentials are served from the cache without a TVM call"
    );

    let port = run.port;
    assert_eq!(run.release().code(), Some(0));
    assert!(
        connect_refused(port),
        "the endpoint outlived the child on port {port}"
    );
}

#[test]
fn requests_without_the_token_or_from_a_browser_are_refused() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(vend(1));
    let run = Run::start(&sandbox, &tvm, &[]);
    let host = run.host();
    let token = run.token.as_str();
    let wrong = "0".repeat(64);
    let evil_host = format!("evil.example:{}", run.port);
    let auth = ("Authorization", token);
    let cases = [
        ("no token", "GET", vec![("Host", host.as_str())], 401),
        (
            "wrong token",
            "GET",
            vec![("Host", &host), ("Authorization", &wrong)],
            401,
        ),
        (
            "browser origin",
            "GET",
            vec![("Host", &host), auth, ("Origin", "https://evil.example")],
            403,
        ),
        (
            "browser referer",
            "GET",
            vec![("Host", &host), auth, ("Referer", "https://evil.example/a")],
            403,
        ),
        ("rebound host", "GET", vec![("Host", &evil_host), auth], 403),
        ("another method", "POST", vec![("Host", &host), auth], 405),
        (
            "a body",
            "GET",
            vec![("Host", &host), auth, ("Content-Length", "100000")],
            400,
        ),
    ];
    for (what, method, headers, want) in cases {
        let (status, body) = request(run.port, method, &headers);
        assert_eq!(status, want, "{what}: {body}");
        assert!(
            !body.contains("ASIA") && !body.contains("secret"),
            "{what}: {body}"
        );
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(error["code"].is_string(), "{what}: {body}");
    }
    // The right request still works after the refusals.
    assert_eq!(run.fetch().0, 200);
    assert_eq!(run.release().code(), Some(0));
}

#[test]
fn a_denial_is_answered_and_never_cached() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(vend(1));
    // Wider than the credentials' hour: every request vends anew.
    let run = Run::start(&sandbox, &tvm, &["--refresh-window", "2h"]);
    assert_eq!(tvm.count(), 1);

    tvm.set_reply(policy_deny());
    for attempt in 1..=2 {
        let (status, doc) = run.fetch();
        assert_eq!(status, 403, "{doc}");
        assert_eq!(doc["code"], "DENIED");
        assert!(
            doc["message"]
                .as_str()
                .is_some_and(|m| m.contains("POLICY_DENY") && m.contains("weekend-freeze")),
            "{doc}"
        );
        assert_eq!(tvm.count(), 1 + attempt, "each request asks the TVM again");
    }

    tvm.set_reply(vend(2));
    let (status, doc) = run.fetch();
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["AccessKeyId"], "ASIAFAKE2");
    assert_eq!(tvm.count(), 4);
    assert_eq!(
        run.env["SENTINEL_SESSION_ID"],
        format!("{:032x}", 1),
        "the session the command started with"
    );
    assert_eq!(run.release().code(), Some(0));
}

#[test]
fn the_endpoint_is_gone_when_a_signal_ends_the_command() {
    let sandbox = Sandbox::new();
    let tvm = FakeTvm::start(vend(1));
    let mut run = Run::start(&sandbox, &tvm, &[]);
    assert_eq!(run.fetch().0, 200);
    let pid = rustix::process::Pid::from_raw(i32::try_from(run.child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = wait(&mut run.child);
    assert_eq!(
        status.code(),
        Some(143),
        "the forwarded SIGTERM ended the command"
    );
    assert!(connect_refused(run.port));
}
