//! `/requests` (docs/approvals.md): asking for a `require_approval` profile, approving,
//! denying, revoking and listing, and the approved request a vend runs under.
//!
//! SECURITY: the approver is the SigV4 caller as `authenticate` derived it, matched
//! against the rule's `approvers` in the policy as it is *now*; the requester never
//! approves (derived users are compared, so another of their principals cannot either);
//! every transition is one conditional write on the request's version, so two approvers
//! at once count once and nothing leaves a final state.

use std::sync::Arc;

use approvals::{
    Approval as Given, Closure, Conflict, Request, RequestId, RequestQuery, RequestStatus,
    StoreError,
};
use chrono::{DateTime, TimeDelta, Utc};
use policy::{Approval, Decision, PolicySet};
use protocol::ErrorCode;
use revocation::RoleWriters;
use sentinel_types::{ProfileName, SessionDuration};
use serde_json::{Value, json};
use sessions::{LeaseStore, ListQuery, SessionStore, Status};

use super::admin::{Admin, Body, no_query, query_pairs, to_json};
use super::{ApiError, ApiRequest, Caller, Service, policy_deny};
use crate::audit::DecisionLog;
use crate::cursor::{CursorError, Holder};
use crate::gates::Gates;
use crate::grant::CredentialIssuer;
use crate::notify::{Notice, NoticeKind};
use crate::policies::PolicySource;

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

/// Tries of a transition that lost a race (another write in between).
const MAX_TRIES: usize = 5;
/// Longest comment or denial reason kept.
const MAX_NOTE_CHARS: usize = 512;
/// Page size of `GET /requests` when `limit` is absent, and its largest.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

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

/// The approval block of `rule` in `set`, if it still is a `require_approval` rule.
fn approval_in<'s>(set: &'s PolicySet, rule: &str) -> Option<&'s Approval> {
    set.rules()
        .iter()
        .find(|r| r.name() == rule)
        .and_then(policy::Rule::approval)
}

/// A request store failure: the client's when it is about the request, else 500.
pub(super) fn gate_store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound(ref id) => {
            ApiError::new(ErrorCode::NotFound, format!("no request or event `{id}`"))
        }
        StoreError::Conflict(conflict) => conflict_error(&conflict),
        StoreError::InvalidQuery(_) => ApiError::new(ErrorCode::InvalidRequest, error.to_string()),
        StoreError::Stale(_) => ApiError::new(
            ErrorCode::RequestConflict,
            "the request kept changing while this was written; try again",
        ),
        other => ApiError::new(
            ErrorCode::SessionStoreError,
            "the approval or break-glass table could not be read or written",
        )
        .with_cause(&other),
    }
}

/// A `next` that is not one this TVM sealed for the caller is 400; a cursor key that
/// cannot be read is the table's failure.
pub(super) fn cursor_error(error: CursorError) -> ApiError {
    match error {
        CursorError::Invalid => ApiError::new(ErrorCode::InvalidRequest, error.to_string()),
        CursorError::Key(store) => gate_store_error(store),
        CursorError::Seal => ApiError::new(ErrorCode::SessionStoreError, error.to_string()),
    }
}

fn conflict_error(conflict: &Conflict) -> ApiError {
    ApiError::new(
        ErrorCode::RequestConflict,
        format!(
            "request `{}` is {}: {}",
            conflict.id, conflict.status, conflict.why
        ),
    )
}

/// The request ID of a path, checked.
pub(super) fn parse_id(raw: &str) -> Result<RequestId, ApiError> {
    RequestId::parse(raw).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "an id is 32 lowercase hex characters",
        )
        .with_cause(&e)
    })
}

/// An optional one-line note (`comment`), trimmed and bounded.
fn note(body: &mut Body, name: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = body.string(name)? else {
        return Ok(None);
    };
    let text = text.trim();
    if text.chars().count() > MAX_NOTE_CHARS || text.chars().any(sentinel_types::is_hidden_char) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("`{name}` must be one line of at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// A required one-line note (`reason` of a denial or revocation).
fn required_note(body: &mut Body, name: &str) -> Result<String, ApiError> {
    note(body, name)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            format!("the `{name}` field is required"),
        )
    })
}

/// The `duration` of a JSON body: whole seconds in range, or absent.
pub(super) fn body_duration(body: &mut Body) -> Result<Option<u32>, ApiError> {
    let raw = match body.take("duration") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidDuration,
                format!("`duration` must be a whole number of seconds, not {other}"),
            ));
        }
    };
    SessionDuration::parse_seconds(&raw)
        .map(|d| Some(d.secs()))
        .map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidDuration,
                format!(
                    "duration `{raw}` must be whole seconds between {} and {}",
                    SessionDuration::MIN.secs(),
                    SessionDuration::MAX.secs()
                ),
            )
            .with_cause(&e)
        })
}

/// The body's `profile`, checked.
pub(super) fn body_profile(body: &mut Body) -> Result<ProfileName, ApiError> {
    let raw = body.string("profile")?.ok_or_else(|| {
        ApiError::new(ErrorCode::MissingProfile, "the `profile` field is required")
    })?;
    ProfileName::parse(&raw).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidProfile,
            format!("profile `{raw}` is not a valid profile name"),
        )
        .with_cause(&e)
    })
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
    async fn may_see(
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
    async fn approve(
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
    async fn deny(
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
    async fn revoke_request(
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

    /// `GET /requests?mine=&status=&profile=&limit=&next=`: the caller's own requests
    /// and those they may answer, newest first within a page.
    async fn list(
        &self,
        gates: &Gates,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let invalid = |m: String| ApiError::new(ErrorCode::InvalidRequest, m);
        let mut mine = false;
        let mut status = None;
        let mut query = RequestQuery {
            limit: DEFAULT_LIMIT,
            ..RequestQuery::default()
        };
        let mut seen = std::collections::BTreeSet::new();
        for (key, value) in query_pairs(request) {
            if !seen.insert(key.clone()) {
                return Err(invalid(format!(
                    "query parameter `{key}` is given more than once"
                )));
            }
            match key.as_str() {
                "mine" => mine = matches!(value.as_str(), "true" | "1" | ""),
                "status" => {
                    status = Some(RequestStatus::parse(&value).ok_or_else(|| {
                        invalid("`status` is pending, approved, denied, expired or revoked".into())
                    })?);
                }
                "profile" => query.profile = Some(super::admin::valid_profile(&value)?),
                "limit" => {
                    query.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            invalid(format!("`limit` is a whole number from 1 to {MAX_LIMIT}"))
                        })?;
                }
                "next" => query.cursor = Some(value).filter(|v| !v.is_empty()),
                other => {
                    return Err(invalid(format!(
                        "unknown query parameter `{other}` (expected `mine`, `status`, `profile`, `limit` and `next`)"
                    )));
                }
            }
        }
        if mine {
            query.requester = Some(caller.user.clone());
        }
        // Stored statuses: an expired request is stored pending or approved.
        query.status = status.filter(|s| *s != RequestStatus::Expired);
        let holder = Holder {
            route: "/requests",
            caller: &caller.arn,
        };
        query.cursor = gates
            .open_cursor(&holder, query.cursor.take())
            .await
            .map_err(cursor_error)?;
        let page = gates
            .approvals
            .list(&query)
            .await
            .map_err(gate_store_error)?;
        let mut visible = Vec::new();
        for item in page.items {
            if status.is_some_and(|s| item.status_at(now) != s) {
                continue;
            }
            if mine || self.may_see(&item, caller, request, now).await.is_ok() {
                visible.push(item.at(now));
            }
        }
        visible.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        let next = gates
            .seal_cursor(&holder, page.next_cursor)
            .await
            .map_err(cursor_error)?;
        to_json(&json!({ "requests": visible, "next": next }))
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
