//! The proxy's decision log: one JSON line per request, on stdout (CloudWatch Logs in
//! Lambda). Built from explicit fields only: no header value, body or credential of the
//! caller's or the upstream's can reach it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// The outcome class of a request: forwarded (whatever the upstream answered), refused
/// before the upstream saw anything, or failed (the TVM's decision log's).
pub use protocol::Effect;

/// One `"event": "proxy"` line.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyLog {
    pub timestamp: String,
    pub level: &'static str,
    pub event: &'static str,
    pub request_id: String,
    pub stack: Option<String>,
    pub caller_arn: Option<String>,
    pub account_id: Option<String>,
    pub user: Option<String>,
    pub source_ip: Option<String>,
    pub method: String,
    /// The canonical path (no query: it may carry data).
    pub path: Option<String>,
    /// The allow-list entry that admitted the route.
    pub route: Option<String>,
    pub effect: Effect,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub code: Option<&'static str>,
    /// Internal detail for operators; never sent to clients.
    pub detail: Option<String>,
    pub upstream_status: Option<u16>,
    pub request_bytes: usize,
    /// Until the upstream's status and headers arrived (or the refusal).
    pub latency_ms: f64,
}

impl ProxyLog {
    /// A line for a request that starts at `at`.
    pub fn new(request_id: String, method: String, at: DateTime<Utc>) -> Self {
        Self {
            timestamp: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            level: "info",
            event: "proxy",
            request_id,
            stack: None,
            caller_arn: None,
            account_id: None,
            user: None,
            source_ip: None,
            method,
            path: None,
            route: None,
            effect: Effect::Allow,
            rule: None,
            reason: None,
            code: None,
            detail: None,
            upstream_status: None,
            request_bytes: 0,
            latency_ms: 0.0,
        }
    }

    /// The JSON line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                r#"{{"event":"proxy","level":"error","detail":"log serialisation failed: {e}"}}"#
            )
        })
    }
}
