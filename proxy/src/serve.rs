//! `sentinel-proxy serve`: the proxy over plain HTTP/1.1 for local use and tests. The
//! Function URL's AWS_IAM auth is played by the workspace's SigV4 verifier (service
//! `lambda`, what Function URL clients sign for); the upstream's answer is streamed.

use std::sync::Arc;
use std::time::SystemTime;

use chrono::Utc;
use http_body_util::{Either, Full};
use hyper::Response;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use sentinel_aws::https::ResponseBody;
use sentinel_front::server::{self, Handler, Received, Unreadable, wrong_host};
use sentinel_front::sigv4::Verifier;
use sentinel_types::AccountId;
use tokio::net::TcpListener;

use crate::params::Parameters;
use crate::service::{Incoming, Proxy, Reply};
use crate::upstream::Upstream;

/// What `serve` checks and supplies before the proxy sees a request.
#[derive(Debug)]
pub struct Front {
    /// SigV4 against the auth-keys file, service `lambda`.
    pub verifier: Verifier,
    /// The account the proxy stands for (`--account-id`, or its own credentials').
    pub home_account: AccountId,
    /// The only `Host` a request may be signed for (`--host`, default the listen
    /// address), as a Function URL answers only for its own name.
    pub host: String,
}

/// Serves `proxy` on `listener` until `shutdown` resolves.
pub async fn run<P, U>(
    listener: TcpListener,
    proxy: Arc<Proxy<P, U>>,
    front: Front,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    P: Parameters + 'static,
    U: Upstream + 'static,
{
    let max_body = proxy.config().max_body;
    let handler = Arc::new(Serve { proxy, front });
    server::run(listener, handler, max_body, shutdown).await
}

struct Serve<P, U> {
    proxy: Arc<Proxy<P, U>>,
    front: Front,
}

type Body = Either<Full<Bytes>, ResponseBody>;

impl<P, U> Handler for Serve<P, U>
where
    P: Parameters + 'static,
    U: Upstream + 'static,
{
    type Body = Body;

    async fn handle(&self, request: Received) -> Response<Body> {
        let Received {
            parts,
            body,
            peer,
            request_id,
        } = request;
        let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        // SECURITY: the identity comes only from a verified signature for this host.
        let (body, too_large, caller, auth_failure) = match body {
            Err(Unreadable::TooLarge(_)) => (Bytes::new(), true, None, None),
            Err(why) => (Bytes::new(), false, None, Some(why.to_string())),
            Ok(body) => match self.front.verifier.verify(
                parts.method.as_str(),
                path_and_query,
                &parts.headers,
                &body,
                SystemTime::now(),
            ) {
                Ok(caller) => match wrong_host(Some(&self.front.host), &parts.headers) {
                    None => (body, false, Some(caller), None),
                    Some(why) => (body, false, None, Some(why)),
                },
                Err(e) => (body, false, None, Some(e.to_string())),
            },
        };
        let incoming = Incoming {
            method: parts.method.as_str().to_owned(),
            // The target as received: an absolute-form one is refused by the proxy.
            target: parts.uri.to_string(),
            headers: parts.headers,
            body: body.to_vec(),
            body_too_large: too_large,
            caller,
            auth_failure,
            source_ip: Some(peer.ip().to_string()),
            request_id: request_id.clone(),
            home_account: Some(self.front.home_account.clone()),
        };
        let handled = self.proxy.handle(incoming, Utc::now()).await;
        println!("{}", handled.log.to_json_line());
        match handled.reply {
            Reply::Refused { status, body } => {
                let mut response = Response::new(Either::Left(Full::new(Bytes::from(body))));
                *response.status_mut() = hyper::StatusCode::from_u16(status)
                    .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Reply::Upstream {
                status,
                headers,
                response: upstream,
            } => {
                let mut response = Response::new(Either::Right(upstream.into_body()));
                *response.status_mut() =
                    hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
                *response.headers_mut() = headers;
                response
            }
        }
    }
}
