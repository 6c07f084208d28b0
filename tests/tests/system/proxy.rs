//! `sentinel-proxy serve` against moto (SSM: the proxy's policy, the upstream's
//! SecureString credential) and a local upstream that records what it receives: what is
//! forwarded, what never reaches the upstream, and how its failures come back. Clients:
//! our aws-sigv4 signer, botocore's SigV4Auth and curl's `--aws-sigv4`, all for service
//! `lambda` as a Function URL wants.
//!
//! The tests run on a multi-threaded runtime: the recording upstream runs in it while
//! the test blocks on child processes (python, curl) and polls for log lines.

#![cfg(test)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use system_tests::{Moto, cargo_bin, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::tvm::{
    ACCOUNT, ALICE, Key, MALLORY, REGION, SECURITY, auth_keys, botocore, error_code,
    sign_headers_for,
};

pub const POLICY_PARAMETER: &str = "/sentinel/proxy/policy";
pub const TOKEN_PARAMETER: &str = "/sentinel/proxy/upstream-token";
pub const UPSTREAM_TOKEN: &str = "Bearer backend-admin-jwt";

/// The proxy's policy: mallory never; engineers may call everything the allow-list
/// admits; the security team may only read.
pub const PROXY_POLICY: &str = r#"version: "1"
rules:
  - name: no-mallory
    effect: deny
    conditions:
      users: [mallory]
    reason: mallory may not use the admin API
  - name: engineers
    effect: allow
    conditions:
      principals: ["arn:aws:iam::123456789012:user/eng/*"]
  - name: security-reads
    effect: allow
    conditions:
      principals: ["arn:aws:iam::123456789012:user/security/*"]
      routes: ["GET /v1/*"]
"#;

const ROUTES: &str = "GET /v1/*, POST /v1/orders";

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: HashMap<String, Vec<String>>,
    pub body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// A local upstream that records every request: `/api/v1/slow` answers after 5 s,
/// `/api/v1/redirect` redirects to another host, everything else answers 201 with
/// what it saw.
pub struct Upstream {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    pub async fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let record = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let record = Arc::clone(&record);
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let record = Arc::clone(&record);
                        async move { Ok::<_, std::convert::Infallible>(answer(request, &record).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Upstream { port, seen, task }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
}

async fn answer(request: Request<Incoming>, record: &Mutex<Vec<Seen>>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let mut headers: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in &parts.headers {
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(value.to_str().unwrap_or("<binary>").to_owned());
    }
    let uri = parts.uri.to_string();
    record.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        uri: uri.clone(),
        headers,
        body,
    });
    match parts.uri.path() {
        "/api/v1/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Response::new(Full::new(Bytes::from_static(b"late")))
        }
        "/api/v1/redirect" => Response::builder()
            .status(302)
            .header("location", "http://evil.example/steal")
            .body(Full::new(Bytes::new()))
            .unwrap(),
        _ => Response::builder()
            .status(201)
            .header("x-upstream", "recorder")
            .header("content-type", "text/plain")
            .body(Full::new(Bytes::from(format!(
                "upstream saw {} {uri}",
                parts.method
            ))))
            .unwrap(),
    }
}

/// moto with the proxy's policy (String) and the upstream's credential (SecureString).
pub async fn seed_proxy(moto: &Moto) {
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    for (name, value, kind) in [
        (
            POLICY_PARAMETER,
            PROXY_POLICY,
            aws_sdk_ssm::types::ParameterType::String,
        ),
        (
            TOKEN_PARAMETER,
            UPSTREAM_TOKEN,
            aws_sdk_ssm::types::ParameterType::SecureString,
        ),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(kind)
            .send()
            .await
            .unwrap();
    }
}

/// A running `sentinel-proxy serve`, killed on drop; its stdout (the decision lines)
/// collected.
pub struct Proxy {
    child: Child,
    pub port: u16,
    pub url: String,
    lines: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    pub fn start(moto: &Moto, upstream: &str, extra: &[&str]) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let keys_path = auth_keys(dir.path());
        let port = free_port();
        let mut child = Command::new(cargo_bin("sentinel-proxy"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--region", REGION, "--account-id", ACCOUNT])
            .arg("--auth-keys")
            .arg(&keys_path)
            .args(["--upstream", upstream, "--routes", ROUTES])
            .args(["--policy-parameter", POLICY_PARAMETER])
            .args(["--upstream-auth-parameter", TOKEN_PARAMETER])
            .args(["--max-body", "1024", "--timeout-ms", "1000"])
            .args(["--forward-headers", "x-tenant"])
            .args(extra)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(moto.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut errors = BufReader::new(stderr).lines();
        let first = errors.next().and_then(Result::ok).unwrap_or_default();
        assert!(
            first.contains("listening on"),
            "proxy did not start: {first}"
        );
        std::thread::spawn(move || for _ in errors {});
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&lines);
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Proxy {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            lines,
            _dir: dir,
        }
    }

    /// The decision lines, once there are at least `n` (polled, at most 10 s).
    fn decisions(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.lines.lock().unwrap().clone();
            if lines.len() >= n || Instant::now() > deadline {
                return lines
                    .iter()
                    .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                    .collect();
            }
            drop(lines);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A request to the proxy, signed for service `lambda` by `key` (or unsigned).
async fn call(
    proxy: &Proxy,
    key: Option<&Key>,
    method: &str,
    path: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> (u16, HashMap<String, String>, String) {
    let url = format!("{}{path}", proxy.url);
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), &url)
        .body(body.to_vec());
    if let Some(key) = key {
        for (name, value) in sign_headers_for("lambda", key, method, &url, body, SystemTime::now())
        {
            if name != "host" {
                request = request.header(name, value);
            }
        }
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (status, headers, response.text().await.unwrap())
}

/// Writes one raw HTTP/1.1 request (target and `Host` as given, SigV4 for `sign_url`)
/// and returns the status and body.
async fn raw(proxy: &Proxy, target: &str, host: &str, sign_url: &str) -> (u16, String) {
    let mut request = format!("GET {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n");
    for (name, value) in sign_headers_for("lambda", &ALICE, "GET", sign_url, b"", SystemTime::now())
    {
        if name != "host" {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    request.push_str("\r\n");
    let mut stream = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_signed_call_is_forwarded_with_the_injected_credential_only() {
    let moto = Moto::start();
    seed_proxy(&moto).await;
    let upstream = Upstream::start().await;
    let proxy = Proxy::start(&moto, &upstream.base(), &[]);

    let (status, headers, body) = call(
        &proxy,
        Some(&ALICE),
        "POST",
        "/v1/orders?dry_run=true",
        br#"{"sku":"A-1"}"#,
        &[
            ("content-type", "application/json"),
            (
                "x-sentinel-caller",
                "arn:aws:iam::123456789012:user/security/sam",
            ),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-http-method-override", "DELETE"),
            ("x-tenant", "t-7"),
            ("x-not-listed", "stays behind"),
            ("x-request-id", "r-42"),
        ],
    )
    .await;
    // The upstream's own status, headers and body come back.
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, "upstream saw POST /api/v1/orders?dry_run=true");
    assert_eq!(
        headers.get("x-upstream").map(String::as_str),
        Some("recorder")
    );

    assert_eq!(upstream.count(), 1);
    let seen = upstream.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.uri, "/api/v1/orders?dry_run=true");
    assert_eq!(seen.body, br#"{"sku":"A-1"}"#);
    // The SecureString from SSM, decrypted, is the only Authorization upstream.
    assert_eq!(seen.headers["authorization"], [UPSTREAM_TOKEN]);
    // The verified caller, not the one the client claimed.
    assert_eq!(seen.headers["x-sentinel-caller"], [ALICE.arn]);
    assert_eq!(
        seen.header("host"),
        Some(format!("127.0.0.1:{}", upstream.port).as_str())
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("x-request-id"), Some("r-42"));
    // Configured with --forward-headers x-tenant.
    assert_eq!(seen.header("x-tenant"), Some("t-7"));
    for name in seen.headers.keys() {
        assert!(
            !name.starts_with("x-amz-")
                && !["x-forwarded-for", "x-http-method-override", "x-not-listed"]
                    .contains(&name.as_str()),
            "{name} reached the upstream: {seen:?}"
        );
    }

    let decisions = proxy.decisions(1);
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    let line = &decisions[0];
    assert_eq!(line["event"], "proxy");
    assert_eq!(line["effect"], "allow");
    assert_eq!(line["caller_arn"], ALICE.arn);
    assert_eq!(line["user"], "alice");
    assert_eq!(line["rule"], "engineers");
    assert_eq!(line["route"], "POST /v1/orders");
    assert_eq!(line["upstream_status"], 201);
    assert!(!line.to_string().contains("backend-admin-jwt"), "{line}");
}

/// What, by whom, method, path, body; the expected status and code.
type Case<'a> = (
    &'a str,
    Option<&'a Key>,
    &'a str,
    &'a str,
    &'a [u8],
    u16,
    &'a str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_never_reach_the_upstream() {
    let moto = Moto::start();
    seed_proxy(&moto).await;
    let upstream = Upstream::start().await;
    let proxy = Proxy::start(&moto, &upstream.base(), &[]);
    let wrong_secret = Key {
        secret_access_key: "not-alices-secret-000000000000000000000",
        ..ALICE
    };
    let big = vec![b'x'; 2048];
    let cases: Vec<Case<'_>> = vec![
        (
            "unsigned",
            None,
            "GET",
            "/v1/rates",
            b"",
            403,
            "IAM_AUTH_REQUIRED",
        ),
        (
            "badly signed",
            Some(&wrong_secret),
            "GET",
            "/v1/rates",
            b"",
            403,
            "IAM_AUTH_REQUIRED",
        ),
        (
            "denied principal",
            Some(&MALLORY),
            "GET",
            "/v1/rates",
            b"",
            403,
            "POLICY_DENY",
        ),
        (
            "route outside the allow-list",
            Some(&ALICE),
            "GET",
            "/admin/users",
            b"",
            404,
            "ROUTE_NOT_ALLOWED",
        ),
        (
            "method outside the allow-list",
            Some(&ALICE),
            "DELETE",
            "/v1/orders",
            b"",
            404,
            "ROUTE_NOT_ALLOWED",
        ),
        (
            "route outside the caller's rule",
            Some(&SECURITY),
            "POST",
            "/v1/orders",
            b"{}",
            403,
            "POLICY_DENY",
        ),
        (
            "oversized body",
            Some(&ALICE),
            "POST",
            "/v1/orders",
            &big,
            413,
            "BODY_TOO_LARGE",
        ),
    ];
    let mut sent = 0;
    for (what, key, method, path, body, status, code) in cases {
        let (got, _, text) = call(&proxy, key, method, path, body, &[]).await;
        sent += 1;
        assert_eq!(
            (got, error_code(&text).as_str()),
            (status, code),
            "{what}: {text}"
        );
    }

    let base = format!("http://127.0.0.1:{}", proxy.port);
    let host = format!("127.0.0.1:{}", proxy.port);
    let upstream_url = format!("http://127.0.0.1:{}/api/v1/rates", upstream.port);
    let raw_cases = [
        // Absolute-form naming the upstream (or any host): never taken from the request.
        (
            "absolute-form",
            upstream_url.clone(),
            host.clone(),
            format!("{base}/api/v1/rates"),
            400,
            "INVALID_REQUEST",
        ),
        // Signed for, and sent with, another Host: refused as signed for someone else.
        (
            "Host spoofing",
            "/v1/rates".to_owned(),
            "evil.example".to_owned(),
            "http://evil.example/v1/rates".to_owned(),
            403,
            "IAM_AUTH_REQUIRED",
        ),
        // Past the allow-list by a dot segment, plain and percent-encoded.
        (
            "dot segment",
            "/v1/../admin/users".to_owned(),
            host.clone(),
            format!("{base}/v1/../admin/users"),
            400,
            "INVALID_REQUEST",
        ),
        (
            "encoded dot segment",
            "/v1/%2e%2e/admin/users".to_owned(),
            host.clone(),
            format!("{base}/v1/%2e%2e/admin/users"),
            400,
            "INVALID_REQUEST",
        ),
        (
            "servlet parameter",
            "/v1/rates/..;/admin".to_owned(),
            host.clone(),
            format!("{base}/v1/rates/..;/admin"),
            400,
            "INVALID_REQUEST",
        ),
    ];
    for (what, target, host, sign_url, status, code) in raw_cases {
        let (got, body) = raw(&proxy, &target, &host, &sign_url).await;
        sent += 1;
        assert_eq!(
            (got, error_code(&body).as_str()),
            (status, code),
            "{what}: {body}"
        );
    }
    assert_eq!(upstream.count(), 0, "{:?}", upstream.seen.lock().unwrap());

    // One decision line per request, every one a refusal with its code.
    let decisions = proxy.decisions(sent);
    assert_eq!(decisions.len(), sent);
    for line in &decisions {
        assert_ne!(line["effect"], "allow", "{line}");
        assert!(line["code"].is_string(), "{line}");
    }
    // The control: the same proxy forwards an allowed call.
    let (status, _, body) = call(&proxy, Some(&SECURITY), "GET", "/v1/rates", b"", &[]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(upstream.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_is_down_slow_or_redirecting_elsewhere_is_502_or_504() {
    let moto = Moto::start();
    seed_proxy(&moto).await;
    let upstream = Upstream::start().await;
    let proxy = Proxy::start(&moto, &upstream.base(), &[]);
    let (status, _, body) = call(&proxy, Some(&ALICE), "GET", "/v1/slow", b"", &[]).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (504, "UPSTREAM_TIMEOUT"),
        "{body}"
    );
    let (status, _, body) = call(&proxy, Some(&ALICE), "GET", "/v1/redirect", b"", &[]).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (502, "UPSTREAM_ERROR"),
        "{body}"
    );
    assert!(!body.contains("evil.example"), "{body}");

    let down = Proxy::start(&moto, &format!("http://127.0.0.1:{}/api", free_port()), &[]);
    let (status, _, body) = call(&down, Some(&ALICE), "GET", "/v1/rates", b"", &[]).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (502, "UPSTREAM_ERROR"),
        "{body}"
    );
    let line = &down.decisions(1)[0];
    assert_eq!(line["effect"], "error");
    assert!(
        line["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Connection refused"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_policy_the_proxy_fails_closed() {
    let moto = Moto::start();
    // No parameters at all: no policy, no credential.
    let upstream = Upstream::start().await;
    let proxy = Proxy::start(&moto, &upstream.base(), &[]);
    let (status, _, body) = call(&proxy, Some(&ALICE), "GET", "/v1/rates", b"", &[]).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (500, "CONFIG_ERROR"),
        "{body}"
    );
    assert_eq!(upstream.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_and_curl_sign_for_lambda_and_are_forwarded() {
    let moto = Moto::start();
    seed_proxy(&moto).await;
    let upstream = Upstream::start().await;
    let proxy = Proxy::start(&moto, &upstream.base(), &[]);
    for (method, path, body) in [
        ("GET", "/v1/rates?from=EUR&to=USD", ""),
        ("POST", "/v1/orders", r#"{"sku": "B-2"}"#),
    ] {
        let url = format!("{}{path}", proxy.url);
        let output = botocore(&ALICE, "lambda", method, &url, body);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with("201\n")
                && stdout.contains(&format!("upstream saw {method} /api{path}")),
            "{method} {url}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(upstream.last().body, body.as_bytes());
    }

    // curl's own SigV4 (provider aws:amz, region, service lambda).
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--write-out", "\n%{http_code}"])
        .args(["--aws-sigv4", &format!("aws:amz:{REGION}:lambda")])
        .args([
            "--user",
            &format!("{}:{}", ALICE.access_key_id, ALICE.secret_access_key),
        ])
        .arg(format!("{}/v1/rates/latest", proxy.url))
        .output()
        .expect("curl is needed for this test (it is part of the base system)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.ends_with("\n201") && stdout.contains("upstream saw GET /api/v1/rates/latest"),
        "curl: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(upstream.last().headers["authorization"], [UPSTREAM_TOKEN]);
    // The same curl with another's secret is refused before the upstream.
    let before = upstream.count();
    let output = Command::new("curl")
        .args(["--silent", "--write-out", "\n%{http_code}"])
        .args(["--aws-sigv4", &format!("aws:amz:{REGION}:lambda")])
        .args(["--user", &format!("{}:wrong-secret", ALICE.access_key_id)])
        .arg(format!("{}/v1/rates/latest", proxy.url))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("\n403"));
    assert_eq!(upstream.count(), before);
}

/// The Lambda build's loop: a saved Function URL event (the caller in
/// `requestContext.authorizer.iam`, the body base64) through the real binary booted
/// against a local Runtime API, moto's SSM and the recording upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_answers_a_function_url_event_through_the_upstream() {
    use crate::lambda_binaries::{answer, boot, saved_event};
    use system_tests::runtime_api::RuntimeApi;

    let moto = Moto::start();
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    // The runtime API invokes a function of account 111122223333, the event's caller's.
    let policy = "version: \"1\"\nrules:\n  - name: payments-task\n    effect: allow\n    conditions:\n      principals: [\"arn:aws:sts::111122223333:assumed-role/payments-task/*\"]\n      routes: [\"POST /v1/orders\"]\n";
    for (name, value) in [
        (POLICY_PARAMETER, policy),
        (TOKEN_PARAMETER, UPSTREAM_TOKEN),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }
    let upstream = Upstream::start().await;
    let mut runtime = RuntimeApi::start().await;
    let base = upstream.base();
    let _proxy = boot(
        "sentinel-proxy",
        &runtime,
        &moto,
        &[
            ("SENTINEL_PROXY_UPSTREAM", base.as_str()),
            ("SENTINEL_PROXY_ROUTES", ROUTES),
            ("SENTINEL_PROXY_POLICY_PARAMETER", POLICY_PARAMETER),
            ("SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER", TOKEN_PARAMETER),
        ],
    );
    let event = saved_event("proxy", "function-url-proxy.json");
    let response = answer(&mut runtime, "p-1", event.clone()).await;
    assert_eq!(response["statusCode"], 201, "{response}");
    let body = response["body"].as_str().unwrap_or_default();
    let body = if response["isBase64Encoded"] == true {
        let bytes = aws_smithy_types::base64::decode(body).unwrap();
        String::from_utf8(bytes).unwrap()
    } else {
        body.to_owned()
    };
    assert_eq!(body, "upstream saw POST /api/v1/orders?dry_run=true");
    let seen = upstream.last();
    assert_eq!(seen.body, br#"{"sku":"A-1"}"#);
    assert_eq!(seen.headers["authorization"], [UPSTREAM_TOKEN]);
    assert_eq!(
        seen.headers["x-sentinel-caller"],
        ["arn:aws:sts::111122223333:assumed-role/payments-task/task-1"]
    );
    for name in seen.headers.keys() {
        assert!(
            !name.starts_with("x-amz") && !name.starts_with("x-forwarded-"),
            "{name} reached the upstream"
        );
    }

    // A route the rule does not cover, and an event without an IAM caller.
    let mut other = event.clone();
    other["rawPath"] = "/v1/rates".into();
    other["requestContext"]["http"]["method"] = "GET".into();
    let denied = answer(&mut runtime, "p-2", other).await;
    assert_eq!(denied["statusCode"], 403, "{denied}");
    let mut anonymous = event;
    anonymous["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let refused = answer(&mut runtime, "p-3", anonymous).await;
    assert_eq!(refused["statusCode"], 403, "{refused}");
    assert_eq!(upstream.count(), 1);
}
