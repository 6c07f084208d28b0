//! `sentinel-authorizer`: an API Gateway Lambda REQUEST authorizer (docs/authorizer.md).
//! In the session modes (`proof`, `session-id`) it lets a call through only when it
//! names an existing, active, unexpired Sentinel session; in the token modes ([`token`]:
//! `jwt`, `cognito`) only with a verified bearer JWT.
//!
//! It understands HTTP API authorizer events (payload 2.0, answered with a simple
//! response) and REST API REQUEST authorizer events (answered with an IAM policy).
//! The session ID comes from the `X-Sentinel-Session-ID` header (any case) or the
//! `sentinel_session_id` query parameter. Every failure — missing, malformed,
//! unknown, expired, revoked, store error, an event that does not deserialize — is a
//! deny, never a Lambda error.
//!
//! In `session-id` mode it is **not** an authentication layer: it checks that a session
//! is still valid, not who is calling (use AWS_IAM auth or another authorizer for that).
//!
//! Each answered event is an [`Outcome`]: the response, one JSON decision line and one
//! CloudWatch Embedded Metric Format line, which the front door (`main.rs`) writes.
//!
//! ```
//! use authorizer::{Event, EventKind};
//! use serde_json::json;
//!
//! let raw = json!({
//!     "version": "2.0",
//!     "headers": {"X-Sentinel-Session-ID": "00112233445566778899aabbccddeeff"},
//!     "requestContext": {"http": {"method": "GET"}},
//! });
//! let event = Event::parse(&raw).unwrap();
//! assert_eq!(event.kind(), EventKind::HttpApiV2);
//! assert_eq!(event.session_id(), Some("00112233445566778899aabbccddeeff"));
//! // No request context: not an HTTP API event, so `authorize` denies it.
//! assert!(Event::parse(&json!({"version": "2.0"})).is_err());
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sessions::{SessionId, SessionRecord, SessionStore};

mod event;
pub mod proof;
pub mod token;

pub use event::{
    AUTHORIZATION_HEADER, BearerError, Event, EventKind, NotUnderstood, SESSION_HEADER,
    SESSION_QUERY,
};
use proof::{CallerIdentity, ProofError, ProofSettings};

/// What a session ID must come with (`SENTINEL_AUTHORIZER_MODE`).
#[derive(Debug, Clone)]
pub enum Mode<C> {
    /// `proof` (the default): a proof of possession signed with the session's own
    /// credentials for this API's audience, replayed to STS through `C`.
    Proof(ProofSettings, C),
    /// `session-id`: the ID alone, bearer-grade (anyone who read it in a log can use it);
    /// for callers that cannot sign.
    SessionId,
}

/// The `Stack` metric dimension when `SENTINEL_STACK_NAME` is unset.
pub const DEFAULT_STACK: &str = "sentinel";

/// What the authorizer decided, and why (the reason is logged, never returned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The session is active and unexpired.
    Allow(Box<SessionRecord>),
    /// `jwt` and `cognito` modes: the bearer token verified (and carried the route's
    /// scopes).
    AllowToken(Box<token::Grant>),
    /// Anything else.
    Deny {
        /// For the log line.
        reason: &'static str,
    },
    /// A proof that does not prove possession of the session: a deny, with why.
    Refused {
        /// For the log line.
        reason: &'static str,
        /// What exactly was wrong, for operators only.
        detail: String,
    },
    /// The check itself failed (the session store, STS, an issuer's keys): a deny,
    /// counted as an error.
    Failed {
        /// For the log line.
        reason: &'static str,
        /// The whole cause chain, for operators only.
        detail: String,
    },
}

/// Decides on one event: the session ID, in `proof` mode the proof's local checks, the
/// session row (a strongly consistent read), then in `proof` mode STS's word on whose
/// credentials signed the proof.
pub async fn decide<S: SessionStore, C: CallerIdentity>(
    store: &S,
    mode: &Mode<C>,
    event: &Event,
    now: DateTime<Utc>,
) -> Decision {
    let Some(raw) = event.session_id() else {
        return Decision::Deny {
            reason: "no session id",
        };
    };
    let Ok(id) = SessionId::parse(raw) else {
        return Decision::Deny {
            reason: "malformed session id",
        };
    };
    // SECURITY: in proof mode the ID alone authorizes nothing (it is in CloudTrail and
    // every access log); what can be checked locally is checked before any I/O.
    let proof = match mode {
        Mode::SessionId => None,
        Mode::Proof(settings, _) => {
            let Some(raw_proof) = event.proof() else {
                return Decision::Deny {
                    reason: "no proof of possession",
                };
            };
            match proof::check(raw_proof, settings, now) {
                Ok(checked) => Some(checked),
                Err(e) => return refused(e),
            }
        }
    };
    let record = match session_row(store, &id, now).await {
        Ok(record) => record,
        Err(decision) => return decision,
    };
    if let (Mode::Proof(_, sts), Some(proof)) = (mode, proof) {
        let checked = match sts.caller_arn(&proof).await {
            Ok(arn) => proof::check_caller(&arn, &record.session_id, &record.role_arn),
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            return refused(e);
        }
    }
    Decision::Allow(Box::new(record))
}

fn refused(e: ProofError) -> Decision {
    if e.is_failure() {
        Decision::Failed {
            reason: "proof check failed",
            detail: e.to_string(),
        }
    } else {
        Decision::Refused {
            reason: "proof refused",
            detail: e.to_string(),
        }
    }
}

/// The session's row when it is active and unexpired; else the deny.
async fn session_row<S: SessionStore>(
    store: &S,
    id: &SessionId,
    now: DateTime<Utc>,
) -> Result<SessionRecord, Decision> {
    // SECURITY: any store failure denies; an outage must not open the door.
    let decision = match store.get(id).await {
        Err(e) => Decision::Failed {
            reason: "session store error",
            detail: sentinel_types::error_chain(&e),
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
        Ok(Some(record)) => return Ok(record),
    };
    Err(decision)
}

/// Answers one raw event: an event that does not deserialize is denied, never an error.
pub async fn authorize<S: SessionStore, C: CallerIdentity>(
    store: &S,
    mode: &Mode<C>,
    raw: &Value,
    now: DateTime<Utc>,
) -> Outcome {
    match Event::parse(raw) {
        Ok(event) => {
            let decision = decide(store, mode, &event, now).await;
            Outcome::of(&event, decision)
        }
        Err(not_understood) => Outcome::not_understood(not_understood),
    }
}

/// One answered event: the decision and what the response and log lines need of the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub kind: EventKind,
    /// API Gateway's request ID.
    pub request_id: Option<String>,
    /// `routeArn` (HTTP API) or `methodArn` (REST: the policy's resource).
    pub route: Option<String>,
    pub decision: Decision,
    /// Why the event did not deserialize, for operators only.
    pub event_error: Option<String>,
}

impl Outcome {
    /// The outcome of a decision on a parsed event.
    pub(crate) fn of(event: &Event, decision: Decision) -> Self {
        Self {
            kind: event.kind(),
            request_id: event.request_id().map(str::to_owned),
            route: event.route().map(str::to_owned),
            decision,
            event_error: None,
        }
    }

    /// The deny of an event that did not deserialize.
    pub(crate) fn not_understood(not_understood: NotUnderstood) -> Self {
        Self {
            kind: not_understood.kind,
            request_id: not_understood.request_id,
            route: not_understood.route,
            decision: Decision::Deny {
                reason: "event not understood",
            },
            event_error: Some(not_understood.error.to_string()),
        }
    }

    /// The response API Gateway expects for the event's kind.
    pub fn response(&self) -> Value {
        let context = match &self.decision {
            Decision::Allow(record) => Some(json!({
                "session_id": record.session_id.as_str(),
                "user": record.user,
                "profile": record.profile.as_str(),
                "principal_arn": record.principal_arn,
            })),
            Decision::AllowToken(grant) => Some(json!(grant.context)),
            Decision::Deny { .. } | Decision::Refused { .. } | Decision::Failed { .. } => None,
        };
        match self.kind {
            EventKind::HttpApiV2 => {
                let mut body = Map::new();
                body.insert("isAuthorized".into(), Value::Bool(context.is_some()));
                if let Some(context) = context {
                    body.insert("context".into(), context);
                }
                Value::Object(body)
            }
            EventKind::RestRequest => {
                let (effect, principal) = match &self.decision {
                    Decision::Allow(record) => ("Allow", record.user.as_str()),
                    Decision::AllowToken(grant) => ("Allow", grant.principal.as_str()),
                    Decision::Deny { .. } | Decision::Refused { .. } | Decision::Failed { .. } => {
                        ("Deny", "unknown")
                    }
                };
                let mut body = json!({
                    "principalId": principal,
                    "policyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Action": "execute-api:Invoke",
                            "Effect": effect,
                            "Resource": self.route.as_deref().unwrap_or("*"),
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

    /// One JSON decision line; never more than the session's public fields (in the token
    /// modes: the token's subject as `user`, and its `issuer`; never the token). `detail`
    /// (a store failure's cause chain, why a token was refused, or why the event was not
    /// understood) stays here.
    pub fn log_line(&self, now: DateTime<Utc>) -> String {
        let (level, effect, reason, session, user, detail) = match &self.decision {
            Decision::Allow(r) => (
                "info",
                "allow",
                "active session",
                Some(r.session_id.as_str()),
                Some(r.user.as_str()),
                None,
            ),
            Decision::AllowToken(grant) => (
                "info",
                "allow",
                "valid token",
                None,
                Some(grant.principal.as_str()),
                None,
            ),
            Decision::Deny { reason } => (
                "warn",
                "deny",
                *reason,
                None,
                None,
                self.event_error.as_deref(),
            ),
            Decision::Refused { reason, detail } => {
                ("warn", "deny", *reason, None, None, Some(detail.as_str()))
            }
            Decision::Failed { reason, detail } => {
                ("error", "deny", *reason, None, None, Some(detail.as_str()))
            }
        };
        let mut line = json!({
            "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
            "level": level,
            "event": "authorize",
            "request_id": self.request_id.as_deref().unwrap_or(""),
            "effect": effect,
            "reason": reason,
            "detail": detail,
            "session_id": session,
            "user": user,
            "route": self.route,
        });
        if let (Decision::AllowToken(grant), Some(map)) = (&self.decision, line.as_object_mut()) {
            map.insert("issuer".into(), Value::String(grant.issuer.clone()));
        }
        line.to_string()
    }

    /// The CloudWatch Embedded Metric Format line: namespace `Sentinel`, dimension `Stack`.
    /// A failed check is counted in `AuthorizerDenies` and `AuthorizerErrors`.
    pub fn metrics_line(&self, stack: &str, now: DateTime<Utc>) -> String {
        let (allows, denies, errors) = match self.decision {
            Decision::Allow(_) | Decision::AllowToken(_) => (1, 0, 0),
            Decision::Deny { .. } | Decision::Refused { .. } => (0, 1, 0),
            Decision::Failed { .. } => (0, 1, 1),
        };
        json!({
            "_aws": {
                "Timestamp": now.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": "Sentinel",
                    "Dimensions": [["Stack"]],
                    "Metrics": [
                        {"Name": "AuthorizerAllows", "Unit": "Count"},
                        {"Name": "AuthorizerDenies", "Unit": "Count"},
                        {"Name": "AuthorizerErrors", "Unit": "Count"}
                    ]
                }]
            },
            "Stack": stack,
            "AuthorizerAllows": allows,
            "AuthorizerDenies": denies,
            "AuthorizerErrors": errors,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests;
