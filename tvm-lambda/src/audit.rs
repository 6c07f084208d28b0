//! The decision log line and the CloudWatch Embedded Metric Format line emitted
//! for every request (SPEC §5 "Decision log").
//!
//! SECURITY: these records are built from explicit fields only; no credential
//! type is ever passed in, so a secret key or session token cannot reach a log.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::json;

/// The `Stack` metric dimension when the front door sets none (`SENTINEL_STACK_NAME` unset).
pub const DEFAULT_STACK: &str = "sentinel";

/// The outcome class of a request (shared with `sentinel-proxy`'s log).
pub use protocol::Effect;

/// One `"event": "decision"` JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionLog {
    pub timestamp: String,
    pub level: &'static str,
    pub event: &'static str,
    pub request_id: String,
    pub caller_arn: Option<String>,
    pub account_id: Option<String>,
    pub user: Option<String>,
    pub profile: Option<String>,
    /// Admin routes: the admin action (`sessions:revoke`) and what it acts on (a session
    /// ID, `user=alice`, `*`).
    pub action: Option<&'static str>,
    pub target: Option<String>,
    pub effect: Effect,
    pub rule: Option<String>,
    pub reason: Option<String>,
    pub code: Option<&'static str>,
    /// Internal detail for operators (SDK error text, policy error location); never sent to clients.
    pub detail: Option<String>,
    pub session_id: Option<String>,
    pub source_identity: Option<String>,
    pub role_arn: Option<String>,
    pub duration_seconds: Option<u32>,
    /// The approved request (`require_approval`) or break-glass event of the vend.
    pub approval_id: Option<String>,
    pub breakglass_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub latency_ms: f64,
    /// Whether the profile exists; only known profiles become a metric dimension.
    #[serde(skip)]
    pub known_profile: bool,
    /// The metrics' `Stack` dimension, so that two stacks in one account and region
    /// (dev and prod) never trip each other's alarms.
    #[serde(skip)]
    pub stack: String,
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

impl DecisionLog {
    /// A record for a request that starts at `at`; fields are filled in as the request proceeds.
    pub fn new(request_id: String, at: DateTime<Utc>) -> Self {
        Self {
            timestamp: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            level: "info",
            event: "decision",
            request_id,
            caller_arn: None,
            account_id: None,
            user: None,
            profile: None,
            action: None,
            target: None,
            effect: Effect::Allow,
            rule: None,
            reason: None,
            code: None,
            detail: None,
            session_id: None,
            source_identity: None,
            role_arn: None,
            duration_seconds: None,
            approval_id: None,
            breakglass_id: None,
            source_ip: None,
            user_agent: None,
            latency_ms: 0.0,
            known_profile: false,
            stack: DEFAULT_STACK.to_owned(),
            at,
        }
    }

    /// The same record, reporting its metrics under `stack` (the stack name).
    #[must_use]
    pub fn with_stack(mut self, stack: impl Into<String>) -> Self {
        self.stack = stack.into();
        self
    }

    /// The decision line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            // Serialising plain strings and numbers cannot fail; if it ever does, say so.
            format!(
                r#"{{"event":"decision","level":"error","detail":"log serialisation failed: {e}"}}"#
            )
        })
    }

    /// The EMF metrics line: namespace `Sentinel`, dimension sets `Stack, Profile` and
    /// `Stack` (the stack's alarms read the latter).
    ///
    /// SECURITY: an unknown profile name is caller-controlled; it is reported as `-`
    /// so that nobody can mint unbounded metric dimensions.
    pub fn to_emf_line(&self) -> String {
        let profile = match (&self.profile, self.known_profile) {
            (Some(p), true) => p.as_str(),
            _ => "-",
        };
        let count = |effect: Effect| u8::from(self.effect == effect);
        json!({
            "_aws": {
                "Timestamp": self.at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": "Sentinel",
                    "Dimensions": [["Stack", "Profile"], ["Stack"]],
                    "Metrics": [
                        {"Name": "Vends", "Unit": "Count"},
                        {"Name": "Denies", "Unit": "Count"},
                        {"Name": "Errors", "Unit": "Count"},
                        {"Name": "BreakGlass", "Unit": "Count"},
                        {"Name": "LatencyMs", "Unit": "Milliseconds"}
                    ]
                }]
            },
            "Stack": self.stack,
            "Profile": profile,
            "Vends": count(Effect::Allow),
            "Denies": count(Effect::Deny),
            "Errors": count(Effect::Error),
            // Every break-glass attempt that got as far as its event, vended or not.
            "BreakGlass": u8::from(self.breakglass_id.is_some()),
            "LatencyMs": self.latency_ms,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_line_has_every_contract_field() {
        let log = DecisionLog::new("req-1".into(), DateTime::UNIX_EPOCH);
        let value: serde_json::Value = serde_json::from_str(&log.to_json_line()).unwrap();
        for field in [
            "timestamp",
            "level",
            "event",
            "request_id",
            "caller_arn",
            "account_id",
            "user",
            "profile",
            "action",
            "target",
            "effect",
            "rule",
            "reason",
            "code",
            "session_id",
            "source_identity",
            "role_arn",
            "duration_seconds",
            "source_ip",
            "user_agent",
            "latency_ms",
        ] {
            assert!(value.get(field).is_some(), "missing {field}");
        }
        assert_eq!(value["event"], "decision");
    }

    #[test]
    fn unknown_profiles_do_not_become_metric_dimensions() {
        let mut log = DecisionLog::new("req-1".into(), DateTime::UNIX_EPOCH);
        log.profile = Some("attacker-chosen-123".into());
        log.effect = Effect::Deny;
        let emf: serde_json::Value = serde_json::from_str(&log.to_emf_line()).unwrap();
        assert_eq!(emf["Profile"], "-");
        assert_eq!(emf["Denies"], 1);
        assert_eq!(emf["Vends"], 0);
        log.known_profile = true;
        let emf: serde_json::Value = serde_json::from_str(&log.to_emf_line()).unwrap();
        assert_eq!(emf["Profile"], "attacker-chosen-123");
        assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Sentinel");
    }

    #[test]
    fn metrics_carry_the_stack_in_both_dimension_sets() {
        let mut log = DecisionLog::new("req-1".into(), DateTime::UNIX_EPOCH);
        log.profile = Some("prod".into());
        log.known_profile = true;
        log.latency_ms = 12.5;
        let emf: serde_json::Value = serde_json::from_str(&log.to_emf_line()).unwrap();
        assert_eq!(emf["Stack"], DEFAULT_STACK);

        let emf: serde_json::Value =
            serde_json::from_str(&log.with_stack("sentinel-dev").to_emf_line()).unwrap();
        assert_eq!(
            emf,
            json!({
                "_aws": {
                    "Timestamp": 0,
                    "CloudWatchMetrics": [{
                        "Namespace": "Sentinel",
                        "Dimensions": [["Stack", "Profile"], ["Stack"]],
                        "Metrics": [
                            {"Name": "Vends", "Unit": "Count"},
                            {"Name": "Denies", "Unit": "Count"},
                            {"Name": "Errors", "Unit": "Count"},
                            {"Name": "BreakGlass", "Unit": "Count"},
                            {"Name": "LatencyMs", "Unit": "Milliseconds"}
                        ]
                    }]
                },
                "BreakGlass": 0,
                "Stack": "sentinel-dev",
                "Profile": "prod",
                "Vends": 1,
                "Denies": 0,
                "Errors": 0,
                "LatencyMs": 12.5,
            })
        );
    }

    #[test]
    fn the_stack_is_no_field_of_the_decision_line() {
        let log = DecisionLog::new("req-1".into(), DateTime::UNIX_EPOCH).with_stack("s");
        let value: serde_json::Value = serde_json::from_str(&log.to_json_line()).unwrap();
        assert!(value.get("stack").is_none());
    }
}
