//! The records: an approval [`Request`] with its transitions, and a [`BreakGlassEvent`].
//!
//! The transitions are pure: the TVM reads a request, asks it for its next state and
//! writes that with [`crate::ApprovalStore::replace`], which refuses the write when
//! someone else changed the request in between (its `version`).

use chrono::{DateTime, TimeDelta, Utc};
use sentinel_types::{ProfileName, SESSION_ID_BYTES, SessionId};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A request's or event's identifier: 128 random bits as 32 lowercase hex characters,
/// the shape of a session ID.
pub type RequestId = SessionId;

/// A fresh identifier from the operating system's random number generator.
pub fn new_id() -> Result<RequestId, StoreError> {
    let mut bytes = [0u8; SESSION_ID_BYTES];
    // SECURITY: a request ID is what an approver approves; it must be unguessable and a
    // failing generator is an error, never a weaker fallback.
    getrandom::fill(&mut bytes).map_err(StoreError::Random)?;
    Ok(SessionId::from_bytes(bytes))
}

/// A fresh cursor key ([`crate::BreakGlassStore::cursor_key`]) from the operating
/// system's random number generator, for the stores that make one.
#[cfg(any(feature = "dynamodb", feature = "test-util"))]
pub(crate) fn new_cursor_key() -> Result<[u8; 32], StoreError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(StoreError::Random)?;
    Ok(key)
}

/// Where a request stands (docs/approvals.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    /// Waiting for approvers; becomes `expired` at `expires_at`.
    Pending,
    /// Every approver group's `required` is met; vends succeed until `approved_until`.
    Approved,
    /// An approver said no. Final.
    Denied,
    /// Unanswered until `expires_at`, or approved and past `approved_until`. Final.
    Expired,
    /// Withdrawn (pending) or ended early (approved), its sessions revoked. Final.
    Revoked,
}

impl RequestStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Approved,
            Self::Denied,
            Self::Expired,
            Self::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One approver's word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approver's derived user.
    pub approver: String,
    /// The ARN the approver signed with.
    pub principal_arn: String,
    /// The index (from 0) of the rule's approver group this approval counts for.
    pub group: usize,
    /// The digest of the rule's approver groups when it was given
    /// (`policy::Approval::approvers_digest`): it counts only while they are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvers_digest: Option<String>,
    /// When it was given.
    pub at: DateTime<Utc>,
    /// Whatever the approver added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Who ended a request (a denial or a revocation), when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    /// The derived user who did it.
    pub by: String,
    /// The ARN they signed with.
    pub principal_arn: String,
    /// Their reason.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An approval request (SPEC §9's shape plus the deciding rule, the closure and the
/// write version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// 32 lowercase hex.
    pub request_id: RequestId,
    /// The profile asked for.
    pub profile: ProfileName,
    /// The requester's derived user: the approval is bound to it.
    pub requester: String,
    /// The ARN the requester signed with.
    pub principal_arn: String,
    /// Why, as the rule's `reason` constraints accepted it.
    pub reason: String,
    /// Seconds of access once approved (the window and the credentials' cap).
    pub duration_seconds: u32,
    /// The status as last written; read [`Request::status_at`] for the current one.
    pub status: RequestStatus,
    /// The approvals given so far, in order.
    pub approvals: Vec<Approval>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When an unanswered request expires.
    pub expires_at: DateTime<Utc>,
    /// The end of the access window, set on approval (approval time + duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_until: Option<DateTime<Utc>>,
    /// The `require_approval` rule that decided when it was made.
    pub rule: String,
    /// The denial or revocation, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<Closure>,
    /// Bumped by every write; [`crate::ApprovalStore::replace`] writes only over the
    /// version before it.
    pub version: u64,
}

/// A transition the request's state does not allow (409 `REQUEST_CONFLICT`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("request `{id}` is {status}: {why}")]
pub struct Conflict {
    /// The request.
    pub id: RequestId,
    /// Its status when the transition was tried.
    pub status: RequestStatus,
    /// What was refused, in words for the caller.
    pub why: &'static str,
}

impl Request {
    /// The status at `now`: a pending request past `expires_at`, or an approved one past
    /// `approved_until`, is `expired`.
    pub fn status_at(&self, now: DateTime<Utc>) -> RequestStatus {
        match self.status {
            RequestStatus::Pending if now >= self.expires_at => RequestStatus::Expired,
            RequestStatus::Approved if self.approved_until.is_none_or(|end| now >= end) => {
                RequestStatus::Expired
            }
            status => status,
        }
    }

    /// The request as callers see it at `now` (its status the current one).
    #[must_use]
    pub fn at(&self, now: DateTime<Utc>) -> Self {
        Self {
            status: self.status_at(now),
            ..self.clone()
        }
    }

    /// Whether vends under this request are allowed at `now`.
    pub fn grants_at(&self, now: DateTime<Utc>) -> bool {
        self.status_at(now) == RequestStatus::Approved
    }

    fn conflict(&self, now: DateTime<Utc>, why: &'static str) -> Conflict {
        Conflict {
            id: self.request_id.clone(),
            status: self.status_at(now),
            why,
        }
    }

    /// Adds `approval` (its approver must not be the requester nor an earlier
    /// approver); approves the request when every group in `0..groups` has `required`
    /// approvals. The window starts at `approval.at`. `person` maps a principal ARN to
    /// the person behind it (`policy::identity::Caller::person`): two principals of one
    /// person are one approver, and never the requester's approver.
    pub fn approve(
        &self,
        approval: Approval,
        groups: usize,
        required: u32,
        person: impl Fn(&str) -> String,
    ) -> Result<Self, Conflict> {
        let now = approval.at;
        if self.status_at(now) != RequestStatus::Pending {
            return Err(self.conflict(now, "only a pending request can be approved"));
        }
        let approver = person(&approval.principal_arn);
        // SECURITY: the TVM checks this before; the record refuses it too.
        if approval.approver == self.requester || approver == person(&self.principal_arn) {
            return Err(self.conflict(now, "the requester cannot approve their own request"));
        }
        let digest = approval.approvers_digest.clone();
        // SECURITY: one person counts once, whichever principal or session they use.
        if self
            .counted(digest.as_deref())
            .any(|a| a.approver == approval.approver || person(&a.principal_arn) == approver)
        {
            return Err(self.conflict(now, "this approver has already approved"));
        }
        let mut next = self.clone();
        next.approvals.push(approval);
        next.version += 1;
        if (0..groups).all(|g| next.count(g, digest.as_deref()) >= required) {
            next.status = RequestStatus::Approved;
            let window = TimeDelta::seconds(i64::from(self.duration_seconds));
            next.approved_until = Some(now + window);
        }
        Ok(next)
    }

    /// The approvals given under the approver groups with `digest` (SECURITY: one given
    /// under other groups, say before they were reordered, counts for none).
    fn counted<'a>(&'a self, digest: Option<&'a str>) -> impl Iterator<Item = &'a Approval> {
        self.approvals
            .iter()
            .filter(move |a| a.approvers_digest.as_deref() == digest)
    }

    /// How many approvals given under the approver groups with `digest` count for
    /// `group`.
    pub fn count(&self, group: usize, digest: Option<&str>) -> u32 {
        let n = self.counted(digest).filter(|a| a.group == group).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The first of `candidates` (the approver groups, with `digest`, the approver
    /// matches, in order) that still needs approvals, else the first of them.
    pub fn group_for(
        &self,
        candidates: &[usize],
        required: u32,
        digest: Option<&str>,
    ) -> Option<usize> {
        candidates
            .iter()
            .copied()
            .find(|g| self.count(*g, digest) < required)
            .or_else(|| candidates.first().copied())
    }

    /// Denies a pending request.
    pub fn deny(&self, closure: Closure) -> Result<Self, Conflict> {
        if self.status_at(closure.at) != RequestStatus::Pending {
            return Err(self.conflict(closure.at, "only a pending request can be denied"));
        }
        let mut next = self.clone();
        next.status = RequestStatus::Denied;
        next.closure = Some(closure);
        next.version += 1;
        Ok(next)
    }

    /// Withdraws a pending request or ends an approved one (also once its window is
    /// over: its last credentials may still be alive).
    pub fn revoke(&self, closure: Closure) -> Result<Self, Conflict> {
        if !matches!(
            self.status,
            RequestStatus::Pending | RequestStatus::Approved
        ) || (self.status == RequestStatus::Pending && closure.at >= self.expires_at)
        {
            return Err(self.conflict(
                closure.at,
                "only a pending or approved request can be revoked",
            ));
        }
        let mut next = self.clone();
        next.status = RequestStatus::Revoked;
        next.closure = Some(closure);
        next.version += 1;
        Ok(next)
    }
}

/// Whether a break-glass event has been looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Nobody has closed it yet.
    NeedsReview,
    /// Someone allowed `breakglass:review` closed it.
    Reviewed,
}

impl ReviewStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NeedsReview => "needs_review",
            Self::Reviewed => "reviewed",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::NeedsReview, Self::Reviewed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Who closed a break-glass event, when, and what they found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The reviewer's derived user.
    pub by: String,
    /// The ARN they signed with.
    pub principal_arn: String,
    /// Their notes.
    pub notes: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One use of a `break_glass` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassEvent {
    /// 32 lowercase hex (`BreakGlassId` in the vend body).
    pub breakglass_id: RequestId,
    /// The profile opened.
    pub profile: ProfileName,
    /// The caller's derived user.
    pub user: String,
    /// The ARN they signed with.
    pub principal_arn: String,
    /// Why, as the rule's `reason` constraints accepted it.
    pub reason: String,
    /// The `break_glass` rule that decided.
    pub rule: String,
    /// Seconds of the credentials granted.
    pub duration_seconds: u32,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The session vended under it, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    /// `needs_review` until someone closes it.
    pub status: ReviewStatus,
    /// The review, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    pub(crate) fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    pub(crate) fn pending(n: u32) -> Request {
        Request {
            request_id: SessionId::parse(&format!("{n:032x}")).unwrap(),
            profile: "prod".parse().unwrap(),
            requester: "carol".into(),
            principal_arn: "arn:aws:iam::111122223333:user/carol".into(),
            reason: "CHG-1234 rotate keys".into(),
            duration_seconds: 3600,
            status: RequestStatus::Pending,
            approvals: Vec::new(),
            created_at: at("2026-11-22T13:50:00Z"),
            expires_at: at("2026-11-23T13:50:00Z"),
            approved_until: None,
            rule: "prod-changes".into(),
            closure: None,
            version: 1,
        }
    }

    fn approval(who: &str, group: usize, when: &str) -> Approval {
        Approval {
            approver: who.into(),
            principal_arn: format!("arn:aws:iam::111122223333:user/{who}"),
            group,
            approvers_digest: None,
            at: at(when),
            comment: None,
        }
    }

    /// The person behind a test principal: the last path segment, up to a `-`
    /// (`user/alice-2` is alice too).
    fn by_name(arn: &str) -> String {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        name.split('-').next().unwrap_or(name).to_owned()
    }

    #[test]
    fn one_person_approves_once_and_never_their_own_request() {
        let r = pending(1);
        let own = r.approve(
            approval("carol-2", 0, "2026-11-22T14:00:00Z"),
            1,
            2,
            by_name,
        );
        assert_eq!(
            own.unwrap_err().why,
            "the requester cannot approve their own request"
        );
        let once = r
            .approve(
                approval("alice-1", 0, "2026-11-22T14:00:00Z"),
                1,
                2,
                by_name,
            )
            .unwrap();
        let again = once.approve(
            approval("alice-2", 0, "2026-11-22T14:01:00Z"),
            1,
            2,
            by_name,
        );
        assert_eq!(again.unwrap_err().why, "this approver has already approved");
    }

    #[test]
    fn approval_needs_every_group_and_starts_the_window_then() {
        let r = pending(1);
        let one = r
            .approve(approval("alice", 0, "2026-11-22T14:00:00Z"), 2, 1, by_name)
            .unwrap();
        assert_eq!(one.status, RequestStatus::Pending);
        assert_eq!(one.version, 2);
        let two = one
            .approve(approval("bob", 1, "2026-11-22T14:05:00Z"), 2, 1, by_name)
            .unwrap();
        assert_eq!(two.status, RequestStatus::Approved);
        assert_eq!(two.approved_until, Some(at("2026-11-22T15:05:00Z")));
        assert!(two.grants_at(at("2026-11-22T15:04:59Z")));
        assert_eq!(
            two.status_at(at("2026-11-22T15:05:00Z")),
            RequestStatus::Expired
        );
    }

    #[test]
    fn self_approval_double_approval_and_late_approval_are_conflicts() {
        let r = pending(1);
        assert!(
            r.approve(approval("carol", 0, "2026-11-22T14:00:00Z"), 1, 2, by_name)
                .is_err()
        );
        let once = r
            .approve(approval("alice", 0, "2026-11-22T14:00:00Z"), 1, 2, by_name)
            .unwrap();
        let again = once.approve(approval("alice", 0, "2026-11-22T14:01:00Z"), 1, 2, by_name);
        assert_eq!(again.unwrap_err().why, "this approver has already approved");
        let late = r.approve(approval("alice", 0, "2026-11-23T13:50:00Z"), 1, 1, by_name);
        assert_eq!(late.unwrap_err().status, RequestStatus::Expired);
        let done = r
            .approve(approval("alice", 0, "2026-11-22T14:00:00Z"), 1, 1, by_name)
            .unwrap();
        assert!(
            done.approve(approval("bob", 0, "2026-11-22T14:00:01Z"), 1, 1, by_name)
                .is_err()
        );
    }

    #[test]
    fn denial_and_revocation_are_final() {
        let closure = |when| Closure {
            by: "alice".into(),
            principal_arn: "arn:aws:iam::111122223333:user/alice".into(),
            reason: "no".into(),
            at: at(when),
        };
        let denied = pending(1).deny(closure("2026-11-22T14:00:00Z")).unwrap();
        assert_eq!(denied.status, RequestStatus::Denied);
        assert!(
            denied
                .approve(approval("bob", 0, "2026-11-22T14:01:00Z"), 1, 1, by_name)
                .is_err()
        );
        assert!(denied.revoke(closure("2026-11-22T14:01:00Z")).is_err());
        let approved = pending(1)
            .approve(approval("bob", 0, "2026-11-22T14:00:00Z"), 1, 1, by_name)
            .unwrap();
        assert!(approved.deny(closure("2026-11-22T14:01:00Z")).is_err());
        let revoked = approved.revoke(closure("2026-11-22T16:00:00Z")).unwrap();
        assert_eq!(
            revoked.status_at(at("2026-11-22T14:30:00Z")),
            RequestStatus::Revoked
        );
        assert!(!revoked.grants_at(at("2026-11-22T14:30:00Z")));
        assert!(pending(1).revoke(closure("2026-11-24T00:00:00Z")).is_err());
    }

    #[test]
    fn an_approver_counts_for_the_first_group_that_still_needs_one() {
        let r = pending(1);
        assert_eq!(r.group_for(&[0, 1], 1, None), Some(0));
        let one = r
            .approve(approval("alice", 0, "2026-11-22T14:00:00Z"), 2, 1, by_name)
            .unwrap();
        assert_eq!(one.group_for(&[0, 1], 1, None), Some(1));
        assert_eq!(one.group_for(&[0], 1, None), Some(0));
        assert_eq!(one.group_for(&[], 1, None), None);
        // Under other groups, the first approval counts for nothing.
        assert_eq!(one.group_for(&[0, 1], 1, Some("other")), Some(0));
        assert_eq!(one.count(0, Some("other")), 0);
    }

    #[test]
    fn the_wire_shape_is_the_documented_one() {
        let r = pending(1)
            .approve(approval("alice", 1, "2026-11-22T14:00:00Z"), 2, 1, by_name)
            .unwrap();
        let json = serde_json::to_value(&r).unwrap();
        for key in [
            "request_id",
            "profile",
            "requester",
            "principal_arn",
            "reason",
            "duration_seconds",
            "status",
            "approvals",
            "created_at",
            "expires_at",
        ] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
        assert_eq!(json["status"], "pending");
        assert_eq!(json["approvals"][0]["group"], 1);
        assert_eq!(json["created_at"], "2026-11-22T13:50:00Z");
        let back: Request = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }
}
