//! `sentinel-tvm serve`: the same service over plain HTTP/1.1 for local use and tests.
//!
//! API Gateway (AWS_IAM auth) verifies SigV4 before the Lambda runs; here the
//! [`Verifier`] does that job against a fixed key file, and builds the same
//! identity the Lambda would find in `requestContext.authorizer.iam`.
//!
//! API Gateway also bounds what a client may hold; here [`run`] does: a request must
//! arrive whole (head and body) within 10 s, and at most 256 connections are served at
//! once (more wait in the listener's queue until one closes).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use chrono::Utc;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderValue, USER_AGENT};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use revocation::RoleWriters;
use sentinel_types::AccountId;
use sessions::{LeaseStore, SessionStore};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::grant::CredentialIssuer;
use crate::policies::PolicySource;
use crate::service::{ApiRequest, ApiResponse, MAX_BODY_BYTES, Service};
use crate::sigv4::Verifier;

/// A request must arrive whole, head and body, this long after the connection starts
/// waiting for it; a client that trickles bytes cannot hold a connection longer.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; the next waits in the listener's queue until one closes.
const MAX_CONNECTIONS: usize = 256;
/// In-flight requests get this long to finish after shutdown is requested.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What `serve` checks and supplies before the service sees a request.
#[derive(Debug)]
pub struct Front {
    /// SigV4 against the auth-keys file.
    pub verifier: Verifier,
    /// The account this TVM stands for (`--account-id`, or its own credentials').
    pub tvm_account: AccountId,
    /// `--host`: the only `Host` a request may be signed for; `None` accepts any.
    pub host: Option<String>,
}

/// Serves `service` on `listener` until `shutdown` resolves, then drains in-flight
/// connections for up to five seconds.
pub async fn run<P, I, S, R>(
    listener: TcpListener,
    service: Arc<Service<P, I, S, R>>,
    front: Arc<Front>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    P: PolicySource + 'static,
    I: CredentialIssuer + 'static,
    S: SessionStore + LeaseStore + 'static,
    R: RoleWriters + 'static,
{
    let mut connections = JoinSet::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        // A free slot first, then accept: past the cap, clients wait in the kernel's
        // queue instead of holding a task, a socket and a buffer here.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                // The semaphore is never closed.
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // A failed accept (e.g. too many open files) must not stop the server.
                Err(e) => {
                    eprintln!("sentinel-tvm: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Reap finished connection tasks so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
        let service = Arc::clone(&service);
        let front = Arc::clone(&front);
        connections.spawn(async move {
            // The slot is given back when the connection closes.
            let _slot = slot;
            let clock = RequestClock::start();
            let handler = service_fn(move |request| {
                let service = Arc::clone(&service);
                let front = Arc::clone(&front);
                let clock = clock.clone();
                async move {
                    let response = handle(&service, &front, request, peer, clock.deadline()).await;
                    clock.restart();
                    Ok::<_, Infallible>(response)
                }
            });
            // hyper's header timer starts when it begins waiting for a request, as the
            // clock does, so a slow head ends the connection at the same deadline.
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(REQUEST_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), handler);
            // Client resets and timeouts end the connection; there is nobody to tell.
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

/// When a connection began waiting for its current request: at accept, then after each
/// response. The request's head and body must both have arrived [`REQUEST_READ_TIMEOUT`]
/// later.
#[derive(Debug, Clone)]
struct RequestClock(Arc<Mutex<Instant>>);

impl RequestClock {
    fn start() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }

    fn deadline(&self) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) + REQUEST_READ_TIMEOUT
    }

    fn restart(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }
}

/// One HTTP request: read the body (bounded in size and by `deadline`), verify SigV4
/// and the host, hand to the service.
async fn handle<P, I, S, R>(
    service: &Service<P, I, S, R>,
    front: &Front,
    request: Request<Incoming>,
    peer: SocketAddr,
    deadline: Instant,
) -> Response<Full<Bytes>>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    let request_id = new_request_id();
    let (parts, body) = request.into_parts();
    // A body that cannot be read whole (in time) cannot have its signature checked
    // either, so it is refused like an unsigned request (and logged like every request).
    // Its unread rest makes hyper close the connection after the answer.
    let read = tokio::time::timeout_at(deadline, Limited::new(body, MAX_BODY_BYTES).collect());
    let (body, unreadable) = match read.await {
        Ok(Ok(collected)) => (collected.to_bytes(), None),
        Ok(Err(e)) => (
            Bytes::new(),
            Some(format!(
                "request body unreadable or larger than {MAX_BODY_BYTES} bytes: {e}"
            )),
        ),
        Err(_elapsed) => (
            Bytes::new(),
            Some(format!(
                "request did not arrive whole within {} s",
                REQUEST_READ_TIMEOUT.as_secs()
            )),
        ),
    };

    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    // SECURITY: the identity comes only from a verified signature; nothing the
    // client sends (headers, body) can name a caller.
    let (caller, auth_failure) = match unreadable {
        Some(why) => (None, Some(why)),
        None => match front.verifier.verify(
            parts.method.as_str(),
            path_and_query,
            &parts.headers,
            &body,
            SystemTime::now(),
        ) {
            Ok(caller) => match wrong_host(front.host.as_deref(), &parts.headers) {
                None => (Some(caller), None),
                Some(why) => (None, Some(why)),
            },
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let api_request = ApiRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        body: body.to_vec(),
        caller,
        source_ip: Some(peer.ip().to_string()),
        user_agent: parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        request_id: request_id.clone(),
        auth_failure,
        tvm_account: Some(front.tvm_account.clone()),
    };
    let handled = service.handle(api_request, Utc::now()).await;
    for line in handled.log_lines() {
        println!("{line}");
    }
    response(handled.response, &request_id)
}

/// Why a request signed for another host is refused, when `--host` names the only one.
///
/// SECURITY: the verifier requires `host` among the signed headers, so a request signed
/// for another server (another deployment behind the same keys) cannot be replayed here
/// with its `Host` rewritten; this check refuses it as signed. Host names are
/// case-insensitive.
fn wrong_host(expected: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let expected = expected?;
    let got = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    (!got.eq_ignore_ascii_case(expected))
        .then(|| format!("request signed for host `{got}`, this server answers only `{expected}`"))
}

fn response(api: ApiResponse, request_id: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(api.body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(api.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // API Gateway names its request id header `apigw-requestid`; clients may log it.
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("apigw-requestid", value);
    }
    response
}

/// 128 random bits as hex; falls back to the clock if the OS RNG fails (a request id
/// is a correlation handle, not a secret).
fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        return format!("{nanos:032x}");
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_check_applies_only_when_a_host_is_set() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("TVM.example.test:8787"));
        assert_eq!(wrong_host(None, &headers), None);
        assert_eq!(wrong_host(Some("tvm.example.test:8787"), &headers), None);
        let why = wrong_host(Some("tvm.example.test"), &headers).unwrap();
        assert!(why.contains("`TVM.example.test:8787`"), "{why}");
        assert!(wrong_host(Some("tvm.example.test"), &HeaderMap::new()).is_some());
    }

    #[test]
    fn request_ids_are_unique_hex() {
        let a = new_request_id();
        let b = new_request_id();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn responses_carry_json_content_type_and_request_id() {
        let r = response(
            ApiResponse {
                status: 403,
                body: "{}".into(),
            },
            "abc",
        );
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()["apigw-requestid"], "abc");
    }
}
