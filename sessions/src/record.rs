//! The session record: one row per vended set of credentials, kept for audit after the
//! credentials expire, and the revocation that can end it early.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::SessionId;

/// Whether a session may still be used. Expiry is not a status: it follows from
/// `expires_at`, so a session is usable only when [`SessionRecord::is_active_at`] says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Issued and not revoked.
    Active,
    /// Revoked by an administrator; never becomes active again.
    Revoked,
}

impl Status {
    /// The stored spelling: `active` or `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = InvalidStatus;

    /// Only the stored spellings are accepted; `Active` or ` active` are refused so that
    /// a filter never silently matches nothing.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "revoked" => Ok(Self::Revoked),
            other => Err(InvalidStatus(other.chars().take(40).collect())),
        }
    }
}

/// A string that is not a session status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a session status (expected `active` or `revoked`)")]
pub struct InvalidStatus(String);

/// One vended session, as stored (SPEC §6). Holds no secret: the access key id identifies
/// the credentials but cannot sign anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Partition key.
    pub session_id: SessionId,
    /// The caller's ARN as AWS verified it.
    pub principal_arn: String,
    /// The caller's account.
    pub account_id: String,
    /// The user name derived from the caller's ARN.
    pub user: String,
    /// The profile the credentials were vended for.
    pub profile: String,
    /// The protected role that was assumed.
    pub role_arn: String,
    /// The `SourceIdentity` set on the role session.
    pub source_identity: String,
    /// The access key id of the vended credentials.
    pub access_key_id: String,
    /// The policy rule that allowed the request.
    pub rule: String,
    /// Active or revoked.
    pub status: Status,
    /// When the credentials were vended.
    pub issued_at: DateTime<Utc>,
    /// When the credentials expire.
    pub expires_at: DateTime<Utc>,
    /// The caller's source IP, when the request carried one.
    pub source_ip: Option<String>,
    /// The caller's user agent, when the request carried one.
    pub user_agent: Option<String>,
    /// The TVM request id, shared with the decision log line.
    pub request_id: String,
    /// When the session was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who revoked the session.
    pub revoked_by: Option<String>,
    /// Why the session was revoked.
    pub revoked_reason: Option<String>,
    /// Epoch seconds after which DynamoDB may delete the row; see [`SessionRecord::ttl_for`].
    pub ttl: i64,
}

impl SessionRecord {
    /// The row's time to live: `expires_at` plus `retention_days`, in epoch seconds.
    /// Audit rows outlive the credentials by the retention period.
    pub fn ttl_for(expires_at: DateTime<Utc>, retention_days: u32) -> i64 {
        let retention = TimeDelta::days(i64::from(retention_days));
        expires_at
            .checked_add_signed(retention)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .timestamp()
    }

    /// Whether the session may be used at `now`: not revoked and not yet expired.
    /// DynamoDB deletes expired rows late (or, in local stand-ins, never), so callers must
    /// decide on this and not on the row's presence.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        self.status == Status::Active && self.expires_at > now
    }
}

/// Who ended a session, why and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The administrator (ARN or name) that revoked the session.
    pub by: String,
    /// Free text kept in the audit row.
    pub reason: String,
    /// When the revocation was requested.
    pub at: DateTime<Utc>,
}

/// The result of revoking a session. Revocation is idempotent: revoking twice is not an
/// error, and the row keeps the first revocation's `revoked_*` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// This call revoked the session; the record as it is now.
    Revoked(SessionRecord),
    /// The session had already been revoked; the record as it was (and still is).
    AlreadyRevoked(SessionRecord),
}

impl RevokeOutcome {
    /// The session's record after the call.
    pub fn record(&self) -> &SessionRecord {
        match self {
            Self::Revoked(r) | Self::AlreadyRevoked(r) => r,
        }
    }

    /// Takes the session's record after the call.
    pub fn into_record(self) -> SessionRecord {
        match self {
            Self::Revoked(r) | Self::AlreadyRevoked(r) => r,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fully populated record, every optional attribute set.
    pub(crate) fn sample_record() -> SessionRecord {
        let issued_at = DateTime::parse_from_rfc3339("2026-11-22T14:15:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let expires_at = DateTime::parse_from_rfc3339("2026-11-22T14:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        SessionRecord {
            session_id: SessionId::parse("3f9a0c1d2e3f405162738495a6b7c8d9").unwrap(),
            principal_arn: "arn:aws:iam::111122223333:user/alice".into(),
            account_id: "111122223333".into(),
            user: "alice".into(),
            profile: "prod".into(),
            role_arn: "arn:aws:iam::111122223333:role/SentinelProtected-prod".into(),
            source_identity: "sentinel=alice".into(),
            access_key_id: "ASIAEXAMPLEEXAMPLE01".into(),
            rule: "oncall".into(),
            status: Status::Revoked,
            issued_at,
            expires_at,
            source_ip: Some("203.0.113.7".into()),
            user_agent: Some("aws-cli/2.17 sentinel/0.1".into()),
            request_id: "req-0001".into(),
            revoked_at: Some(issued_at + TimeDelta::minutes(5)),
            revoked_by: Some("arn:aws:iam::111122223333:user/admin".into()),
            revoked_reason: Some("laptop lost".into()),
            ttl: SessionRecord::ttl_for(expires_at, 90),
        }
    }

    #[test]
    fn status_round_trips_its_stored_spelling_only() {
        for status in [Status::Active, Status::Revoked] {
            assert_eq!(status.as_str().parse::<Status>().unwrap(), status);
        }
        assert!("Active".parse::<Status>().is_err());
        assert!("expired".parse::<Status>().is_err());
        assert_eq!(
            "nope".parse::<Status>().unwrap_err().to_string(),
            "`nope` is not a session status (expected `active` or `revoked`)"
        );
    }

    #[test]
    fn ttl_is_expiry_plus_retention_days() {
        let expires = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(
            SessionRecord::ttl_for(expires, 90),
            1_800_000_000 + 90 * 86_400
        );
        assert_eq!(SessionRecord::ttl_for(expires, 0), 1_800_000_000);
        // Absurd retention saturates instead of overflowing.
        assert!(SessionRecord::ttl_for(DateTime::<Utc>::MAX_UTC, u32::MAX) > 0);
    }

    #[test]
    fn active_means_not_revoked_and_not_expired() {
        let mut record = sample_record();
        record.status = Status::Active;
        let before = record.expires_at - TimeDelta::seconds(1);
        assert!(record.is_active_at(before));
        assert!(!record.is_active_at(record.expires_at));
        record.status = Status::Revoked;
        assert!(!record.is_active_at(before));
    }

    #[test]
    fn outcome_exposes_the_record_either_way() {
        let record = sample_record();
        assert_eq!(RevokeOutcome::Revoked(record.clone()).record(), &record);
        assert_eq!(
            RevokeOutcome::AlreadyRevoked(record.clone()).into_record(),
            record
        );
    }
}
