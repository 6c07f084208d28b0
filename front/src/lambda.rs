//! Lambda events: API Gateway HTTP API (payload 2.0) and Function URL events, both of
//! which carry the caller AWS verified in `requestContext.authorizer.iam`.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use sentinel_types::AccountId;

use crate::IamCaller;

/// What a front door reads from a Lambda HTTP event besides method, headers and query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventContext {
    /// The caller AWS verified; `None` when the route has no IAM auth.
    pub caller: Option<IamCaller>,
    /// The raw path without an HTTP API's named stage (`/` when empty).
    pub path: String,
    /// The client's address as AWS saw it.
    pub source_ip: Option<String>,
    /// The client's `User-Agent` as AWS saw it.
    pub user_agent: Option<String>,
    /// The API's request id, else the Lambda invocation's.
    pub request_id: String,
    /// The account of the invoked function's ARN: the account the binary runs in.
    pub home_account: Option<AccountId>,
    /// The body, base64-decoded by the runtime when the event says so.
    pub body: Vec<u8>,
}

/// Reads `event`'s context.
pub fn context(event: &Request) -> EventContext {
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
    EventContext {
        caller,
        path: route_path(event.raw_http_path(), stage),
        source_ip: context.and_then(|c| c.http.source_ip.clone()),
        user_agent: context.and_then(|c| c.http.user_agent.clone()),
        request_id: context
            .and_then(|c| c.request_id.clone())
            .or(lambda_request_id)
            .unwrap_or_default(),
        // The function ARN names the account the binary runs in.
        home_account: event
            .lambda_context_ref()
            .and_then(|c| c.invoked_function_arn.split(':').nth(4))
            .and_then(|account| AccountId::parse(account).ok()),
        body,
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
