//! The Lambda front door: API Gateway HTTP API (payload 2.0) and Function URL
//! events, both of which carry the caller in `requestContext.authorizer.iam`.

use std::sync::Arc;

use chrono::Utc;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
use sessions::SessionStore;

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

/// Serves Lambda invocations until the runtime shuts the process down.
pub async fn run<P, I, S>(service: Arc<Service<P, I, S>>) -> Result<(), Error>
where
    P: PolicySource + 'static,
    I: CredentialIssuer + 'static,
    S: SessionStore + 'static,
{
    lambda_http::run(service_fn(move |event: Request| {
        let service = Arc::clone(&service);
        async move {
            let handled = service.handle(api_request(&event), Utc::now()).await;
            handled.emit();
            http_response(handled.response)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_stages_are_stripped_from_the_route() {
        assert_eq!(route_path("/prod/profiles", Some("prod")), "/profiles");
        assert_eq!(route_path("/prod", Some("prod")), "/");
        assert_eq!(route_path("/profiles", Some("$default")), "/profiles");
        assert_eq!(route_path("/production", Some("prod")), "/production");
        assert_eq!(route_path("", None), "/");
    }
}
