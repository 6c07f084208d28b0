//! The Lambda front door: Function URL (AuthType AWS_IAM) and API Gateway HTTP API
//! events, whose `requestContext.authorizer.iam` carries the caller AWS verified.
//! Lambda returns a buffered answer of at most 6 MB, so the upstream's body is
//! collected up to that.

use std::sync::Arc;

use chrono::Utc;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};
use lambda_http::{Body, Error, Request, Response, service_fn};
use protocol::{ErrorBody, ErrorCode};
use sentinel_aws::https::HttpsError;

use crate::log::Effect;
use crate::params::Parameters;
use crate::service::{Handled, Incoming, Proxy, Reply};
use crate::upstream::{Upstream, classify};

/// The largest answer a buffered Lambda function may return: 6 MB of payload, in which
/// the body is base64 (4/3 larger) next to the headers.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Turns a Lambda HTTP event into the proxy's request.
pub fn incoming(event: &Request) -> Incoming {
    let context = sentinel_front::lambda::context(event);
    let target = match event.uri().query() {
        Some(query) => format!("{}?{query}", context.path),
        None => context.path,
    };
    Incoming {
        method: event.method().as_str().to_owned(),
        target,
        headers: event.headers().clone(),
        body: context.body,
        body_too_large: false,
        caller: context.caller,
        auth_failure: None,
        source_ip: context.source_ip,
        request_id: context.request_id,
        home_account: context.home_account,
    }
}

/// The status, headers and whole body to return, after reading the upstream's body
/// (bounded); a body that fails or is too large turns the answer into a 502.
pub async fn collect(handled: Handled) -> (u16, HeaderMap, Vec<u8>, crate::log::ProxyLog) {
    let Handled { reply, mut log } = handled;
    match reply {
        Reply::Refused { status, body } => (status, json_headers(), body.into_bytes(), log),
        Reply::Upstream {
            status,
            headers,
            response,
        } => {
            let read = response
                .body(MAX_RESPONSE_BYTES)
                .await
                .map_err(|e| match e {
                    HttpsError::TooLarge(_) => {
                        format!("upstream answer larger than {MAX_RESPONSE_BYTES} bytes")
                    }
                    e => classify(e).to_string(),
                });
            match read {
                Ok(body) => (status, headers, body, log),
                Err(why) => {
                    let code = ErrorCode::UpstreamError;
                    log.effect = Effect::Error;
                    log.level = Effect::Error.level();
                    log.code = Some(code.as_str());
                    log.reason = Some("the upstream's answer could not be returned".into());
                    log.detail = Some(why);
                    let body = ErrorBody::new(
                        code,
                        "the upstream's answer could not be returned",
                        &log.request_id,
                    );
                    let json = serde_json::to_string(&body).unwrap_or_default();
                    (code.status(), json_headers(), json.into_bytes(), log)
                }
            }
        }
    }
}

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers
}

/// Serves Lambda invocations until the runtime shuts the process down.
pub async fn run<P, U>(proxy: Arc<Proxy<P, U>>) -> Result<(), Error>
where
    P: Parameters + 'static,
    U: Upstream + 'static,
{
    lambda_http::run(service_fn(move |event: Request| {
        let proxy = Arc::clone(&proxy);
        async move {
            let request = incoming(&event);
            let handled = proxy.handle(request, Utc::now()).await;
            let (status, headers, body, log) = collect(handled).await;
            println!("{}", log.to_json_line());
            let mut response = Response::builder().status(status);
            if let Some(all) = response.headers_mut() {
                all.extend(headers);
            }
            Ok::<_, Error>(response.body(Body::Binary(body))?)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_url_event_becomes_a_request_with_its_caller_and_target() {
        let json = include_str!("../tests/events/function-url-proxy.json");
        let event = lambda_http::request::from_str(json).unwrap();
        let r = incoming(&event);
        assert_eq!(r.method, "POST");
        assert_eq!(r.target, "/v1/orders?dry_run=true");
        assert_eq!(r.body, br#"{"sku":"A-1"}"#);
        assert_eq!(r.source_ip.as_deref(), Some("203.0.113.7"));
        let caller = r.caller.unwrap();
        assert_eq!(
            caller.user_arn.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/payments-task/task-1")
        );
        assert_eq!(caller.account_id.as_deref(), Some("111122223333"));
        assert!(r.headers.contains_key("x-amz-date"));
    }
}
