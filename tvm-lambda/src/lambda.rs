//! The Lambda front door: API Gateway HTTP API (payload 2.0) and Function URL
//! events, both of which carry the caller in `requestContext.authorizer.iam`.

use std::sync::Arc;

use chrono::Utc;
use lambda_http::{Body, Error, Request, Response, service_fn};
use revocation::RoleWriters;
use sessions::{LeaseStore, SessionStore};

use crate::grant::CredentialIssuer;
use crate::policies::PolicySource;
use crate::service::{ApiRequest, ApiResponse, Service};

/// Turns a Lambda HTTP event into the service's request.
pub fn api_request(event: &Request) -> ApiRequest {
    let context = sentinel_front::lambda::context(event);
    ApiRequest {
        method: event.method().as_str().to_owned(),
        path: context.path,
        query: event.uri().query().map(str::to_owned),
        body: context.body,
        caller: context.caller,
        source_ip: context.source_ip,
        user_agent: context.user_agent,
        auth_failure: None,
        tvm_account: context.home_account,
        request_id: context.request_id,
        bearer: event
            .headers()
            .get(lambda_http::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::service::bearer_token),
    }
}

/// The service's response as a Lambda HTTP response.
pub fn http_response(response: ApiResponse) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(response.status)
        .header("content-type", "application/json")
        .body(Body::Text(response.body))?)
}

pub use sentinel_front::lambda::check_runtime_env;

/// Serves Lambda invocations until the runtime shuts the process down.
pub async fn run<P, I, S, R>(service: Arc<Service<P, I, S, R>>) -> Result<(), Error>
where
    P: PolicySource + 'static,
    I: CredentialIssuer + 'static,
    S: SessionStore + LeaseStore + 'static,
    R: RoleWriters + 'static,
{
    lambda_http::run(service_fn(move |event: Request| {
        let service = Arc::clone(&service);
        async move {
            let handled = service.handle(api_request(&event), Utc::now()).await;
            // Lambda ships stdout to CloudWatch Logs: one decision line, one EMF line.
            for line in handled.log_lines() {
                println!("{line}");
            }
            http_response(handled.response)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> ApiRequest {
        let path = format!("{}/tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read_to_string(path).unwrap();
        api_request(&lambda_http::request::from_str(&json).unwrap())
    }

    #[test]
    fn http_api_event_yields_the_iam_caller_and_request() {
        let r = event("apigw-v2-iam.json");
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/");
        assert_eq!(r.query.as_deref(), Some("profile=dev&duration=1800"));
        assert_eq!(r.source_ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(r.user_agent.as_deref(), Some("sentinel/0.1.0"));
        assert_eq!(r.request_id, "JKJaXmPLvHcESHA=");
        let caller = r.caller.unwrap();
        assert_eq!(
            caller.user_arn.as_deref(),
            Some("arn:aws:iam::111122223333:user/eng/alice")
        );
        assert_eq!(caller.account_id.as_deref(), Some("111122223333"));
        assert_eq!(caller.principal_org_id.as_deref(), Some("o-abc123"));
    }

    #[test]
    fn function_url_event_yields_the_iam_caller_and_body() {
        let r = event("function-url-iam.json");
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/");
        assert_eq!(r.body, br#"{"profile":"dev","duration":900}"#);
        assert_eq!(r.source_ip.as_deref(), Some("10.9.8.7"));
        let caller = r.caller.unwrap();
        assert!(caller.user_arn.unwrap().ends_with("/alice@example.com"));
        assert_eq!(caller.principal_org_id, None);
    }

    #[test]
    fn event_without_iam_authorizer_has_no_caller_and_stage_is_stripped() {
        let r = event("apigw-v2-no-auth.json");
        assert!(r.caller.is_none());
        assert_eq!(r.path, "/profiles");
    }
}
