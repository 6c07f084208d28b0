//! A local OIDC issuer for the tests at `http://127.0.0.1:<port><path>`: discovery at
//! `<path>/.well-known/openid-configuration`, its JWKS at `<path>/keys` (only the keys a
//! test publishes; `Cache-Control` as set), the requests it answered counted, and it can
//! go down. Keys and tokens come from joserfc (`oidc_mint.py`, an independent JOSE
//! implementation) in the project's virtualenv; a test writes the claims (real time: the
//! binaries under test read the clock). Start several for several issuers: each has its
//! own keys.

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
    /// Every key's public JWK by name (its kid, but for `stranger`).
    keys: BTreeMap<String, Value>,
    /// The keys the JWKS publishes, by name.
    published: Vec<String>,
    cache_control: Option<String>,
    issuer: String,
    /// The path the issuer is served under (`""` at the root).
    path: String,
}

/// A running issuer; stops when dropped.
pub struct Issuer {
    /// `http://127.0.0.1:<port><path>`: the `iss` of its tokens.
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
    /// [`Issuer::start_at`] the root.
    pub async fn start() -> Issuer {
        Self::start_at("").await
    }

    /// Generates keys `ec-1`, `ec-2` (P-256), `rsa-1` (RSA 2048, for RS256 and PS256) and
    /// `stranger` (P-256 with kid `ec-1`: a forger's, never published unless asked),
    /// publishes `ec-1` and `rsa-1`, and serves under `path` (`""` or `/...`).
    pub async fn start_at(path: &str) -> Issuer {
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
        let url = format!("http://127.0.0.1:{port}{path}");
        let state = Arc::new(Mutex::new(State {
            keys,
            published: vec!["ec-1".into(), "rsa-1".into()],
            cache_control: None,
            issuer: url.clone(),
            path: path.to_owned(),
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

    /// (discovery requests, JWKS requests) so far.
    pub fn requests(&self) -> (usize, usize) {
        (self.discovery_requests(), self.jwks_requests())
    }

    /// Publishes exactly these keys, by name, from now on (a rotation).
    pub fn publish(&self, names: &[&str]) {
        if let Ok(mut state) = self.state.lock() {
            state.published = names.iter().map(|k| (*k).to_owned()).collect();
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
        serde_json::from_value(self.run_mint(&json!(specs)))
            .unwrap_or_else(|e| panic!("tokens: {e}"))
    }

    /// Mints one token per spec of the object `{name: spec}` (see `oidc_mint.py`).
    pub fn mint_named(&self, specs: &Value) -> Minted {
        assert!(specs.is_object(), "{{name: spec}} expected: {specs}");
        Minted(
            serde_json::from_value(self.run_mint(specs)).unwrap_or_else(|e| panic!("tokens: {e}")),
        )
    }

    fn run_mint(&self, specs: &Value) -> Value {
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

    /// Claims issued now by this issuer for `aud`, lasting `lifetime` seconds, with
    /// `extra` [`merged`] in.
    pub fn claims(&self, sub: &str, aud: &str, lifetime: i64, extra: Value) -> Value {
        let now = now();
        merged(
            &json!({"iss": self.url, "sub": sub, "aud": aud,
                    "iat": now, "nbf": now, "exp": now + lifetime}),
            extra,
        )
    }
}

/// Tokens minted by name ([`Issuer::mint_named`]).
pub struct Minted(BTreeMap<String, String>);

impl Minted {
    /// The token minted as `name`.
    pub fn token(&self, name: &str) -> &str {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no token {name}"))
    }
}

/// `base` with the members of the object `changes` set (a null removes the claim).
pub fn merged(base: &Value, changes: Value) -> Value {
    let mut merged = base.clone();
    let (Some(claims), Value::Object(changes)) = (merged.as_object_mut(), changes) else {
        panic!("claims and changes must be objects: {base}");
    };
    for (name, value) in changes {
        if value.is_null() {
            claims.remove(&name);
        } else {
            claims.insert(name, value);
        }
    }
    merged
}

/// Seconds since the epoch.
pub fn now() -> i64 {
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
    let Ok(state) = state.lock() else {
        return status(500);
    };
    let is_keys = match request.uri().path().strip_prefix(state.path.as_str()) {
        Some("/.well-known/openid-configuration") => false,
        Some("/keys") => true,
        _ => return status(404),
    };
    if is_keys { jwks } else { discovery }.fetch_add(1, Ordering::SeqCst);
    if down.load(Ordering::SeqCst) {
        return status(503);
    }
    let (body, cache_control) = if is_keys {
        let keys: Vec<&Value> = state
            .published
            .iter()
            .filter_map(|kid| state.keys.get(kid))
            .collect();
        (json!({ "keys": keys }), state.cache_control.clone())
    } else {
        (
            json!({"issuer": state.issuer, "jwks_uri": format!("{}/keys", state.issuer),
                   "id_token_signing_alg_values_supported": ["ES256", "RS256", "PS256"]}),
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
