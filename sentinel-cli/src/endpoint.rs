//! The local credentials endpoint of `sentinel exec --refresh` (docs/cli.md, "Long runs"):
//! the AWS SDKs' container credentials provider reads it through
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN`, and each
//! request is answered from a [`Source`] that re-vends when the credentials near expiry.
//!
//! It is not a general HTTP server: it answers one path to one client (the command `exec`
//! runs) and refuses everything else. Every process of the user can reach a loopback
//! port, and so can a web page through the browser, so a request must:
//!
//! - carry the random 256-bit token (compared in constant time), else 401;
//! - carry no browser header (`Origin`, `Referer`, `Sec-Fetch-*`), else 403;
//! - name `127.0.0.1:<port>` as its `Host` (a DNS-rebinding page names its own), else 403;
//! - be a `GET` of the path without a body, within a small head and in time.
//!
//! ```no_run
//! # async fn example() -> Result<(), sentinel_cli::failure::Failure> {
//! use sentinel_cli::endpoint::Endpoint;
//!
//! let endpoint = Endpoint::bind().await?;
//! println!("AWS_CONTAINER_CREDENTIALS_FULL_URI={}", endpoint.url());
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap,
    HeaderValue, ORIGIN, REFERER, TRANSFER_ENCODING,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::{TokioIo, TokioTimer};
use protocol::{VendResponse, wire_time};
use serde::Serialize;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::failure::{ExitKind, Failure};

/// The variable that tells the SDKs where the endpoint is.
pub const FULL_URI_VAR: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// The variable holding the token the SDKs send as `Authorization`.
pub const TOKEN_VAR: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";

/// The only path served.
const PATH: &str = "/";
/// A request's head must arrive within this after the connection opens.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection (one request: keep-alive is off) ends after this, answered or not. Longer
/// than a TVM call may take (30 s), so a slow vend is still answered.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(45);
/// hyper's smallest read buffer: the whole head must fit in it.
const MAX_HEAD_BYTES: usize = 8192;
/// Headers a request may carry; SDKs send about five.
const MAX_HEADERS: usize = 32;
/// Connections served at once; more wait in the listener's queue.
const MAX_CONNECTIONS: usize = 16;

/// Where the child's credentials come from on each request.
pub trait Source: Send + Sync + 'static {
    /// Credentials with more than the refresh window left, vending anew if needed. A
    /// failure is answered, never remembered: the next request asks again.
    fn credentials(&self) -> impl Future<Output = Result<VendResponse, Failure>> + Send;
}

/// The random token a request must present. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// 256 bits from the OS, as 64 hex digits.
    fn generate() -> Result<Self, Failure> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Failure::error(format!("cannot make a random token: {e}")))?;
        Ok(Self(hex::encode(bytes)))
    }

    /// The value for [`TOKEN_VAR`].
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SECURITY: constant time in the presented value, so its timing does not reveal how
    /// much of the token a guess got right.
    fn matches(&self, presented: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(presented).into()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A bound, not yet serving, endpoint: the port is known before the child starts.
#[derive(Debug)]
pub struct Endpoint {
    listener: TcpListener,
    gate: Gate,
}

impl Endpoint {
    /// Binds a random port on 127.0.0.1 and draws the token.
    pub async fn bind() -> Result<Self, Failure> {
        // SECURITY: loopback only; never a wildcard address.
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .map_err(|e| Failure::error(format!("cannot open the credentials endpoint: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Failure::error(format!("cannot open the credentials endpoint: {e}")))?
            .port();
        Ok(Self {
            listener,
            gate: Gate {
                host: format!("127.0.0.1:{port}"),
                token: Token::generate()?,
            },
        })
    }

    /// The value for [`FULL_URI_VAR`].
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.gate.host)
    }

    /// The value for [`TOKEN_VAR`].
    pub fn token(&self) -> &Token {
        &self.gate.token
    }

    /// Answers requests until `shutdown` resolves; then the port is closed at once and
    /// requests in flight are dropped (their client is gone).
    pub async fn serve<S: Source>(self, source: Arc<S>, shutdown: impl Future<Output = ()>) {
        let Self { listener, gate } = self;
        let gate = Arc::new(gate);
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let slot = tokio::select! {
                () = &mut shutdown => break,
                slot = Arc::clone(&slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    // The semaphore is never closed.
                    Err(_) => break,
                },
            };
            let stream = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) => stream,
                    // A failed accept (too many open files) must not end the endpoint.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            while connections.try_join_next().is_some() {}
            let (source, gate) = (Arc::clone(&source), Arc::clone(&gate));
            connections.spawn(async move {
                let _slot = slot;
                let handler = service_fn(move |request| {
                    let (source, gate) = (Arc::clone(&source), Arc::clone(&gate));
                    async move { Ok::<_, Infallible>(answer(&*source, &gate, request).await) }
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEAD_TIMEOUT)
                    .max_buf_size(MAX_HEAD_BYTES)
                    .max_headers(MAX_HEADERS)
                    .keep_alive(false)
                    .serve_connection(TokioIo::new(stream), handler);
                // Timeouts and resets end the connection; there is nobody to tell.
                let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
            });
        }
        // Closing the port first: from here on a connect is refused.
        drop(listener);
        connections.shutdown().await;
    }
}

/// What a request must show before it gets credentials.
#[derive(Debug)]
struct Gate {
    /// `127.0.0.1:<port>`, the only `Host` accepted.
    host: String,
    token: Token,
}

/// Why a request is refused: its status and a JSON error.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl Gate {
    /// `Ok` when the request may be answered with credentials.
    fn admit(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        // SECURITY: a browser adds these to every request a page makes; SDKs never send
        // them. Refusing them keeps web pages out even if they learned the token.
        let browser = headers.keys().find(|name| {
            *name == ORIGIN || *name == REFERER || name.as_str().starts_with("sec-fetch-")
        });
        if let Some(name) = browser {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "BROWSER_REQUEST",
                format!("requests with a `{name}` header are refused"),
            ));
        }
        // SECURITY: DNS rebinding points a page's own host name at 127.0.0.1; its requests
        // still name that host.
        let host = headers.get(HOST).map(HeaderValue::as_bytes);
        if !host.is_some_and(|host| host.eq_ignore_ascii_case(self.host.as_bytes())) {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "WRONG_HOST",
                format!("this endpoint answers only `Host: {}`", self.host),
            ));
        }
        let presented = headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
        if !presented.is_some_and(|token| self.token.matches(token)) {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                format!("missing or wrong token (send the value of {TOKEN_VAR} as Authorization)"),
            ));
        }
        if method != Method::GET {
            return Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                format!("method `{method}` is not allowed, only GET"),
            ));
        }
        if uri.path() != PATH || uri.query().is_some() {
            return Err(Refusal::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("only `{PATH}` is served"),
            ));
        }
        let empty_length = headers
            .get(CONTENT_LENGTH)
            .is_none_or(|length| length.as_bytes() == b"0");
        if !empty_length || headers.contains_key(TRANSFER_ENCODING) {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "BODY_NOT_ALLOWED",
                "a credentials request has no body",
            ));
        }
        Ok(())
    }
}

/// The container credentials document every SDK reads.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerCredentials<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    role_arn: &'a str,
}

impl<'a> From<&'a VendResponse> for ContainerCredentials<'a> {
    fn from(vended: &'a VendResponse) -> Self {
        Self {
            access_key_id: &vended.access_key_id,
            secret_access_key: &vended.secret_access_key,
            token: &vended.token,
            expiration: wire_time::format(&vended.expiration),
            role_arn: vended.role_arn.as_str(),
        }
    }
}

#[derive(Serialize)]
struct ErrorDocument<'a> {
    code: &'a str,
    message: &'a str,
}

async fn answer<S: Source>(
    source: &S,
    gate: &Gate,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    // The body is never read: a request that has one is refused below, and with
    // keep-alive off its rest is discarded with the connection.
    let (parts, _body) = request.into_parts();
    if let Err(refusal) = gate.admit(&parts.method, &parts.uri, &parts.headers) {
        return refused(&refusal);
    }
    match source.credentials().await {
        Ok(vended) => match serde_json::to_vec(&ContainerCredentials::from(&vended)) {
            Ok(body) => json(StatusCode::OK, body),
            Err(e) => refused(&Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "VEND_FAILED",
                format!("cannot encode the credentials: {e}"),
            )),
        },
        Err(failure) => {
            // The child's SDK may show only a status; the reason goes to the terminal too.
            eprintln!(
                "sentinel: refreshing credentials failed: {}",
                failure.message
            );
            refused(&vend_refusal(&failure))
        }
    }
}

/// A denial is 403 (retrying will not help), anything else 500 (it may).
fn vend_refusal(failure: &Failure) -> Refusal {
    match failure.kind {
        ExitKind::Denied => Refusal::new(StatusCode::FORBIDDEN, "DENIED", &failure.message),
        ExitKind::Error | ExitKind::Invalid => Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "VEND_FAILED",
            &failure.message,
        ),
    }
}

fn refused(refusal: &Refusal) -> Response<Full<Bytes>> {
    let document = ErrorDocument {
        code: refusal.code,
        message: &refusal.message,
    };
    let body = serde_json::to_vec(&document).unwrap_or_default();
    let mut response = json(refusal.status, body);
    if refusal.status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
    }
    response
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Credentials and refusals alike are for this request only.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Gate {
        Gate {
            host: "127.0.0.1:4242".into(),
            token: Token("ab".repeat(32)),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn status(pairs: &[(&'static str, &str)]) -> Option<StatusCode> {
        status_of(&Method::GET, "/", pairs)
    }

    fn status_of(method: &Method, uri: &str, pairs: &[(&'static str, &str)]) -> Option<StatusCode> {
        gate()
            .admit(method, &uri.parse().unwrap(), &headers(pairs))
            .err()
            .map(|r| r.status)
    }

    const GOOD_HOST: (&str, &str) = ("host", "127.0.0.1:4242");

    fn good_token() -> String {
        "ab".repeat(32)
    }

    #[test]
    fn the_right_host_and_token_are_admitted() {
        let token = good_token();
        assert_eq!(status(&[GOOD_HOST, ("authorization", &token)]), None);
        assert_eq!(
            status(&[
                GOOD_HOST,
                ("authorization", &token),
                ("content-length", "0")
            ]),
            None
        );
    }

    #[test]
    fn a_missing_or_wrong_token_is_unauthorized() {
        let unauthorized = Some(StatusCode::UNAUTHORIZED);
        assert_eq!(status(&[GOOD_HOST]), unauthorized);
        for wrong in [
            "",
            "ab",
            &"ab".repeat(33),
            &"ba".repeat(32),
            &format!("Bearer {}", good_token()),
        ] {
            assert_eq!(
                status(&[GOOD_HOST, ("authorization", wrong)]),
                unauthorized,
                "{wrong}"
            );
        }
    }

    #[test]
    fn browser_headers_and_other_hosts_are_forbidden_even_with_the_token() {
        let token = good_token();
        let forbidden = Some(StatusCode::FORBIDDEN);
        for extra in [
            ("origin", "https://evil.example"),
            ("origin", "null"),
            ("referer", "https://evil.example/page"),
            ("sec-fetch-mode", "cors"),
        ] {
            assert_eq!(
                status(&[GOOD_HOST, ("authorization", &token), extra]),
                forbidden,
                "{extra:?}"
            );
        }
        for host in [
            "evil.example:4242",
            "localhost:4242",
            "127.0.0.1",
            "127.0.0.1:4243",
            "",
        ] {
            assert_eq!(
                status(&[("host", host), ("authorization", &token)]),
                forbidden,
                "{host}"
            );
        }
        assert_eq!(status(&[("authorization", &token)]), forbidden, "no host");
    }

    #[test]
    fn only_a_bodiless_get_of_the_path_is_served() {
        let token = good_token();
        let auth = ("authorization", token.as_str());
        assert_eq!(
            status_of(&Method::POST, "/", &[GOOD_HOST, auth]),
            Some(StatusCode::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            status_of(&Method::GET, "/other", &[GOOD_HOST, auth]),
            Some(StatusCode::NOT_FOUND)
        );
        assert_eq!(
            status_of(&Method::GET, "/?x=1", &[GOOD_HOST, auth]),
            Some(StatusCode::NOT_FOUND)
        );
        assert_eq!(
            status(&[GOOD_HOST, auth, ("content-length", "5")]),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            status(&[GOOD_HOST, auth, ("transfer-encoding", "chunked")]),
            Some(StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn denials_are_403_and_errors_500() {
        let denied = Failure::new(ExitKind::Denied, "POLICY_DENY: no");
        assert_eq!(vend_refusal(&denied).status, StatusCode::FORBIDDEN);
        assert_eq!(
            vend_refusal(&Failure::error("down")).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn the_token_is_256_random_bits_and_never_printed() {
        let (a, b) = (Token::generate().unwrap(), Token::generate().unwrap());
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        let shown = format!("{a:?} {:?}", gate());
        assert!(
            !shown.contains(a.as_str()) && !shown.contains(&good_token()),
            "{shown}"
        );
    }
}
