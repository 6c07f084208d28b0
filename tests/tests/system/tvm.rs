//! `sentinel-tvm serve` against moto: the vend path end to end with the real AWS SDK
//! (SSM, STS, DynamoDB), SigV4 from our own signer and from botocore's.

#![cfg(test)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use protocol::{ErrorBody, VendResponse};
use system_tests::{Moto, Venv, cargo_bin, free_port};

pub const ACCOUNT: &str = "123456789012";
pub const TABLE: &str = "sentinel-sessions";
pub const REGION: &str = "us-east-1";

/// A caller known to `serve` (one entry of the auth-keys file).
#[derive(Clone)]
pub struct Key {
    pub access_key_id: &'static str,
    pub secret_access_key: &'static str,
    pub arn: &'static str,
}

pub const ALICE: Key = Key {
    access_key_id: "AKIAALICE00000000001",
    secret_access_key: "alice-secret-key-0000000000000000000000a",
    arn: "arn:aws:iam::123456789012:user/eng/alice",
};
pub const MALLORY: Key = Key {
    access_key_id: "AKIAMALLORY000000001",
    secret_access_key: "mallory-secret-key-00000000000000000000m",
    arn: "arn:aws:iam::123456789012:user/mallory",
};

/// A member of the security team: the admin policy below lets them administer sessions.
pub const SECURITY: Key = Key {
    access_key_id: "AKIASECURITY00000001",
    secret_access_key: "security-secret-key-0000000000000000000s",
    arn: "arn:aws:iam::123456789012:user/security/sam",
};

/// A lead: an approver of the approval system tests' `prod` profile.
pub const LEAD: Key = Key {
    access_key_id: "AKIALEAD000000000001",
    secret_access_key: "lead-secret-key-000000000000000000000000",
    arn: "arn:aws:iam::123456789012:user/leads/lee",
};

/// alice again, through IAM Identity Center: another principal, the same user.
pub const ALICE_SSO: Key = Key {
    access_key_id: "AKIAALICESSO00000001",
    secret_access_key: "alice-sso-secret-key-0000000000000000000",
    arn: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Eng_0123abcd/alice",
};

/// `<root>/_admin`: the security team administers sessions, engineers do not.
pub const ADMIN_POLICY: &str = r#"version: "1"
rules:
  - name: security-team
    effect: allow
    conditions:
      principals: ["arn:aws:iam::123456789012:user/security/*"]
      actions: ["sessions:*"]
  - name: engineers-may-not
    effect: deny
    conditions:
      principals: ["arn:aws:iam::123456789012:user/eng/*"]
      actions: ["*"]
    reason: engineers do not administer sessions
"#;

pub const DEV_POLICY: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev
  session_tags: {team: payments}
rules:
  - name: no-mallory
    effect: deny
    conditions:
      users: [mallory]
    reason: mallory is not an engineer
  - name: engineers
    effect: allow
    conditions:
      principals: ["arn:aws:iam::123456789012:user/eng/*"]
    max_duration: 1h
    reason: engineers may use dev
"#;

const BROKEN_POLICY: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-broken\nrules:\n  - name: typo\n    effect: alow\n";

/// moto seeded with a protected role, policies in SSM and the session table.
pub async fn seed(moto: &Moto) {
    seed_with(&moto.sdk_config().await, "arn:aws:iam::123456789012:root").await;
}

/// [`seed`] through `config`, the protected role trusting `trusted` (moto in auth mode
/// compares the caller's ARN with the trust policy's principal literally).
pub async fn seed_with(config: &aws_config::SdkConfig, trusted: &str) {
    let iam = aws_sdk_iam::Client::new(config);
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": trusted},
        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]}]});
    iam.create_role()
        .role_name("SentinelProtected-dev")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let ssm = aws_sdk_ssm::Client::new(config);
    for (name, value) in [
        ("dev", DEV_POLICY),
        ("broken", BROKEN_POLICY),
        ("_admin", ADMIN_POLICY),
    ] {
        ssm.put_parameter()
            .name(format!("/sentinel/policies/{name}"))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send()
            .await
            .unwrap();
    }
    sessions::create_table(&aws_sdk_dynamodb::Client::new(config), TABLE)
        .await
        .unwrap();
}

/// Writes the `--auth-keys` file of alice, mallory and the security team into `dir`
/// (both `serve`s, the TVM's and the proxy's, read the same format).
pub fn auth_keys(dir: &std::path::Path) -> PathBuf {
    let keys: Vec<_> = [ALICE, MALLORY, SECURITY, LEAD, ALICE_SSO]
        .iter()
        .map(|k| {
            serde_json::json!({"access_key_id": k.access_key_id, "secret_access_key": k.secret_access_key,
                "arn": k.arn, "account_id": ACCOUNT})
        })
        .collect();
    let path = dir.join("auth-keys.json");
    std::fs::write(&path, serde_json::to_string(&keys).unwrap()).unwrap();
    path
}

/// A running `sentinel-tvm serve`, killed on drop.
pub struct Tvm {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Tvm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tvm {
    /// Starts `serve` with moto's environment plus `extra` variables.
    pub fn start(moto: &Moto, extra: &[(&str, &str)]) -> Tvm {
        Self::start_with_args(moto, &[], extra)
    }

    /// [`Tvm::start`] with more `serve` arguments (`--host`, `--account-id`).
    pub fn start_with_args(moto: &Moto, args: &[&str], extra: &[(&str, &str)]) -> Tvm {
        let dir = tempfile::tempdir().unwrap();
        let keys_path = auth_keys(dir.path());
        let port = free_port();
        let mut command = Command::new(cargo_bin("sentinel-tvm"));
        command
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--region",
                REGION,
            ])
            .arg("--auth-keys")
            .arg(&keys_path)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(moto.env())
            .env("SENTINEL_SESSION_TABLE", TABLE)
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        // serve prints one line on stderr once it listens.
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(
            first.contains("listening on"),
            "serve did not start: {first}"
        );
        std::thread::spawn(move || for _ in lines {});
        Tvm {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }
}

/// SigV4 headers for a request, computed with aws-sigv4 (service `execute-api`).
pub fn sign_headers(
    key: &Key,
    method: &str,
    url: &str,
    body: &[u8],
    at: SystemTime,
) -> Vec<(String, String)> {
    sign_headers_for("execute-api", key, method, url, body, at)
}

/// [`sign_headers`] for another service's scope (`lambda` for a Function URL).
pub fn sign_headers_for(
    service: &str,
    key: &Key,
    method: &str,
    url: &str,
    body: &[u8],
    at: SystemTime,
) -> Vec<(String, String)> {
    let host = url
        .split("://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let identity =
        Credentials::new(key.access_key_id, key.secret_access_key, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        [("host", host.as_str())].into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut headers: Vec<(String, String)> = instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    headers.push(("host".into(), host));
    headers
}

/// `request` with SigV4 headers for `method url body` at `at` (reqwest sets `host`).
fn with_signature(
    mut request: reqwest::RequestBuilder,
    key: &Key,
    method: &str,
    url: &str,
    body: &[u8],
    at: SystemTime,
) -> reqwest::RequestBuilder {
    for (name, value) in sign_headers(key, method, url, body, at) {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    request
}

/// What the test client calls itself; the session row must record it.
const USER_AGENT: &str = "system-tests/1 sentinel-test";

/// Sends a signed request; returns status and body.
pub async fn send(key: Option<&Key>, method: &str, url: &str, body: &[u8]) -> (u16, String) {
    let client = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .build()
        .unwrap();
    let mut request = client
        .request(method.parse().unwrap(), url)
        .body(body.to_vec());
    if let Some(key) = key {
        request = with_signature(request, key, method, url, body, SystemTime::now());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Sends `request` and expects SigV4's refusal: 403 `IAM_AUTH_REQUIRED`.
async fn expect_auth_required(request: reqwest::RequestBuilder) {
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(
        error_code(&response.text().await.unwrap()),
        "IAM_AUTH_REQUIRED"
    );
}

pub fn error_code(body: &str) -> String {
    let body: ErrorBody = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    body.code
}

pub async fn vend(tvm: &Tvm, key: &Key, profile: &str) -> (u16, String) {
    send(
        Some(key),
        "GET",
        &format!("{}/?profile={profile}", tvm.url),
        b"",
    )
    .await
}

#[tokio::test]
async fn signed_vend_returns_credentials_that_work_and_records_the_session() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);

    let (status, body) = vend(&tvm, &ALICE, "dev").await;
    assert_eq!(status, 200, "{body}");
    let vended: VendResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(vended.source_identity, "sentinel=alice");
    assert_eq!(vended.session_id.as_str().len(), 32);

    // The credentials work against the AWS stand-in and are the assumed role session.
    let config = moto.sdk_config().await;
    let sts_config = aws_sdk_sts::config::Builder::from(&config)
        .credentials_provider(Credentials::new(
            &vended.access_key_id,
            &vended.secret_access_key,
            Some(vended.session_token.clone()),
            None,
            "vended",
        ))
        .build();
    let who = aws_sdk_sts::Client::from_conf(sts_config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let arn = who.arn().unwrap();
    assert!(
        arn.ends_with(&format!("sentinel-{}", vended.session_id)),
        "{arn}"
    );
    assert!(
        arn.contains(":assumed-role/SentinelProtected-dev/"),
        "{arn}"
    );

    // The session row holds every docs/sessions.md attribute, with the right types.
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let item = dynamo
        .get_item()
        .table_name(TABLE)
        .key(
            "session_id",
            AttributeValue::S(vended.session_id.to_string()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("session row");
    let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let n = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).cloned();
    for name in [
        "session_id",
        "principal_arn",
        "account_id",
        "user",
        "profile",
        "role_arn",
        "source_identity",
        "access_key_id",
        "rule",
        "status",
        "issued_at",
        "expires_at",
        "source_ip",
        "user_agent",
        "request_id",
    ] {
        assert!(
            s(name).is_some(),
            "attribute `{name}` missing or not a string: {item:?}"
        );
    }
    for name in ["expires_at_epoch", "ttl"] {
        assert!(
            n(name).is_some(),
            "attribute `{name}` missing or not a number: {item:?}"
        );
    }
    assert_eq!(s("status").as_deref(), Some("active"));
    assert_eq!(s("user").as_deref(), Some("alice"));
    assert_eq!(s("rule").as_deref(), Some("engineers"));
    assert_eq!(s("access_key_id"), Some(vended.access_key_id.clone()));
    assert_eq!(s("principal_arn").as_deref(), Some(ALICE.arn));
    assert_eq!(s("source_ip").as_deref(), Some("127.0.0.1"));
    assert_eq!(s("user_agent").as_deref(), Some(USER_AGENT));
}

#[tokio::test]
async fn refusals_carry_their_spec_code_and_no_credentials() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);

    let cases = [
        (vend(&tvm, &MALLORY, "dev").await, 403, "POLICY_DENY"),
        (vend(&tvm, &ALICE, "nope").await, 404, "PROFILE_NOT_FOUND"),
        (vend(&tvm, &ALICE, "broken").await, 500, "POLICY_ERROR"),
        (
            send(None, "GET", &format!("{}/?profile=dev", tvm.url), b"").await,
            403,
            "IAM_AUTH_REQUIRED",
        ),
        (
            send(
                Some(&ALICE),
                "GET",
                &format!("{}/?profile=dev&duration=5", tvm.url),
                b"",
            )
            .await,
            400,
            "INVALID_DURATION",
        ),
    ];
    for ((status, body), want_status, want_code) in cases {
        assert_eq!(status, want_status, "{body}");
        assert_eq!(error_code(&body), want_code);
        assert!(
            !body.contains("AccessKeyId") && !body.contains("ASIA"),
            "{body}"
        );
    }
    // Nothing was recorded for any refusal.
    let dynamo = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let count = dynamo
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .count();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn tampered_requests_are_refused() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let url = format!("{}/?profile=dev", tvm.url);
    let client = reqwest::Client::new();

    // Signed for one query, sent with another.
    let request = with_signature(
        client.get(format!("{}/?profile=broken", tvm.url)),
        &ALICE,
        "GET",
        &url,
        b"",
        SystemTime::now(),
    );
    expect_auth_required(request).await;

    // A signature from ten minutes ago.
    let old = SystemTime::now() - Duration::from_secs(600);
    let request = with_signature(client.get(&url), &ALICE, "GET", &url, b"", old);
    expect_auth_required(request).await;

    // A body changed after signing.
    let post_url = format!("{}/", tvm.url);
    let signed_body = br#"{"profile":"dev"}"#;
    let request = with_signature(
        client.post(&post_url).body(r#"{"profile":"broken"}"#),
        &ALICE,
        "POST",
        &post_url,
        signed_body,
        SystemTime::now(),
    );
    expect_auth_required(request).await;

    // A correctly signed body over the size limit: refused, not read to the end.
    let huge = format!(r#"{{"profile":"dev","pad":"{}"}}"#, "x".repeat(64 * 1024));
    let request = with_signature(
        client.post(&post_url).body(huge.clone()),
        &ALICE,
        "POST",
        &post_url,
        huge.as_bytes(),
        SystemTime::now(),
    );
    expect_auth_required(request).await;

    // Unsigned requests for unknown paths are refused before any routing.
    let (status, body) = send(None, "GET", &format!("{}/admin", tvm.url), b"").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "IAM_AUTH_REQUIRED")
    );

    // An unknown key.
    let stranger = Key {
        access_key_id: "AKIASTRANGER00000001",
        secret_access_key: "stranger-secret-0000000000000000000000000",
        arn: "arn:aws:iam::123456789012:user/eng/stranger",
    };
    let (status, body) = vend(&tvm, &stranger, "dev").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "IAM_AUTH_REQUIRED")
    );
}

/// botocore's SigV4Auth: the request it signs for `service` with `key`, sent with
/// urllib; prints the status, then the body.
const BOTOCORE: &str = r#"
import sys, urllib.request
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, method, body, ak, sk, service = sys.argv[1:7]
request = AWSRequest(method=method, url=url, data=body.encode() if body else None,
                     headers={"Content-Type": "application/json"} if body else {})
SigV4Auth(Credentials(ak, sk), service, "us-east-1").add_auth(request)
prepared = request.prepare()
req = urllib.request.Request(prepared.url, data=prepared.body, method=method, headers=dict(prepared.headers))
try:
    with urllib.request.urlopen(req) as r:
        print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())
"#;

/// Sends `method url body` signed by botocore for `service` with `key`'s credentials.
pub fn botocore(
    key: &Key,
    service: &str,
    method: &str,
    url: &str,
    body: &str,
) -> std::process::Output {
    Command::new(Venv::ensure().join("python"))
        .args([
            "-c",
            BOTOCORE,
            url,
            method,
            body,
            key.access_key_id,
            key.secret_access_key,
            service,
        ])
        .output()
        .unwrap()
}

#[tokio::test]
async fn botocore_signed_requests_are_accepted() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    for (method, url, body) in [
        ("GET", format!("{}/?profile=dev&duration=900", tvm.url), ""),
        (
            "POST",
            format!("{}/", tvm.url),
            r#"{"profile": "dev", "duration": 1800}"#,
        ),
        ("GET", format!("{}/profiles", tvm.url), ""),
    ] {
        let output = botocore(&ALICE, "execute-api", method, &url, body);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with("200\n"),
            "{method} {url}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[tokio::test]
async fn unreachable_services_fail_closed_with_their_code() {
    let moto = Moto::start();
    seed(&moto).await;
    let closed = format!("http://127.0.0.1:{}", free_port());
    for (variable, code) in [
        ("AWS_ENDPOINT_URL_SSM", "POLICY_ERROR"),
        ("AWS_ENDPOINT_URL_STS", "CREDENTIAL_ERROR"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "SESSION_STORE_ERROR"),
    ] {
        // `--account-id`: serve would otherwise ask the closed STS for it at start.
        let tvm = Tvm::start_with_args(
            &moto,
            &["--account-id", ACCOUNT],
            &[(variable, closed.as_str()), ("AWS_MAX_ATTEMPTS", "1")],
        );
        let (status, body) = vend(&tvm, &ALICE, "dev").await;
        assert_eq!(status, 500, "{variable}: {body}");
        assert_eq!(error_code(&body), code, "{variable}");
        assert!(
            !body.contains("ASIA") && !body.contains("127.0.0.1"),
            "{body}"
        );
    }
}

/// A TCP listener on loopback that accepts connections and never answers: an AWS
/// endpoint that hangs. Its task (and every connection it holds) ends with the test's
/// runtime.
async fn silent_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    url
}

#[tokio::test]
async fn hanging_services_fail_closed_with_their_code_within_the_operation_timeout() {
    let moto = Moto::start();
    seed(&moto).await;
    let silent = silent_endpoint().await;
    // Generous: with the AWS timeouts the answer comes after about 1.5 s; without them
    // it never comes.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for (variable, code) in [
        ("AWS_ENDPOINT_URL_DYNAMODB", "SESSION_STORE_ERROR"),
        ("AWS_ENDPOINT_URL_SSM", "POLICY_ERROR"),
        ("AWS_ENDPOINT_URL_STS", "CREDENTIAL_ERROR"),
    ] {
        // `--account-id`: serve would otherwise ask the silent STS for it at start.
        let tvm = Tvm::start_with_args(
            &moto,
            &["--account-id", ACCOUNT],
            &[
                (variable, silent.as_str()),
                ("SENTINEL_AWS_OPERATION_TIMEOUT_MS", "1500"),
            ],
        );
        let url = format!("{}/?profile=dev", tvm.url);
        let request = with_signature(
            client.get(&url),
            &ALICE,
            "GET",
            &url,
            b"",
            SystemTime::now(),
        );
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{variable}: no answer from serve: {e}"));
        assert_eq!(response.status().as_u16(), 500, "{variable}");
        let body = response.text().await.unwrap();
        assert_eq!(error_code(&body), code, "{variable}: {body}");
    }
}

#[tokio::test]
async fn hundred_concurrent_vends_make_hundred_sessions() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let url = format!("{}/?profile=dev", tvm.url);
        tasks.spawn(async move { send(Some(&ALICE), "GET", &url, b"").await });
    }
    let mut ids = HashSet::new();
    while let Some(result) = tasks.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!(status, 200, "{body}");
        let vended: VendResponse = serde_json::from_str(&body).unwrap();
        ids.insert(vended.session_id.to_string());
    }
    assert_eq!(ids.len(), 100);

    let dynamo = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let mut rows = HashSet::new();
    let mut pages = dynamo.scan().table_name(TABLE).into_paginator().send();
    while let Some(page) = pages.next().await {
        for item in page.unwrap().items() {
            rows.insert(item["session_id"].as_s().unwrap().clone());
        }
    }
    assert_eq!(rows, ids);
}

#[tokio::test]
async fn profiles_lists_what_is_in_ssm() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let (status, body) = send(Some(&ALICE), "GET", &format!("{}/profiles", tvm.url), b"").await;
    assert_eq!(status, 200, "{body}");
    let body: protocol::ProfilesResponse = serde_json::from_str(&body).unwrap();
    let names: HashMap<_, _> = body
        .profiles
        .into_iter()
        .map(|p| (p.name.to_string(), p.policy_path))
        .collect();
    assert_eq!(
        names.get("dev").map(String::as_str),
        Some("/sentinel/policies/dev")
    );
    assert!(names.contains_key("broken"));
    assert_eq!(body.root, "/sentinel/policies");
}

/// The `serve` binary refuses to start on a bad setting and names it.
#[test]
fn bad_setting_stops_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let keys: PathBuf = dir.path().join("keys.json");
    std::fs::write(&keys, "[]").unwrap();
    let output = Command::new(cargo_bin("sentinel-tvm"))
        .args(["serve", "--region", REGION, "--listen", "127.0.0.1:0"])
        .arg("--auth-keys")
        .arg(&keys)
        .env("SENTINEL_MAX_DURATION", "forever")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SENTINEL_MAX_DURATION"), "{stderr}");
}
