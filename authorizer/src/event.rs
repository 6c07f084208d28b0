//! The authorizer events API Gateway sends, as `aws_lambda_events` types, and where the
//! session ID, the bearer token and the route key sit in them.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

/// Header carrying the session ID (matched case-insensitively).
pub const SESSION_HEADER: &str = "x-sentinel-session-id";
/// Query parameter carrying the session ID.
pub const SESSION_QUERY: &str = "sentinel_session_id";
/// Header carrying the bearer token of the `jwt` and `cognito` modes (any case).
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// The longest `Authorization` header looked at (a token is at most 16 KiB).
const MAX_AUTHORIZATION_BYTES: usize = 17 * 1024;

/// Why an event carries no bearer token to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization` header at all.
    Missing,
    /// An `Authorization` header that is not exactly `Bearer <token>` (for operators).
    Malformed(&'static str),
}

/// The kind of authorizer event, which decides the response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// HTTP API, payload format 2.0: simple response.
    HttpApiV2,
    /// REST API REQUEST authorizer: IAM policy response.
    RestRequest,
}

impl EventKind {
    /// HTTP API v2 events say `"version": "2.0"`; everything else is answered in the REST
    /// format (an HTTP API with payload 1.0 also expects the IAM policy format).
    pub fn of(raw: &Value) -> Self {
        if raw.get("version").and_then(Value::as_str) == Some("2.0") {
            Self::HttpApiV2
        } else {
            Self::RestRequest
        }
    }

    /// The event field naming the route: the REST policy's resource.
    fn route_field(self) -> &'static str {
        match self {
            Self::HttpApiV2 => "routeArn",
            Self::RestRequest => "methodArn",
        }
    }
}

/// An authorizer event API Gateway sent.
#[derive(Debug, Clone)]
pub enum Event {
    /// HTTP API, payload format 2.0.
    HttpApiV2(Box<ApiGatewayV2CustomAuthorizerV2Request>),
    /// REST API REQUEST authorizer (or HTTP API payload 1.0).
    RestRequest(Box<ApiGatewayCustomAuthorizerRequestTypeRequest>),
}

/// An event that does not deserialize as its kind: it is denied, in the format its
/// `version` asks for, with what the log line can still tell about it.
#[derive(Debug)]
pub struct NotUnderstood {
    pub kind: EventKind,
    pub request_id: Option<String>,
    pub route: Option<String>,
    pub error: serde_json::Error,
}

impl Event {
    /// The typed event, or why `raw` is not one.
    pub fn parse(raw: &Value) -> Result<Self, NotUnderstood> {
        let kind = EventKind::of(raw);
        let parsed = match kind {
            EventKind::HttpApiV2 => ApiGatewayV2CustomAuthorizerV2Request::deserialize(raw)
                .map(|event| Self::HttpApiV2(Box::new(event))),
            EventKind::RestRequest => {
                ApiGatewayCustomAuthorizerRequestTypeRequest::deserialize(raw)
                    .map(|event| Self::RestRequest(Box::new(event)))
            }
        };
        parsed.map_err(|error| {
            let text = |field: Option<&Value>| field.and_then(Value::as_str).map(str::to_owned);
            NotUnderstood {
                kind,
                request_id: text(raw.pointer("/requestContext/requestId")),
                route: text(raw.get(kind.route_field())),
                error,
            }
        })
    }

    pub fn kind(&self) -> EventKind {
        match self {
            Self::HttpApiV2(_) => EventKind::HttpApiV2,
            Self::RestRequest(_) => EventKind::RestRequest,
        }
    }

    /// API Gateway's request ID.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::HttpApiV2(e) => e.request_context.request_id.as_deref(),
            Self::RestRequest(e) => e.request_context.request_id.as_deref(),
        }
    }

    /// The route's ARN: `routeArn` (HTTP API) or `methodArn` (REST).
    pub fn route(&self) -> Option<&str> {
        match self {
            Self::HttpApiV2(e) => e.route_arn.as_deref(),
            Self::RestRequest(e) => e.method_arn.as_deref(),
        }
    }

    /// The raw session ID from the header (any case; the first value, also of a
    /// comma-joined one) or else the query string.
    pub fn session_id(&self) -> Option<&str> {
        self.header(SESSION_HEADER).or_else(|| match self {
            Self::HttpApiV2(e) => e
                .query_string_parameters
                .get(SESSION_QUERY)
                .map(String::as_str),
            Self::RestRequest(e) => e
                .query_string_parameters
                .first(SESSION_QUERY)
                .or_else(|| e.multi_value_query_string_parameters.first(SESSION_QUERY)),
        })
    }

    /// The `X-Sentinel-Proof` header (any case; headers only: a proof never travels in
    /// a URL, where logs would keep it).
    pub fn proof(&self) -> Option<&str> {
        self.header(crate::proof::PROOF_HEADER)
    }

    /// The token of the one `Authorization: Bearer <token>` header (header name in any
    /// case, scheme `Bearer` in any case as RFC 7235 says). Anything else is an error:
    /// another scheme, an empty or non-token68 token, a comma-joined value (HTTP API
    /// joins repeated headers with commas), two different values in a REST event.
    pub fn bearer(&self) -> Result<&str, BearerError> {
        let mut values: Vec<&aws_lambda_events::http::HeaderValue> = match self {
            Self::HttpApiV2(e) => e.headers.get_all(AUTHORIZATION_HEADER).iter().collect(),
            Self::RestRequest(e) => e
                .headers
                .get_all(AUTHORIZATION_HEADER)
                .iter()
                .chain(e.multi_value_headers.get_all(AUTHORIZATION_HEADER))
                .collect(),
        };
        values.dedup_by(|a, b| a == b);
        let value = match values.as_slice() {
            [] => return Err(BearerError::Missing),
            [one] => *one,
            _ => {
                return Err(BearerError::Malformed("more than one Authorization header"));
            }
        };
        if value.len() > MAX_AUTHORIZATION_BYTES {
            return Err(BearerError::Malformed(
                "the Authorization header is too long",
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| BearerError::Malformed("the Authorization header is not visible ASCII"))?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(BearerError::Malformed(
            "the Authorization header is not `Bearer <token>`",
        ))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(BearerError::Malformed(
                "the Authorization scheme is not Bearer",
            ));
        }
        let token = token.trim_start_matches(' ');
        if !is_token68(token) {
            return Err(BearerError::Malformed(
                "the bearer token is empty or not one token (RFC 6750 b64token)",
            ));
        }
        Ok(token)
    }

    /// The route key the `cognito` mode's required scopes are looked up by: an HTTP
    /// API's `routeKey` (`GET /orders/{id}`, `ANY /{proxy+}`, `$default`), a REST API's
    /// `httpMethod` and `resource` (`GET /orders/{id}`).
    pub fn route_key(&self) -> Option<String> {
        match self {
            Self::HttpApiV2(e) => e
                .route_key
                .clone()
                .or_else(|| e.request_context.route_key.clone()),
            Self::RestRequest(e) => {
                let method = e
                    .http_method
                    .as_ref()
                    .or(e.request_context.http_method.as_ref())?;
                let resource = e
                    .resource
                    .as_deref()
                    .or(e.request_context.resource_path.as_deref())?;
                Some(format!("{method} {resource}"))
            }
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        match self {
            Self::HttpApiV2(e) => header(&e.headers, name),
            Self::RestRequest(e) => {
                header(&e.headers, name).or_else(|| header(&e.multi_value_headers, name))
            }
        }
    }
}

/// A header's first value; `HeaderMap` names are case-insensitive. Base64 and session
/// IDs hold no comma, so a comma-joined value is cut at the first one.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = std::str::from_utf8(headers.get(name)?.as_bytes()).ok()?;
    Some(
        value
            .split_once(',')
            .map_or(value, |(first, _)| first)
            .trim(),
    )
}

/// RFC 6750's `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}
