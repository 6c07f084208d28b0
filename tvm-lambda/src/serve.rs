//! `sentinel-tvm serve`: the same service over plain HTTP/1.1 for local use and tests.
//!
//! API Gateway (AWS_IAM auth) verifies SigV4 before the Lambda runs; here the shared
//! [`Verifier`] does that job against a fixed key file, and builds the same identity the
//! Lambda would find in `requestContext.authorizer.iam`. The server loop and its bounds
//! (whole request within 10 s, 256 connections) are `sentinel_front::server`'s.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use chrono::Utc;
use http_body_util::Full;
use hyper::Response;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use revocation::RoleWriters;
use sentinel_front::server::{self, Handler, Received, wrong_host};
use sentinel_front::sigv4::Verifier;
use sentinel_types::AccountId;
use sessions::{LeaseStore, SessionStore};
use tokio::net::TcpListener;

use crate::grant::CredentialIssuer;
use crate::policies::PolicySource;
use crate::service::{ApiRequest, ApiResponse, MAX_BODY_BYTES, Service};

/// What `serve` checks and supplies before the service sees a request.
#[derive(Debug)]
pub struct Front {
    /// SigV4 against the auth-keys file (service `execute-api`).
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
    let handler = Arc::new(Tvm { service, front });
    server::run(listener, handler, MAX_BODY_BYTES, shutdown).await
}

struct Tvm<P, I, S, R> {
    service: Arc<Service<P, I, S, R>>,
    front: Arc<Front>,
}

impl<P, I, S, R> Handler for Tvm<P, I, S, R>
where
    P: PolicySource + 'static,
    I: CredentialIssuer + 'static,
    S: SessionStore + LeaseStore + 'static,
    R: RoleWriters + 'static,
{
    type Body = Full<Bytes>;

    /// Verify SigV4 and the host, hand to the service.
    async fn handle(&self, request: Received) -> Response<Full<Bytes>> {
        let Received {
            parts,
            body,
            peer,
            request_id,
        } = request;
        let front = &self.front;
        let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        // A body that cannot be read whole (in time) cannot have its signature checked
        // either, so it is refused like an unsigned request (and logged like every
        // request).
        // SECURITY: the identity comes only from a verified signature; nothing the
        // client sends (headers, body) can name a caller.
        let (body, caller, auth_failure) = match body {
            Err(why) => (Bytes::new(), None, Some(why.to_string())),
            Ok(body) => match front.verifier.verify(
                parts.method.as_str(),
                path_and_query,
                &parts.headers,
                &body,
                SystemTime::now(),
            ) {
                Ok(caller) => match wrong_host(front.host.as_deref(), &parts.headers) {
                    None => (body, Some(caller), None),
                    Some(why) => (body, None, Some(why)),
                },
                Err(e) => (body, None, Some(e.to_string())),
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
            bearer: parts
                .headers
                .get(hyper::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::service::bearer_token),
        };
        let handled = self.service.handle(api_request, Utc::now()).await;
        for line in handled.log_lines() {
            println!("{line}");
        }
        response(handled.response, &request_id)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
