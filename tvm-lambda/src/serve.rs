//! `sentinel-tvm serve`: the same service over plain HTTP/1.1 for local use and tests.
//!
//! API Gateway (AWS_IAM auth) verifies SigV4 before the Lambda runs; here the
//! [`Verifier`] does that job against a fixed key file, and builds the same
//! identity the Lambda would find in `requestContext.authorizer.iam`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use sentinel_types::AccountId;
use sessions::SessionStore;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::grant::CredentialIssuer;
use crate::policies::PolicySource;
use crate::service::{ApiRequest, ApiResponse, MAX_BODY_BYTES, Service};
use crate::sigv4::Verifier;

/// A slow client may hold a connection this long before its headers arrive.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// In-flight requests get this long to finish after shutdown is requested.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `service` on `listener` until `shutdown` resolves, then drains in-flight
/// connections for up to five seconds.
pub async fn run<P, I, S>(
    listener: TcpListener,
    service: Arc<Service<P, I, S>>,
    verifier: Arc<Verifier>,
    tvm_account: AccountId,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    P: PolicySource + 'static,
    I: CredentialIssuer + 'static,
    S: SessionStore + 'static,
{
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
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
        let verifier = Arc::clone(&verifier);
        let tvm_account = tvm_account.clone();
        connections.spawn(async move {
            let handler = service_fn(move |request| {
                let service = Arc::clone(&service);
                let verifier = Arc::clone(&verifier);
                let tvm_account = tvm_account.clone();
                async move {
                    Ok::<_, Infallible>(
                        handle(&service, &verifier, request, peer, tvm_account).await,
                    )
                }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
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

/// One HTTP request: read the body (bounded), verify SigV4, hand to the service.
async fn handle<P, I, S>(
    service: &Service<P, I, S>,
    verifier: &Verifier,
    request: Request<Incoming>,
    peer: SocketAddr,
    tvm_account: AccountId,
) -> Response<Full<Bytes>>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore,
{
    let request_id = new_request_id();
    let (parts, body) = request.into_parts();
    // A body that cannot be read whole cannot have its signature checked either, so
    // it is refused like an unsigned request (and logged like every request).
    let (body, unreadable) = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => (collected.to_bytes(), None),
        Err(e) => (
            Bytes::new(),
            Some(format!(
                "request body unreadable or larger than {MAX_BODY_BYTES} bytes: {e}"
            )),
        ),
    };

    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    // SECURITY: the identity comes only from a verified signature; nothing the
    // client sends (headers, body) can name a caller.
    let (caller, auth_failure) = match unreadable {
        Some(why) => (None, Some(why)),
        None => match verifier.verify(
            parts.method.as_str(),
            path_and_query,
            &parts.headers,
            &body,
            SystemTime::now(),
        ) {
            Ok(caller) => (Some(caller), None),
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
        tvm_account: Some(tvm_account),
    };
    let handled = service.handle(api_request, Utc::now()).await;
    for line in handled.log_lines() {
        println!("{line}");
    }
    response(handled.response, &request_id)
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
