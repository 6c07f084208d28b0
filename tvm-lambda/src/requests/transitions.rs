//! Who may answer or see a request (its approvers, never its requester), and its
//! transitions: approve, deny and revoke, each one conditional write.

use std::sync::Arc;

use approvals::{Approval as Given, Closure, Conflict, Request, RequestStatus, StoreError};
use chrono::{DateTime, Utc};
use policy::{Approval, PolicySet};
use protocol::ErrorCode;
use revocation::RoleWriters;
use serde_json::{Value, json};
use sessions::{LeaseStore, ListQuery, SessionStore, Status};

use super::errors::{conflict_error, gate_store_error};
use crate::audit::DecisionLog;
use crate::gates::Gates;
use crate::grant::CredentialIssuer;
use crate::notify::NoticeKind;
use crate::policies::PolicySource;
use crate::service::admin::{Admin, to_json};
use crate::service::{ApiError, ApiRequest, Caller, Service};

/// Tries of a transition that lost a race (another write in between).
const MAX_TRIES: usize = 5;

/// The approval block of `rule` in `set`, if it still is a `require_approval` rule.
fn approval_in<'s>(set: &'s PolicySet, rule: &str) -> Option<&'s Approval> {
    set.rules()
        .iter()
        .find(|r| r.name() == rule)
        .and_then(policy::Rule::approval)
}

impl<P, I, S, R> Service<P, I, S, R>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    /// The policy of the request's profile, and whether its rule still asks for approval.
    /// SECURITY: its refusals name neither the profile nor the rule (the caller may be
    /// neither requester nor approver); the log has them.
    async fn rule_policy(&self, current: &Request) -> Result<Arc<PolicySet>, ApiError> {
        let gone = |why: String| {
            ApiError::new(
                ErrorCode::RequestConflict,
                "the rule this request was made under no longer requires approval; it cannot be answered",
            )
            .with_detail(why)
        };
        let set = match self.load_policy(current.profile.as_str()).await {
            Ok(set) => set,
            Err(e) if e.code == ErrorCode::ProfileNotFound => {
                return Err(gone(format!(
                    "profile `{}` does not exist",
                    current.profile
                )));
            }
            Err(e) => {
                let detail = match &e.detail {
                    Some(detail) => format!("{}: {detail}", e.message),
                    None => e.message.clone(),
                };
                return Err(ApiError::new(
                    e.code,
                    "the policy this request is decided by could not be read; try again later",
                )
                .with_detail(detail));
            }
        };
        if approval_in(&set, &current.rule).is_none() {
            return Err(gone(format!(
                "rule `{}` of profile `{}` no longer requires approval",
                current.rule, current.profile
            )));
        }
        Ok(set)
    }

    /// The approver groups the caller matches now for `current` (never its requester).
    async fn approver_groups(
        &self,
        current: &Request,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(Arc<PolicySet>, Vec<usize>), ApiError> {
        // SECURITY: persons are compared, so the requester's other principals (another
        // role, another session of a role, another account's session) are the
        // requester too.
        if caller.user == current.requester
            || caller.person == self.person_of(&current.principal_arn)
        {
            return Err(ApiError::new(
                ErrorCode::ApprovalDeny,
                "you cannot answer your own request; an approver must",
            ));
        }
        let set = self.rule_policy(current).await?;
        let groups = approval_in(&set, &current.rule)
            .map(|a| a.groups_of(&Self::policy_caller(caller, request, None), now))
            .unwrap_or_default();
        if groups.is_empty() {
            return Err(not_an_approver().with_detail(format!(
                "not an approver of rule `{}` of profile `{}`",
                current.rule, current.profile
            )));
        }
        Ok((set, groups))
    }

    /// Whether the caller may read `current`: its requester or one of its approvers.
    pub(super) async fn may_see(
        &self,
        current: &Request,
        caller: &Caller,
        request: &ApiRequest,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if caller.user == current.requester {
            return Ok(());
        }
        // Nobody approves a request whose rule is gone: to anyone but its requester it is
        // then a request they may not see.
        match self.approver_groups(current, request, caller, now).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == ErrorCode::RequestConflict => {
                Err(not_an_approver().with_detail(e.detail.unwrap_or_default()))
            }
            Err(e) => Err(e),
        }
    }

    /// Lets `decide` make the next state of `current` (or refuse) and writes it with
    /// one conditional write on the version read; a lost race reads again and decides
    /// again (at most [`MAX_TRIES`] times). Who may act was checked on `current`: the
    /// requester, profile and rule of a request never change, only its state.
    async fn transition(
        &self,
        gates: &Gates,
        mut current: Request,
        log: &mut DecisionLog,
        decide: impl Fn(&Request) -> Result<Request, Conflict>,
    ) -> Result<Request, ApiError> {
        // The rule that let the caller act: the request's own, unless the admin policy's
        // (an admin's revocation) was already logged.
        if log.rule.is_none() {
            log.rule = Some(current.rule.clone());
        }
        for _ in 0..MAX_TRIES {
            let next = decide(&current).map_err(|c| conflict_error(&c))?;
            match gates.approvals.replace(&next).await {
                Ok(()) => return Ok(next),
                // Someone else wrote in between: read again and decide again.
                Err(StoreError::Stale(id)) => {
                    current = self.load(gates, id.as_str(), log).await?;
                }
                Err(e) => return Err(gate_store_error(e)),
            }
        }
        Err(gate_store_error(StoreError::Stale(current.request_id)))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, each a borrow"
    )]
    pub(super) async fn approve(
        &self,
        gates: &Gates,
        raw: &str,
        request: &ApiRequest,
        caller: &Caller,
        comment: Option<String>,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let current = self.load(gates, raw, log).await?;
        let (set, groups) = self.approver_groups(&current, request, caller, now).await?;
        // `approver_groups` found the rule's approval block.
        let Some(approval) = approval_in(&set, &current.rule) else {
            return Err(conflict_error(&Conflict {
                id: current.request_id.clone(),
                status: current.status_at(now),
                why: "its rule no longer requires approval",
            }));
        };
        // What the approver groups mean: their text, and which roles' session names are
        // user names (SENTINEL_IDENTITY_ROLES), so approvals given before either changed
        // count no more.
        let digest = sentinel_types::short_digest(&format!(
            "{}\nidentity roles: {}",
            approval.approvers_digest(),
            self.settings().identity_roles.describe()
        ));
        let next = self
            .transition(gates, current, log, |current| {
                let given = Given {
                    approver: caller.user.clone(),
                    principal_arn: caller.arn.clone(),
                    group: current
                        .group_for(&groups, approval.required(), Some(&digest))
                        .unwrap_or_default(),
                    approvers_digest: Some(digest.clone()),
                    at: now,
                    comment: comment.clone(),
                };
                current.approve(given, approval.groups(), approval.required(), |arn| {
                    self.person_of(arn)
                })
            })
            .await?;
        let detail = match (next.approved_until, next.approvals.last()) {
            (Some(until), _) => format!("approved until {}", protocol::wire_time::format(&until)),
            (None, Some(last)) => format!(
                "approval {} counted for group {}",
                next.approvals.len(),
                last.group + 1
            ),
            (None, None) => String::new(),
        };
        self.tell(
            gates,
            NoticeKind::RequestApproved,
            &next,
            caller,
            comment.as_deref(),
            Some(detail),
            now,
        )
        .await;
        to_json(&next.at(now))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, each a borrow"
    )]
    pub(super) async fn deny(
        &self,
        gates: &Gates,
        raw: &str,
        request: &ApiRequest,
        caller: &Caller,
        reason: String,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let current = self.load(gates, raw, log).await?;
        self.approver_groups(&current, request, caller, now).await?;
        let next = self
            .transition(gates, current, log, |current| {
                current.deny(closure(caller, &reason, now))
            })
            .await?;
        self.tell(
            gates,
            NoticeKind::RequestDenied,
            &next,
            caller,
            Some(&reason),
            None,
            now,
        )
        .await;
        to_json(&next.at(now))
    }

    /// Ends a request (withdrawn while pending, ended early once approved) and revokes
    /// the sessions vended under it through layer 1 and 2. The requester, an approver
    /// of its rule, or an admin allowed `sessions:revoke` on its profile may.
    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, each a borrow"
    )]
    pub(super) async fn revoke_request(
        &self,
        gates: &Gates,
        raw: &str,
        request: &ApiRequest,
        caller: &Caller,
        reason: String,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let (_, store) = self.gates()?;
        let admin = Admin {
            service: self,
            store,
            request,
            caller,
            action: "sessions:revoke",
            now,
        };
        let current = self.load(gates, raw, log).await?;
        let mut admin_revoked = false;
        if caller.user != current.requester
            && let Err(refusal) = self.approver_groups(&current, request, caller, now).await
        {
            log.action = Some("sessions:revoke");
            admin
                .authorize(Some(current.profile.as_str()), log)
                .await
                .map_err(|_| refusal)?;
            admin_revoked = true;
        }
        // A request already revoked is revoked again only in its sessions: a revocation
        // whose session step failed (a store outage) is finished by retrying it.
        let next = if current.status == RequestStatus::Revoked {
            current
        } else {
            let next = self
                .transition(gates, current, log, |current| {
                    current.revoke(closure(caller, &reason, now))
                })
                .await?;
            // Announced as soon as it is written: the sessions' revocation may fail.
            self.tell(
                gates,
                NoticeKind::RequestRevoked,
                &next,
                caller,
                Some(&reason),
                None,
                now,
            )
            .await;
            next
        };
        let id = next.request_id.to_string();
        let sessions = admin
            .collect(ListQuery {
                user: Some(next.requester.clone()),
                profile: Some(next.profile.to_string()),
                status: Some(Status::Active),
                ..ListQuery::default()
            })
            .await?;
        let ids: Vec<_> = sessions
            .into_iter()
            .filter(|s| s.approval_id.as_deref() == Some(id.as_str()))
            .map(|s| s.session_id)
            .collect();
        let revoked = admin
            .revoke(ids, format!("request {id} revoked: {reason}"))
            .await?;
        let mut revoked: Value = serde_json::from_str(&revoked).unwrap_or(Value::Null);
        // Where and with what the requester signed in is theirs and the admins' to see,
        // not an approver's.
        if caller.user != next.requester
            && !admin_revoked
            && let Some(rows) = revoked.get_mut("revoked").and_then(Value::as_array_mut)
        {
            for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                row.remove("source_ip");
                row.remove("user_agent");
            }
        }
        to_json(&json!({ "request": next.at(now), "sessions": revoked }))
    }
}

/// 403 to a caller who is not an approver of a request; names nothing of it.
fn not_an_approver() -> ApiError {
    ApiError::new(
        ErrorCode::ApprovalDeny,
        "you are not an approver of this request",
    )
}

/// The caller's denial or revocation, now.
fn closure(caller: &Caller, reason: &str, now: DateTime<Utc>) -> Closure {
    Closure {
        by: caller.user.clone(),
        principal_arn: caller.arn.clone(),
        reason: reason.to_owned(),
        at: now,
    }
}
