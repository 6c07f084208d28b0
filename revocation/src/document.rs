//! The deny document of layer 2 (docs/sessions.md): what a protected role's inline
//! policy `sentinel-revoked-sessions` must say, as a pure function of the revoked sessions
//! the table holds now. [`crate::layer`] does the I/O.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

/// Name of the inline role policy.
pub const POLICY_NAME: &str = "sentinel-revoked-sessions";
/// IAM's limit for all inline policies of one role, whitespace not counted.
pub const INLINE_LIMIT: usize = 10_240;

const IDS_SID: &str = "SentinelRevokedSessions";
const BEFORE_SID: &str = "SentinelRevokedSessionsBefore";
const TAG_KEY: &str = "aws:PrincipalTag/sentinel-session-id";
const ISSUE_TIME_KEY: &str = "aws:TokenIssueTime";
/// Longest session STS issues: a cut-off older than this can no longer match a live session.
const MAX_SESSION: Duration = Duration::seconds(43_200);

/// A session the store says is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSession {
    /// Its id (the `sentinel-session-id` tag).
    pub id: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When its credentials stop working anyway.
    pub expires_at: DateTime<Utc>,
}

/// What the role's current policy says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExistingDeny {
    /// Session ids it denies.
    pub ids: BTreeSet<String>,
    /// A fallback cut-off: every session issued before it is denied.
    pub issued_before: Option<DateTime<Utc>>,
}

impl ExistingDeny {
    /// Reads our two statements out of a policy document; anything else is ignored.
    pub fn parse(document: &str) -> Self {
        let Ok(doc) = serde_json::from_str::<Value>(document) else {
            return Self::default();
        };
        let statements = match doc.get("Statement") {
            Some(Value::Array(list)) => list.clone(),
            Some(single @ Value::Object(_)) => vec![single.clone()],
            _ => Vec::new(),
        };
        let mut existing = Self::default();
        for statement in &statements {
            let sid = statement.get("Sid").and_then(Value::as_str);
            let condition = statement.get("Condition");
            match sid {
                Some(IDS_SID) => {
                    let values = condition
                        .and_then(|c| c.get("StringEquals"))
                        .and_then(|c| c.get(TAG_KEY));
                    match values {
                        Some(Value::String(id)) => {
                            existing.ids.insert(id.clone());
                        }
                        Some(Value::Array(ids)) => existing
                            .ids
                            .extend(ids.iter().filter_map(Value::as_str).map(str::to_owned)),
                        _ => {}
                    }
                }
                Some(BEFORE_SID) => {
                    existing.issued_before = condition
                        .and_then(|c| c.get("DateLessThan"))
                        .and_then(|c| c.get(ISSUE_TIME_KEY))
                        .and_then(Value::as_str)
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&Utc));
                }
                _ => {}
            }
        }
        existing
    }
}

/// What the role's inline policy should become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyPolicy {
    /// Nothing left to deny: the inline policy should not exist.
    Remove,
    /// This exact document.
    Document {
        /// Compact JSON.
        json: String,
        /// True when the id list did not fit and was replaced by a cut-off at `now`.
        fallback: bool,
    },
}

/// Builds the role's deny policy.
///
/// `revoked` holds every session the store reports as revoked among the ids
/// already in the policy and the ones just revoked; ids missing from it
/// (unknown, active, unreadable) are dropped, and so are expired sessions.
/// The ids are sorted, so the same inputs always give the same bytes. When the
/// document would not fit next to the role's other inline policies
/// (`others_chars`), it falls back to denying every session issued before
/// `now`.
pub fn build(
    existing: &ExistingDeny,
    revoked: &[RevokedSession],
    others_chars: usize,
    now: DateTime<Utc>,
) -> DenyPolicy {
    let cutoff = existing
        .issued_before
        .filter(|cutoff| *cutoff + MAX_SESSION > now);
    let ids: BTreeSet<&str> = revoked
        .iter()
        .filter(|s| s.expires_at > now)
        .filter(|s| cutoff.is_none_or(|cutoff| s.issued_at >= cutoff))
        .map(|s| s.id.as_str())
        .collect();
    if ids.is_empty() && cutoff.is_none() {
        return DenyPolicy::Remove;
    }
    let json = document(&ids, cutoff);
    if others_chars.saturating_add(json.len()) <= INLINE_LIMIT {
        return DenyPolicy::Document {
            json,
            fallback: false,
        };
    }
    // SECURITY: the cut-off denies every token issued before it, so it must not be
    // earlier than any session it replaces: the newest one, or now, whichever is later,
    // rounded UP to the millisecond IAM compares.
    let newest = revoked.iter().map(|s| s.issued_at).max().unwrap_or(now);
    DenyPolicy::Document {
        json: document(&BTreeSet::new(), Some(ceil_millis(newest.max(now)))),
        fallback: true,
    }
}

/// `at` rounded up to a whole millisecond, strictly after any sub-millisecond part.
fn ceil_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    let millis = at.timestamp_millis();
    let floor = DateTime::from_timestamp_millis(millis).unwrap_or(at);
    if floor == at {
        at
    } else {
        DateTime::from_timestamp_millis(millis.saturating_add(1)).unwrap_or(at)
    }
}

/// Characters IAM counts for a policy document (whitespace is not counted).
pub fn counted_chars(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document<'a> {
    version: &'static str,
    statement: Vec<Statement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement<'a> {
    sid: &'static str,
    effect: &'static str,
    action: &'static str,
    resource: &'static str,
    condition: Condition<'a>,
}

#[derive(Serialize)]
enum Condition<'a> {
    StringEquals {
        #[serde(rename = "aws:PrincipalTag/sentinel-session-id")]
        ids: Vec<&'a str>,
    },
    DateLessThan {
        #[serde(rename = "aws:TokenIssueTime")]
        issued_before: String,
    },
}

fn document(ids: &BTreeSet<&str>, cutoff: Option<DateTime<Utc>>) -> String {
    let deny = |sid, condition| Statement {
        sid,
        effect: "Deny",
        action: "*",
        resource: "*",
        condition,
    };
    let mut statement = Vec::new();
    if !ids.is_empty() {
        statement.push(deny(
            IDS_SID,
            Condition::StringEquals {
                ids: ids.iter().copied().collect(),
            },
        ));
    }
    if let Some(cutoff) = cutoff {
        statement.push(deny(
            BEFORE_SID,
            Condition::DateLessThan {
                // Milliseconds: a cut-off rounded down to the second let sessions issued
                // in that second through.
                issued_before: cutoff.to_rfc3339_opts(SecondsFormat::Millis, true),
            },
        ));
    }
    let doc = Document {
        version: "2012-10-17",
        statement,
    };
    // Serialising plain strings into a String cannot fail.
    serde_json::to_string(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn session(n: u32, expires_in_minutes: i64) -> RevokedSession {
        RevokedSession {
            id: format!("{n:032x}"),
            issued_at: now() - Duration::minutes(10),
            expires_at: now() + Duration::minutes(expires_in_minutes),
        }
    }

    fn json(policy: &DenyPolicy) -> &str {
        match policy {
            DenyPolicy::Document { json, .. } => json,
            DenyPolicy::Remove => panic!("expected a document"),
        }
    }

    #[test]
    fn lists_revoked_ids_sorted_in_the_documented_shape() {
        let policy = build(
            &ExistingDeny::default(),
            &[session(2, 30), session(1, 30)],
            0,
            now(),
        );
        assert_eq!(
            json(&policy),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"SentinelRevokedSessions","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/sentinel-session-id":["00000000000000000000000000000001","00000000000000000000000000000002"]}}}]}"#
        );
        assert!(matches!(
            policy,
            DenyPolicy::Document {
                fallback: false,
                ..
            }
        ));
    }

    #[test]
    fn rebuilding_from_its_own_output_is_byte_identical() {
        let revoked = [session(1, 30), session(2, 30)];
        let first = build(&ExistingDeny::default(), &revoked, 0, now());
        let existing = ExistingDeny::parse(json(&first));
        assert_eq!(existing.ids.len(), 2);
        let second = build(&existing, &revoked, 0, now() + Duration::minutes(1));
        assert_eq!(first, second);
    }

    #[test]
    fn expired_and_no_longer_revoked_sessions_are_pruned() {
        let first = build(
            &ExistingDeny::default(),
            &[session(1, 30), session(2, 5)],
            0,
            now(),
        );
        let existing = ExistingDeny::parse(json(&first));
        // Ten minutes later session 2 has expired; session 3 was never revoked
        // (the store did not report it), so it is not listed either.
        let later = build(
            &existing,
            &[session(1, 30), session(2, 5)],
            0,
            now() + Duration::minutes(10),
        );
        let ids = ExistingDeny::parse(json(&later)).ids;
        assert_eq!(
            ids.into_iter().collect::<Vec<_>>(),
            vec![format!("{:032x}", 1)]
        );
        assert_eq!(
            build(&existing, &[], 0, now()),
            DenyPolicy::Remove,
            "nothing revoked and live: the policy goes away"
        );
    }

    #[test]
    fn too_many_ids_fall_back_to_a_token_issue_time_cutoff() {
        let many: Vec<_> = (0..400).map(|n| session(n, 30)).collect();
        let policy = build(&ExistingDeny::default(), &many, 0, now());
        let DenyPolicy::Document { json, fallback } = &policy else {
            panic!("expected a document");
        };
        assert!(*fallback);
        assert_eq!(
            json,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"SentinelRevokedSessionsBefore","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T12:00:00.000Z"}}}]}"#
        );
        // Other inline policies count against the same limit.
        let few = [session(1, 30)];
        assert!(matches!(
            build(&ExistingDeny::default(), &few, 0, now()),
            DenyPolicy::Document {
                fallback: false,
                ..
            }
        ));
        assert!(matches!(
            build(&ExistingDeny::default(), &few, INLINE_LIMIT - 10, now()),
            DenyPolicy::Document { fallback: true, .. }
        ));
    }

    #[test]
    fn a_cutoff_is_kept_while_it_can_matter_and_covers_older_sessions() {
        let existing = ExistingDeny {
            ids: BTreeSet::new(),
            issued_before: Some(now() - Duration::minutes(1)),
        };
        // Session 1 was issued before the cut-off: already covered, not listed.
        let newer = RevokedSession {
            id: "b".repeat(32),
            issued_at: now(),
            expires_at: now() + Duration::hours(1),
        };
        let policy = build(&existing, &[session(1, 30), newer.clone()], 0, now());
        let parsed = ExistingDeny::parse(json(&policy));
        assert_eq!(parsed.issued_before, existing.issued_before);
        assert_eq!(
            parsed.ids.iter().cloned().collect::<Vec<_>>(),
            vec!["b".repeat(32)]
        );
        // Twelve hours on, no session issued before the cut-off can be alive.
        assert_eq!(
            build(&existing, &[], 0, now() + Duration::hours(13)),
            DenyPolicy::Remove
        );
        // Second run in fallback mode keeps the same cut-off: idempotent.
        let again = [session(1, 30), newer];
        assert_eq!(
            build(&parsed, &again, 0, now() + Duration::minutes(5)),
            policy
        );
    }

    #[test]
    fn parsing_tolerates_foreign_and_single_value_documents() {
        assert_eq!(ExistingDeny::parse("not json"), ExistingDeny::default());
        let single = r#"{"Statement":{"Sid":"SentinelRevokedSessions","Condition":{"StringEquals":{"aws:PrincipalTag/sentinel-session-id":"abc"}}}}"#;
        assert!(ExistingDeny::parse(single).ids.contains("abc"));
        assert_eq!(counted_chars("{ \"a\" :\n 1 }"), 7);
    }

    /// The fallback cut-off must cover a session issued a few milliseconds into the
    /// second: rounding it down to the whole second (as before) let a session issued at
    /// 14:56:31.0099 through while its row said revoked.
    #[test]
    fn the_fallback_cut_off_has_milliseconds_and_is_never_before_a_covered_session() {
        let now =
            Utc.with_ymd_and_hms(2026, 3, 1, 14, 56, 31).unwrap() + Duration::microseconds(500_400);
        let mut newest = session(1, 30);
        newest.issued_at =
            Utc.with_ymd_and_hms(2026, 3, 1, 14, 56, 31).unwrap() + Duration::microseconds(9_900);
        newest.expires_at = now + Duration::minutes(30);
        let policy = build(
            &ExistingDeny::default(),
            &[newest.clone()],
            INLINE_LIMIT,
            now,
        );
        assert!(matches!(
            policy,
            DenyPolicy::Document { fallback: true, .. }
        ));
        let cutoff = ExistingDeny::parse(json(&policy)).issued_before.unwrap();
        assert!(cutoff >= now, "{cutoff} is before the revocation at {now}");
        assert!(cutoff > newest.issued_at);
        assert!(json(&policy).contains("14:56:31.501Z"), "{}", json(&policy));
        // A session issued after `now` (clock skew between TVMs) is still covered.
        let mut later = newest;
        later.issued_at = now + Duration::milliseconds(20);
        let policy = build(
            &ExistingDeny::default(),
            &[later.clone()],
            INLINE_LIMIT,
            now,
        );
        let cutoff = ExistingDeny::parse(json(&policy)).issued_before.unwrap();
        assert!(cutoff > later.issued_at, "{cutoff} <= {}", later.issued_at);
    }
}
