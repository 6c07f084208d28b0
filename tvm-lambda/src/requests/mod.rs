//! `/requests` (docs/approvals.md): asking for a `require_approval` profile, approving,
//! denying, revoking and listing, and the approved request a vend runs under.
//!
//! SECURITY: the approver is the SigV4 caller as `authenticate` derived it, matched
//! against the rule's `approvers` in the policy as it is *now*; the requester never
//! approves (derived users are compared, so another of their principals cannot either);
//! every transition is one conditional write on the request's version, so two approvers
//! at once count once and nothing leaves a final state.

mod errors;
mod input;
mod listing;
mod transitions;

use approvals::{Request, RequestId, RequestQuery, RequestStatus};
use chrono::{DateTime, TimeDelta, Utc};
use policy::Decision;
use protocol::ErrorCode;
use revocation::RoleWriters;
use sentinel_types::{ProfileName, SessionDuration};
use sessions::{LeaseStore, SessionStore};

use super::admin::{Body, no_query, to_json};
use super::{ApiError, ApiRequest, Caller, Service, policy_deny};
use crate::audit::DecisionLog;
use crate::gates::Gates;
use crate::grant::CredentialIssuer;
use crate::notify::{Notice, NoticeKind};
use crate::policies::PolicySource;

pub(super) use self::errors::{cursor_error, gate_store_error};
pub(super) use self::input::{body_duration, body_profile, parse_id};
use self::input::{note, required_note};

/// A `/requests` route, with the request ID from the path where it has one (unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RequestsRoute {
    /// `POST /requests`
    Create,
    /// `GET /requests`
    List,
    /// `GET /requests/{id}`
    Show(String),
    /// `POST /requests/{id}/approve`
    Approve(String),
    /// `POST /requests/{id}/deny`
    Deny(String),
    /// `POST /requests/{id}/revoke`
    Revoke(String),
}

/// The seconds a vend under `approved` gets: what was asked (else the approved
/// duration) within the approved duration, the rule's cap and what is left of the
/// window, never below STS's minimum.
pub(super) fn vend_duration(
    approved: &Request,
    requested: Option<u32>,
    cap: u32,
    now: DateTime<Utc>,
) -> u32 {
    let left = approved
        .approved_until
        .map_or(0, |end| (end - now).num_seconds().max(0));
    let left = u32::try_from(left).unwrap_or(u32::MAX);
    requested
        .unwrap_or(approved.duration_seconds)
        .min(approved.duration_seconds)
        .min(cap)
        .min(left)
        .max(SessionDuration::MIN.secs())
}

impl<P, I, S, R> Service<P, I, S, R>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    /// The tables and notifier of approvals and break-glass, and the session table
    /// they need; 500 `CONFIG_ERROR` when the TVM runs without them.
    pub(super) fn gates(&self) -> Result<(&Gates, &S), ApiError> {
        match (&self.gates, &self.store) {
            (Some(gates), Some(store)) => Ok((gates, store)),
            _ => Err(ApiError::new(
                ErrorCode::ConfigError,
                "approvals and break-glass are not configured (SENTINEL_APPROVAL_TABLE, SENTINEL_BREAKGLASS_TABLE and SENTINEL_SESSION_TABLE)",
            )),
        }
    }

    /// The caller as the policy engine reads it.
    pub(super) fn policy_caller<'r>(
        caller: &'r Caller,
        request: &ApiRequest,
        requested: Option<u32>,
    ) -> policy::Request<'r> {
        policy::Request {
            principal_arn: &caller.arn,
            user: &caller.user,
            account_id: caller.account_id.as_str(),
            source_ip: request.source_ip.as_deref().and_then(|ip| ip.parse().ok()),
            requested_duration: requested,
            workload: None,
        }
    }

    /// The caller's approved, unexpired request for `profile` under `rule` (the rule
    /// deciding now: an approval given under a laxer rule does not open a stricter one),
    /// read consistently.
    pub(super) async fn approved_request(
        &self,
        caller: &Caller,
        profile: &ProfileName,
        rule: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Request>, ApiError> {
        let (gates, _) = self.gates()?;
        let query = RequestQuery {
            requester: Some(caller.user.clone()),
            profile: Some(profile.to_string()),
            status: Some(RequestStatus::Approved),
            limit: 20,
            cursor: None,
        };
        // The index finds candidates; the table (a consistent read) has the last word,
        // so a revocation an instant ago is seen.
        let page = gates
            .approvals
            .list(&query)
            .await
            .map_err(gate_store_error)?;
        for candidate in page.items.iter().filter(|r| r.grants_at(now)) {
            let fresh = gates
                .approvals
                .get(&candidate.request_id)
                .await
                .map_err(gate_store_error)?;
            if let Some(fresh) = fresh.filter(|r| {
                r.grants_at(now)
                    && r.requester == caller.user
                    && r.profile == *profile
                    && r.rule == rule
            }) {
                return Ok(Some(fresh));
            }
        }
        Ok(None)
    }

    /// Whether the request a vend was approved under still grants, read consistently
    /// after the vend's session row was written. A revocation written in between found
    /// no such row when it listed sessions; so the vend's credentials are never handed
    /// out, and its row is revoked (SECURITY: closes the race between a vend and
    /// `POST /requests/{id}/revoke`).
    pub(super) async fn confirm_approval(
        &self,
        id: &RequestId,
        profile: &ProfileName,
        rule: &str,
        session: &sessions::SessionId,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<(), ApiError> {
        let (gates, _) = self.gates()?;
        let fresh = gates.approvals.get(id).await;
        if let Ok(Some(fresh)) = &fresh
            && fresh.grants_at(now)
        {
            return Ok(());
        }
        if let Some(store) = self.store() {
            // The TVM itself withholds and revokes it, not the caller.
            let revocation = sessions::Revocation {
                by: "sentinel".to_owned(),
                reason: format!(
                    "request {id} was revoked or could not be read while this session was issued; its credentials were not handed out"
                ),
                at: now,
            };
            // Best effort: the credentials never leave the TVM either way.
            if let Err(e) = store.revoke(session, &revocation).await {
                log.detail = Some(format!(
                    "the withheld session could not be marked revoked: {}",
                    sentinel_types::error_chain(&e)
                ));
            }
        }
        match fresh {
            Err(e) => Err(gate_store_error(e)),
            Ok(_) => Err(super::approval_required(profile, rule)),
        }
    }

    /// One `/requests` request from an authenticated caller.
    pub(super) async fn requests(
        &self,
        route: RequestsRoute,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let (gates, _) = self.gates()?;
        match route {
            RequestsRoute::Create => {
                no_query(request)?;
                let mut body = Body::parse(request, &["profile", "reason", "duration"])?;
                let profile = body_profile(&mut body)?;
                log.profile = Some(profile.to_string());
                let reason = body.string("reason")?.unwrap_or_default();
                let requested = body_duration(&mut body)?;
                self.create(
                    gates, request, caller, &profile, &reason, requested, now, log,
                )
                .await
            }
            RequestsRoute::List => self.list(gates, request, caller, now).await,
            RequestsRoute::Show(raw) => {
                no_query(request)?;
                let current = self.load(gates, &raw, log).await?;
                self.may_see(&current, caller, request, now).await?;
                to_json(&current.at(now))
            }
            RequestsRoute::Approve(raw) => {
                no_query(request)?;
                let mut body = Body::parse(request, &["comment"])?;
                let comment = note(&mut body, "comment")?;
                self.approve(gates, &raw, request, caller, comment, now, log)
                    .await
            }
            RequestsRoute::Deny(raw) => {
                no_query(request)?;
                let mut body = Body::parse(request, &["reason"])?;
                let reason = required_note(&mut body, "reason")?;
                self.deny(gates, &raw, request, caller, reason, now, log)
                    .await
            }
            RequestsRoute::Revoke(raw) => {
                no_query(request)?;
                let mut body = Body::parse(request, &["reason"])?;
                let reason = required_note(&mut body, "reason")?;
                self.revoke_request(gates, &raw, request, caller, reason, now, log)
                    .await
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, each a borrow"
    )]
    async fn create(
        &self,
        gates: &Gates,
        request: &ApiRequest,
        caller: &Caller,
        profile: &ProfileName,
        reason: &str,
        requested: Option<u32>,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let set = self.load_policy(profile.as_str()).await?;
        log.known_profile = true;
        log.role_arn = Some(set.profile().role_arn.as_str().to_owned());
        let asked = Self::policy_caller(caller, request, requested);
        let (rule, approval, duration) = match policy::evaluate(&set, &asked, now) {
            // Without a duration, a request asks for all the rule allows: the window
            // is what an approver grants, and vends within it may be shorter.
            Decision::RequireApproval {
                rule,
                approval,
                duration,
                cap,
                ..
            } => (rule, approval, requested.map_or(cap, |_| duration)),
            Decision::Allow { rule, .. } => {
                log.rule = Some(rule.to_owned());
                return Err(ApiError::new(
                    ErrorCode::RequestConflict,
                    format!(
                        "profile `{profile}` needs no approval for you (rule `{rule}` allows): run `sentinel credentials --profile {profile}`"
                    ),
                ));
            }
            decision => {
                log.rule = decision.rule().map(str::to_owned);
                return Err(policy_deny(profile, &decision));
            }
        };
        log.rule = Some(rule.to_owned());
        let reason = approval
            .reason_rule()
            .check(reason)
            .map_err(|why| ApiError::new(ErrorCode::InvalidReason, why))?;
        // One open request per requester and profile: a second would only notify the
        // approvers again (a flood of requests is a flood of messages).
        let open = RequestQuery {
            requester: Some(caller.user.clone()),
            profile: Some(profile.to_string()),
            status: Some(RequestStatus::Pending),
            limit: 20,
            cursor: None,
        };
        let pending = gates
            .approvals
            .list(&open)
            .await
            .map_err(gate_store_error)?;
        if let Some(waiting) = pending
            .items
            .iter()
            .find(|r| r.status_at(now) == RequestStatus::Pending)
        {
            return Err(ApiError::new(
                ErrorCode::RequestConflict,
                format!(
                    "you already have a pending request for profile `{profile}`: {} (revoke it to ask again)",
                    waiting.request_id
                ),
            ));
        }
        let id = approvals::new_id().map_err(gate_store_error)?;
        log.target = Some(id.to_string());
        log.approval_id = Some(id.to_string());
        let created = Request {
            request_id: id,
            profile: profile.clone(),
            requester: caller.user.clone(),
            principal_arn: caller.arn.clone(),
            reason: reason.to_owned(),
            duration_seconds: duration.min(self.settings.max_duration),
            status: RequestStatus::Pending,
            approvals: Vec::new(),
            created_at: now,
            expires_at: now + TimeDelta::seconds(i64::from(approval.request_ttl())),
            approved_until: None,
            rule: rule.to_owned(),
            closure: None,
            version: 1,
        };
        gates
            .approvals
            .create(&created)
            .await
            .map_err(gate_store_error)?;
        let detail = format!(
            "needs {} approval(s) from each of: {}",
            approval.required(),
            approval.describe_groups().join(" | ")
        );
        self.tell(
            gates,
            NoticeKind::RequestCreated,
            &created,
            caller,
            Some(reason),
            Some(detail),
            now,
        )
        .await;
        to_json(&created.at(now))
    }

    /// Reads the request `raw` names; 404 when there is none.
    async fn load(
        &self,
        gates: &Gates,
        raw: &str,
        log: &mut DecisionLog,
    ) -> Result<Request, ApiError> {
        let id = parse_id(raw)?;
        log.target = Some(id.to_string());
        log.approval_id = Some(id.to_string());
        let found = gates.approvals.get(&id).await.map_err(gate_store_error)?;
        let found = found
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no request `{id}`")))?;
        log.profile = Some(found.profile.to_string());
        Ok(found)
    }

    /// Tells the channels; a failure is logged by the notifier, never returned.
    #[expect(clippy::too_many_arguments, reason = "one notice's parts")]
    async fn tell(
        &self,
        gates: &Gates,
        kind: NoticeKind,
        current: &Request,
        caller: &Caller,
        reason: Option<&str>,
        detail: Option<String>,
        now: DateTime<Utc>,
    ) {
        let notice = Notice {
            kind,
            profile: current.profile.to_string(),
            subject_user: current.requester.clone(),
            actor: caller.user.clone(),
            id: current.request_id.to_string(),
            reason: reason.map(str::to_owned),
            detail,
            at: now,
        };
        gates.notifier.send(&notice).await;
    }
}
