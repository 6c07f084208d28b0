//! The local HTTP/1.1 server loop both `serve` subcommands run (`sentinel-tvm serve`,
//! `sentinel-proxy serve`).
//!
//! In AWS, API Gateway or the Function URL bounds what a client may hold; here [`run`]
//! does: a request must arrive whole (head and body, the body at most `max_body` bytes)
//! within 10 s, and at most 256 connections are served at once (more wait in the
//! listener's queue until one closes). On shutdown, in-flight requests get 5 s.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Bytes, Incoming};
use hyper::header::{HOST, HeaderMap};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// A request must arrive whole, head and body, this long after the connection starts
/// waiting for it; a client that trickles bytes cannot hold a connection longer.
pub const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; the next waits in the listener's queue until one closes.
const MAX_CONNECTIONS: usize = 256;
/// In-flight requests get this long to finish after shutdown is requested.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// One request as the server read it.
#[derive(Debug)]
pub struct Received {
    /// Method, URI, headers.
    pub parts: http::request::Parts,
    /// The whole body, or why it could not be read.
    pub body: Result<Bytes, Unreadable>,
    /// The client's address.
    pub peer: SocketAddr,
    /// A fresh request id (128 random bits as hex).
    pub request_id: String,
}

/// Why a request's body could not be read whole. Its unread rest makes hyper close the
/// connection after the answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// Longer than the server's limit.
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    /// Not whole within [`REQUEST_READ_TIMEOUT`].
    #[error("request did not arrive whole within {} s", REQUEST_READ_TIMEOUT.as_secs())]
    TooSlow,
    /// The connection failed while reading it.
    #[error("request body unreadable: {0}")]
    Broken(String),
}

/// What a `serve` subcommand does with each request.
pub trait Handler: Send + Sync + 'static {
    /// The response body type.
    type Body: Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static;

    /// Answers one request; never fails (errors are responses).
    fn handle(&self, request: Received) -> impl Future<Output = Response<Self::Body>> + Send;
}

/// Serves `handler` on `listener` until `shutdown` resolves, then drains in-flight
/// connections for up to five seconds. Bodies longer than `max_body` are not read.
pub async fn run<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    max_body: usize,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
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
                    eprintln!("serve: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Reap finished connection tasks so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
        let handler = Arc::clone(&handler);
        connections.spawn(async move {
            // The slot is given back when the connection closes.
            let _slot = slot;
            let clock = RequestClock::start();
            let service = service_fn(move |request: Request<Incoming>| {
                let handler = Arc::clone(&handler);
                let clock = clock.clone();
                async move {
                    let received = receive(request, peer, max_body, clock.deadline()).await;
                    let response = handler.handle(received).await;
                    clock.restart();
                    Ok::<_, Infallible>(response)
                }
            });
            // hyper's header timer starts when it begins waiting for a request, as the
            // clock does, so a slow head ends the connection at the same deadline.
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(REQUEST_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
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

/// Reads the body, bounded in size and by `deadline`.
async fn receive(
    request: Request<Incoming>,
    peer: SocketAddr,
    max_body: usize,
    deadline: Instant,
) -> Received {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout_at(deadline, Limited::new(body, max_body).collect());
    let body = match read.await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Unreadable::TooLarge(max_body))
        }
        Ok(Err(e)) => Err(Unreadable::Broken(e.to_string())),
        Err(_elapsed) => Err(Unreadable::TooSlow),
    };
    Received {
        parts,
        body,
        peer,
        request_id: new_request_id(),
    }
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

/// Why a request signed for another host is refused, when `--host` names the only one.
///
/// SECURITY: the verifier requires `host` among the signed headers, so a request signed
/// for another server (another deployment behind the same keys) cannot be replayed here
/// with its `Host` rewritten; this check refuses it as signed. Host names are
/// case-insensitive.
pub fn wrong_host(expected: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let expected = expected?;
    let got = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    (!got.eq_ignore_ascii_case(expected))
        .then(|| format!("request signed for host `{got}`, this server answers only `{expected}`"))
}

/// 128 random bits as hex; falls back to the clock if the OS RNG fails (a request id
/// is a correlation handle, not a secret).
pub fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        return format!("{nanos:032x}");
    }
    hex::encode(bytes)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

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
}
