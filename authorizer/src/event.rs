//! The authorizer events API Gateway sends, as `aws_lambda_events` types, and where the
//! session ID sits in them.

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
