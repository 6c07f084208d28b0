//! The session record: one row per vended set of credentials, kept for audit after the
//! credentials expire, and the revocation that can end it early.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use sentinel_types::{AccountId, ProfileName, RoleArn, SessionId, SourceIdentity};

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

/// One vended session, as stored (docs/sessions.md). Holds no secret: the access key id identifies
/// the credentials but cannot sign anything.
///
/// Its serde form (the CLI's `--json`, the admin API) is flat as docs/sessions.md lists it:
/// `status` plus `revoked_at`, `revoked_by` and `revoked_reason` when revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "FlatRecord", try_from = "FlatRecord")]
pub struct SessionRecord {
    /// Partition key.
    pub session_id: SessionId,
    /// The caller's ARN as AWS verified it.
    pub principal_arn: String,
    /// The caller's account.
    pub account_id: AccountId,
    /// The user name derived from the caller's ARN.
    pub user: String,
    /// The profile the credentials were vended for.
    pub profile: ProfileName,
    /// The protected role that was assumed.
    pub role_arn: RoleArn,
    /// The `SourceIdentity` set on the role session.
    pub source_identity: SourceIdentity,
    /// The access key id of the vended credentials.
    pub access_key_id: String,
    /// The policy rule that allowed the request.
    pub rule: String,
    /// Active, or revoked with who, why and when: a revoked session always carries its
    /// revocation and an active one never does.
    pub state: SessionState,
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
    /// The approved request the session was vended under (`require_approval`).
    pub approval_id: Option<String>,
    /// The break-glass event the session was vended under.
    pub breakglass_id: Option<String>,
    /// Epoch seconds after which DynamoDB may delete the row; see [`SessionRecord::ttl_for`].
    pub ttl: i64,
}

/// Whether a session was revoked, and if so how, and where layer 2 stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Issued and not revoked.
    Active,
    /// Revoked by an administrator; never becomes active again. The [`AwsDeny`] says
    /// whether the deny on the protected role (layer 2) covers it yet.
    Revoked(Revocation, AwsDeny),
}

/// Where revocation layer 2 (the inline deny on the protected role) stands for a
/// revoked session, so that `sessions show` tells the truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwsDeny {
    /// Not written (yet): the row is revoked, the role's deny may not hold it. Also what
    /// an attempt leaves that a retry repairs once its cause passes or is deployed (IAM
    /// unreachable, the revoker role missing); `reconcile` applies it.
    Pending,
    /// The role's deny was written and read back holding this session.
    Applied {
        /// When the deny was verified.
        at: DateTime<Utc>,
    },
    /// IAM refused the writer's own write, or kept something else than was written: a
    /// human fixes the cause, then `reconcile` retries.
    Failed {
        /// Why, for operators (which role, what to deploy).
        reason: String,
    },
}

impl AwsDeny {
    /// `pending`, `applied` or `failed`: the stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied { .. } => "applied",
            Self::Failed { .. } => "failed",
        }
    }

    /// The state stored as `aws_deny`, `aws_deny_at` and `aws_deny_reason`. A row
    /// revoked before layer 2 was recorded has none of them: pending.
    pub(crate) fn from_parts(
        state: Option<&str>,
        at: Option<DateTime<Utc>>,
        reason: Option<String>,
    ) -> Result<Self, String> {
        match (state, at, reason) {
            (None | Some("pending"), None, None) => Ok(Self::Pending),
            (Some("applied"), Some(at), None) => Ok(Self::Applied { at }),
            (Some("failed"), None, Some(reason)) => Ok(Self::Failed { reason }),
            (state, ..) => Err(format!(
                "`aws_deny` `{}` does not fit its time and reason",
                state.unwrap_or("")
            )),
        }
    }
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

    /// `active` or `revoked`.
    pub fn status(&self) -> Status {
        match self.state {
            SessionState::Active => Status::Active,
            SessionState::Revoked(..) => Status::Revoked,
        }
    }

    /// Who revoked the session, why and when; `None` while it is active.
    pub fn revocation(&self) -> Option<&Revocation> {
        match &self.state {
            SessionState::Active => None,
            SessionState::Revoked(r, _) => Some(r),
        }
    }

    /// Where layer 2 stands; `None` while the session is active.
    pub fn aws_deny(&self) -> Option<&AwsDeny> {
        match &self.state {
            SessionState::Active => None,
            SessionState::Revoked(_, deny) => Some(deny),
        }
    }

    /// Whether the session may be used at `now`: not revoked and not yet expired.
    /// DynamoDB deletes expired rows late (or, in local stand-ins, never), so callers must
    /// decide on this and not on the row's presence.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        self.state == SessionState::Active && self.expires_at > now
    }
}

/// The flat serde shape of a [`SessionRecord`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlatRecord {
    session_id: SessionId,
    principal_arn: String,
    account_id: AccountId,
    user: String,
    profile: ProfileName,
    role_arn: RoleArn,
    source_identity: SourceIdentity,
    access_key_id: String,
    rule: String,
    status: Status,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    source_ip: Option<String>,
    user_agent: Option<String>,
    request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    approval_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    breakglass_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aws_deny: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aws_deny_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aws_deny_reason: Option<String>,
    ttl: i64,
}

impl From<SessionRecord> for FlatRecord {
    fn from(r: SessionRecord) -> Self {
        let status = r.status();
        let (revoked_at, revoked_by, revoked_reason, deny) = match r.state {
            SessionState::Active => (None, None, None, None),
            SessionState::Revoked(v, deny) => (Some(v.at), Some(v.by), Some(v.reason), Some(deny)),
        };
        let aws_deny = deny.as_ref().map(|d| d.as_str().to_owned());
        let (aws_deny_at, aws_deny_reason) = match deny {
            Some(AwsDeny::Applied { at }) => (Some(at), None),
            Some(AwsDeny::Failed { reason }) => (None, Some(reason)),
            _ => (None, None),
        };
        Self {
            session_id: r.session_id,
            principal_arn: r.principal_arn,
            account_id: r.account_id,
            user: r.user,
            profile: r.profile,
            role_arn: r.role_arn,
            source_identity: r.source_identity,
            access_key_id: r.access_key_id,
            rule: r.rule,
            status,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            source_ip: r.source_ip,
            user_agent: r.user_agent,
            request_id: r.request_id,
            approval_id: r.approval_id,
            breakglass_id: r.breakglass_id,
            revoked_at,
            revoked_by,
            revoked_reason,
            aws_deny,
            aws_deny_at,
            aws_deny_reason,
            ttl: r.ttl,
        }
    }
}

impl TryFrom<FlatRecord> for SessionRecord {
    type Error = String;

    fn try_from(f: FlatRecord) -> Result<Self, String> {
        let deny = AwsDeny::from_parts(f.aws_deny.as_deref(), f.aws_deny_at, f.aws_deny_reason)?;
        let state = SessionState::from_parts(
            f.status,
            f.revoked_at,
            f.revoked_by,
            f.revoked_reason,
            f.aws_deny.is_some().then_some(deny),
        )?;
        Ok(Self {
            session_id: f.session_id,
            principal_arn: f.principal_arn,
            account_id: f.account_id,
            user: f.user,
            profile: f.profile,
            role_arn: f.role_arn,
            source_identity: f.source_identity,
            access_key_id: f.access_key_id,
            rule: f.rule,
            state,
            issued_at: f.issued_at,
            expires_at: f.expires_at,
            source_ip: f.source_ip,
            user_agent: f.user_agent,
            request_id: f.request_id,
            approval_id: f.approval_id,
            breakglass_id: f.breakglass_id,
            ttl: f.ttl,
        })
    }
}

impl SessionState {
    /// The state stored as `status` and the three `revoked_*` attributes: a revoked row
    /// must carry `revoked_at`, an active one none of them.
    pub(crate) fn from_parts(
        status: Status,
        at: Option<DateTime<Utc>>,
        by: Option<String>,
        reason: Option<String>,
        deny: Option<AwsDeny>,
    ) -> Result<Self, String> {
        match (status, at) {
            (Status::Active, None) if by.is_none() && reason.is_none() && deny.is_none() => {
                Ok(Self::Active)
            }
            (Status::Active, _) => Err("an active session carries revocation attributes".into()),
            (Status::Revoked, Some(at)) => Ok(Self::Revoked(
                Revocation {
                    by: by.unwrap_or_default(),
                    reason: reason.unwrap_or_default(),
                    at,
                },
                deny.unwrap_or(AwsDeny::Pending),
            )),
            (Status::Revoked, None) => Err("a revoked session has no `revoked_at`".into()),
        }
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
            account_id: "111122223333".parse().unwrap(),
            user: "alice".into(),
            profile: "prod".parse().unwrap(),
            role_arn: "arn:aws:iam::111122223333:role/SentinelProtected-prod"
                .parse()
                .unwrap(),
            source_identity: "sentinel=alice".parse().unwrap(),
            access_key_id: "ASIAEXAMPLEEXAMPLE01".into(),
            rule: "oncall".into(),
            state: SessionState::Revoked(
                Revocation {
                    by: "arn:aws:iam::111122223333:user/admin".into(),
                    reason: "laptop lost".into(),
                    at: issued_at + TimeDelta::minutes(5),
                },
                AwsDeny::Pending,
            ),
            issued_at,
            expires_at,
            source_ip: Some("203.0.113.7".into()),
            approval_id: Some("0123456789abcdef0123456789abcdef".into()),
            breakglass_id: Some("fedcba9876543210fedcba9876543210".into()),
            user_agent: Some("aws-cli/2.17 sentinel/0.1".into()),
            request_id: "req-0001".into(),
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
        let revoked = sample_record();
        let mut record = revoked.clone();
        record.state = SessionState::Active;
        let before = record.expires_at - TimeDelta::seconds(1);
        assert!(record.is_active_at(before));
        assert!(!record.is_active_at(record.expires_at));
        assert!(!revoked.is_active_at(before));
        assert_eq!(revoked.status(), Status::Revoked);
        assert_eq!(revoked.revocation().unwrap().reason, "laptop lost");
    }

    #[test]
    fn json_is_flat_and_a_revoked_active_mix_is_refused() {
        let record = sample_record();
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["status"], "revoked");
        assert_eq!(json["revoked_reason"], "laptop lost");
        assert_eq!(json["profile"], "prod");
        let back: SessionRecord = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, record);

        let mut active_with_date = json.clone();
        active_with_date["status"] = "active".into();
        let e = serde_json::from_value::<SessionRecord>(active_with_date).unwrap_err();
        assert!(e.to_string().contains("carries revocation"), "{e}");

        let mut revoked_without_date = json.clone();
        revoked_without_date
            .as_object_mut()
            .unwrap()
            .remove("revoked_at");
        assert!(serde_json::from_value::<SessionRecord>(revoked_without_date).is_err());

        let mut bad_profile = json;
        bad_profile["profile"] = "../x".into();
        assert!(serde_json::from_value::<SessionRecord>(bad_profile).is_err());
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
