//! `sentinel-authorizer`: an API Gateway Lambda REQUEST authorizer that lets a call
//! through only when it names an existing, active, unexpired Sentinel session
//! (SPEC §7).
//!
//! It understands HTTP API authorizer events (payload 2.0, answered with a simple
//! response) and REST API REQUEST authorizer events (answered with an IAM policy).
//! The session ID comes from the `X-Sentinel-Session-ID` header (any case) or the
//! `sentinel_session_id` query parameter. Every failure — missing, malformed,
//! unknown, expired, revoked, store error — is a deny, never a Lambda error.
//!
//! It is **not** an authentication layer: it checks that a session is still
//! valid, not who is calling (use AWS_IAM auth or another authorizer for that).
//!
//! ```
//! use authorizer::{Decision, response};
//! use serde_json::json;
//!
//! let event = json!({"version": "2.0", "type": "REQUEST", "headers": {}});
//! let deny = response(&event, &Decision::Deny { reason: "no session id" });
//! assert_eq!(deny, json!({"isAuthorized": false}));
//! ```

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sessions::{SessionId, SessionRecord, SessionStore};

/// Header carrying the session ID (matched case-insensitively).
pub const SESSION_HEADER: &str = "x-sentinel-session-id";
/// Query parameter carrying the session ID.
pub const SESSION_QUERY: &str = "sentinel_session_id";

/// What the authorizer decided, and why (the reason is logged, never returned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The session is active and unexpired.
    Allow(Box<SessionRecord>),
    /// Anything else.
    Deny {
        /// For the log line.
        reason: &'static str,
    },
}

/// The kind of authorizer event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// HTTP API, payload format 2.0: simple response.
    HttpApiV2,
    /// REST API REQUEST authorizer: IAM policy response.
    RestRequest,
}

/// HTTP API v2 events say `"version": "2.0"`; everything else is answered in the REST
/// format (an HTTP API with payload 1.0 also expects the IAM policy format).
pub fn event_kind(event: &Value) -> EventKind {
    if event.get("version").and_then(Value::as_str) == Some("2.0") {
        EventKind::HttpApiV2
    } else {
        EventKind::RestRequest
    }
}

/// The first string value under `wanted` in a header or query map (single- or multi-value).
fn lookup<'e>(map: Option<&'e Value>, wanted: &str, case_insensitive: bool) -> Option<&'e str> {
    map?.as_object()?.iter().find_map(|(k, v)| {
        let matches = if case_insensitive {
            k.eq_ignore_ascii_case(wanted)
        } else {
            k == wanted
        };
        if !matches {
            return None;
        }
        match v {
            Value::String(s) => Some(s.as_str()),
            // REST multiValue maps hold arrays.
            Value::Array(values) => values.first().and_then(Value::as_str),
            _ => None,
        }
    })
}

/// The raw session ID from the header (any case; first value) or the query string.
pub fn session_id_from(event: &Value) -> Option<&str> {
    lookup(event.get("headers"), SESSION_HEADER, true)
        .or_else(|| lookup(event.get("multiValueHeaders"), SESSION_HEADER, true))
        .map(|v| v.split(',').next().unwrap_or(v).trim())
        .or_else(|| lookup(event.get("queryStringParameters"), SESSION_QUERY, false))
        .or_else(|| {
            lookup(
                event.get("multiValueQueryStringParameters"),
                SESSION_QUERY,
                false,
            )
        })
}

/// Decides on one event. Reads are strongly consistent (the store's `get`).
pub async fn decide<S: SessionStore>(store: &S, event: &Value, now: DateTime<Utc>) -> Decision {
    let Some(raw) = session_id_from(event) else {
        return Decision::Deny {
            reason: "no session id",
        };
    };
    let Ok(id) = SessionId::parse(raw) else {
        return Decision::Deny {
            reason: "malformed session id",
        };
    };
    // SECURITY: any store failure denies; an outage must not open the door.
    match store.get(&id).await {
        Err(_) => Decision::Deny {
            reason: "session store error",
        },
        Ok(None) => Decision::Deny {
            reason: "unknown session",
        },
        Ok(Some(record)) if record.status() != sessions::Status::Active => Decision::Deny {
            reason: "revoked session",
        },
        Ok(Some(record)) if !record.is_active_at(now) => Decision::Deny {
            reason: "expired session",
        },
        Ok(Some(record)) => Decision::Allow(Box::new(record)),
    }
}

/// The response API Gateway expects for `event`'s kind.
pub fn response(event: &Value, decision: &Decision) -> Value {
    let context = match decision {
        Decision::Allow(record) => Some(json!({
            "session_id": record.session_id.as_str(),
            "user": record.user,
            "profile": record.profile.as_str(),
            "principal_arn": record.principal_arn,
        })),
        Decision::Deny { .. } => None,
    };
    match event_kind(event) {
        EventKind::HttpApiV2 => {
            let mut body = Map::new();
            body.insert("isAuthorized".into(), Value::Bool(context.is_some()));
            if let Some(context) = context {
                body.insert("context".into(), context);
            }
            Value::Object(body)
        }
        EventKind::RestRequest => {
            let resource = event
                .get("methodArn")
                .and_then(Value::as_str)
                .unwrap_or("*");
            let (effect, principal) = match decision {
                Decision::Allow(record) => ("Allow", record.user.clone()),
                Decision::Deny { .. } => ("Deny", "unknown".to_owned()),
            };
            let mut body = json!({
                "principalId": principal,
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": effect,
                        "Resource": resource,
                    }],
                },
            });
            if let (Some(context), Some(map)) = (context, body.as_object_mut()) {
                map.insert("context".into(), context);
            }
            body
        }
    }
}

/// One JSON log line per decision; never more than the session's public fields.
pub fn log_line(event: &Value, decision: &Decision, now: DateTime<Utc>) -> String {
    let request_id = event
        .pointer("/requestContext/requestId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (effect, reason, session, user) = match decision {
        Decision::Allow(r) => (
            "allow",
            "active session",
            Some(r.session_id.as_str()),
            Some(r.user.as_str()),
        ),
        Decision::Deny { reason } => ("deny", *reason, None, None),
    };
    json!({
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "level": if effect == "allow" { "info" } else { "warn" },
        "event": "authorize",
        "request_id": request_id,
        "effect": effect,
        "reason": reason,
        "session_id": session,
        "user": user,
        "route": event.get("routeArn").or_else(|| event.get("methodArn")),
    })
    .to_string()
}

#[cfg(test)]
mod tests;
