//! A local OIDC issuer for the tests: discovery at `/.well-known/openid-configuration`,
//! its JWKS at `/keys` (only the keys a test publishes; `Cache-Control` as set), the
//! requests it answered counted, and it can go down. Keys and tokens come from joserfc
//! (`oidc_mint.py`, an independent JOSE implementation) in the project's virtualenv.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::venv::Venv;

const MINT: &str = include_str!("oidc_mint.py");

struct State {
    /// Every key's public JWK by kid.
    keys: BTreeMap<String, Value>,
    /// The kids the JWKS publishes.
    published: Vec<String>,
    cache_control: Option<String>,
    issuer: String,
}

/// A running issuer; stops when dropped.
pub struct Issuer {
    /// `http://127.0.0.1:<port>`: the `iss` of its tokens.
    pub url: String,
    state: Arc<Mutex<State>>,
    down: Arc<AtomicBool>,
    jwks_requests: Arc<AtomicUsize>,
    discovery_requests: Arc<AtomicUsize>,
    dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn python() -> PathBuf {
    Venv::ensure().join("python")
}

impl Issuer {
    /// Generates keys `ec-1`, `ec-2` (P-256) and `rsa-1` (RSA 2048), publishes `ec-1`
    /// and `rsa-1`, and serves.
    pub async fn start() -> Issuer {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        std::fs::write(dir.path().join("oidc_mint.py"), MINT)
            .unwrap_or_else(|e| panic!("write minter: {e}"));
        let out = Command::new(python())
            .arg(dir.path().join("oidc_mint.py"))
            .arg("init")
            .arg(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("python: {e}"));
        assert!(
            out.status.success(),
            "oidc_mint.py init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let keys: BTreeMap<String, Value> =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("keys: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"))
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State {
            keys,
            published: vec!["ec-1".into(), "rsa-1".into()],
            cache_control: None,
            issuer: url.clone(),
        }));
        let down = Arc::new(AtomicBool::new(false));
        let jwks_requests = Arc::new(AtomicUsize::new(0));
        let discovery_requests = Arc::new(AtomicUsize::new(0));
        let task = {
            let (state, down) = (Arc::clone(&state), Arc::clone(&down));
            let (jwks, discovery) = (Arc::clone(&jwks_requests), Arc::clone(&discovery_requests));
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (state, down) = (Arc::clone(&state), Arc::clone(&down));
                    let (jwks, discovery) = (Arc::clone(&jwks), Arc::clone(&discovery));
                    tokio::spawn(async move {
                        let service = service_fn(move |request: Request<Incoming>| {
                            let answer = serve(&request, &state, &down, &jwks, &discovery);
                            async move { Ok::<_, std::convert::Infallible>(answer) }
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
        };
        Issuer {
            url,
            state,
            down,
            jwks_requests,
            discovery_requests,
            dir,
            task,
        }
    }

    /// JWKS requests answered (or refused while down) so far.
    pub fn jwks_requests(&self) -> usize {
        self.jwks_requests.load(Ordering::SeqCst)
    }

    /// Discovery requests so far.
    pub fn discovery_requests(&self) -> usize {
        self.discovery_requests.load(Ordering::SeqCst)
    }

    /// Publishes exactly these kids from now on (a rotation).
    pub fn publish(&self, kids: &[&str]) {
        if let Ok(mut state) = self.state.lock() {
            state.published = kids.iter().map(|k| (*k).to_owned()).collect();
        }
    }

    /// The `Cache-Control` header of the JWKS.
    pub fn cache_control(&self, value: Option<&str>) {
        if let Ok(mut state) = self.state.lock() {
            state.cache_control = value.map(str::to_owned);
        }
    }

    /// While down, every request is answered 503.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Mints one token per spec (see `oidc_mint.py`).
    pub fn mint(&self, specs: &[Value]) -> Vec<String> {
        let mut child = Command::new(python())
            .arg(self.dir.path().join("oidc_mint.py"))
            .arg("mint")
            .arg(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("python: {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(&serde_json::to_vec(specs).unwrap_or_default())
                .unwrap_or_else(|e| panic!("stdin: {e}"));
        }
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("python: {e}"));
        assert!(
            out.status.success(),
            "oidc_mint.py mint: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("tokens: {e}"))
    }

    /// Claims issued now by this issuer for `aud`, lasting `lifetime` seconds, plus `extra`.
    pub fn claims(&self, sub: &str, aud: &str, lifetime: i64, extra: Value) -> Value {
        let now = chrono_now();
        let mut claims = json!({"iss": self.url, "sub": sub, "aud": aud,
                                "iat": now, "nbf": now, "exp": now + lifetime});
        if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
            claims.extend(extra);
        }
        claims
    }
}

/// Seconds since the epoch.
pub fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

fn serve(
    request: &Request<Incoming>,
    state: &Mutex<State>,
    down: &AtomicBool,
    jwks: &AtomicUsize,
    discovery: &AtomicUsize,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let counter = match path {
        "/.well-known/openid-configuration" => discovery,
        "/keys" => jwks,
        _ => return status(404),
    };
    counter.fetch_add(1, Ordering::SeqCst);
    if down.load(Ordering::SeqCst) {
        return status(503);
    }
    let Ok(state) = state.lock() else {
        return status(500);
    };
    let (body, cache_control) = if path == "/keys" {
        let keys: Vec<&Value> = state
            .published
            .iter()
            .filter_map(|kid| state.keys.get(kid))
            .collect();
        (json!({ "keys": keys }), state.cache_control.clone())
    } else {
        (
            json!({"issuer": state.issuer, "jwks_uri": format!("{}/keys", state.issuer)}),
            None,
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Some(value) = cache_control.and_then(|v| hyper::header::HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert("cache-control", value);
    }
    response
}

fn status(code: u16) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or_default();
    response
}
