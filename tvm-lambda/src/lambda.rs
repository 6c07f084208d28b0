//! The Lambda front door: API Gateway HTTP API (payload 2.0) and Function URL
//! events, both of which carry the caller in `requestContext.authorizer.iam`.

use std::sync::Arc;

use chrono::Utc;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
use revocation::RoleWriters;
use sentinel_types::AccountId;
use sessions::{LeaseStore, SessionStore};

use crate::grant::CredentialIssuer;
use crate::policies::PolicySource;
use crate::service::{ApiRequest, ApiResponse, IamCaller, Service};

/// Turns a Lambda HTTP event into the service's request.
pub fn api_request(event: &Request) -> ApiRequest {
    let lambda_request_id = event.lambda_context_ref().map(|c| c.request_id.clone());
    let context = match event.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => Some(context),
        _ => None,
    };
    let caller = context
        .and_then(|c| c.authorizer.as_ref())
        .and_then(|a| a.iam.as_ref())
        .map(|iam| IamCaller {
            user_arn: iam.user_arn.clone(),
            account_id: iam.account_id.clone(),
            principal_org_id: iam.principal_org_id.clone(),
            user_id: iam.user_id.clone(),
            access_key: iam.access_key.clone(),
        });
    let stage = context.and_then(|c| c.stage.as_deref());
    let body = match event.body() {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.as_bytes().to_vec(),
        Body::Binary(bytes) => bytes.clone(),
        _ => Vec::new(),
    };
    ApiRequest {
        method: event.method().as_str().to_owned(),
        path: route_path(event.raw_http_path(), stage),
        query: event.uri().query().map(str::to_owned),
        body,
        caller,
        source_ip: context.and_then(|c| c.http.source_ip.clone()),
        user_agent: context.and_then(|c| c.http.user_agent.clone()),
        auth_failure: None,
        // The function ARN names the account the TVM runs in.
        tvm_account: event
            .lambda_context_ref()
            .and_then(|c| c.invoked_function_arn.split(':').nth(4))
            .and_then(|account| AccountId::parse(account).ok()),
        request_id: context
            .and_then(|c| c.request_id.clone())
            .or(lambda_request_id)
            .unwrap_or_default(),
    }
}

/// HTTP APIs with a named stage put `/<stage>` in front of the route; routes are matched without it.
fn route_path(raw: &str, stage: Option<&str>) -> String {
    let raw = if raw.is_empty() { "/" } else { raw };
    match stage {
        Some(stage) if stage != "$default" => {
            let prefix = format!("/{stage}");
            match raw.strip_prefix(&prefix) {
                Some("") => "/".to_owned(),
                Some(rest) if rest.starts_with('/') => rest.to_owned(),
                _ => raw.to_owned(),
            }
        }
        _ => raw.to_owned(),
    }
}

/// The service's response as a Lambda HTTP response.
pub fn http_response(response: ApiResponse) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(response.status)
        .header("content-type", "application/json")
        .body(Body::Text(response.body))?)
}

/// The Lambda runtime client panics when the variables Lambda always sets are
/// missing; check them first so a misconfigured start gets a message instead.
pub fn check_runtime_env() -> Result<(), String> {
    for name in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
    ] {
        if std::env::var_os(name).is_none() {
            return Err(format!(
                "`{name}` is not set, so this is not a Lambda environment"
            ));
        }
    }
    let memory = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.parse::<i32>().is_err() {
        return Err(format!(
            "`AWS_LAMBDA_FUNCTION_MEMORY_SIZE` is `{memory}`, not a number"
        ));
    }
    Ok(())
}

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

    #[test]
    fn named_stages_are_stripped_from_the_route() {
        assert_eq!(route_path("/prod/profiles", Some("prod")), "/profiles");
        assert_eq!(route_path("/prod", Some("prod")), "/");
        assert_eq!(route_path("/profiles", Some("$default")), "/profiles");
        assert_eq!(route_path("/production", Some("prod")), "/production");
        assert_eq!(route_path("", None), "/");
    }
}
