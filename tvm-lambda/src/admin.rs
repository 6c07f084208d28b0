//! The admin API (docs/api.md#admin-api): listing, showing, revoking and reconciling
//! sessions. Every route is authorized by the admin policy at `<root>/_admin` with the
//! caller as `authenticate` derived it; the TVM is the only writer of the session rows'
//! revocation and of revocation layer 2 (crate `revocation`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use policy::{AdminDecision, AdminRequest};
use protocol::{ErrorCode, wire_time};
use revocation::{RoleOutcome, RoleWriters};
use sentinel_types::{ProfileName, RoleArn, SessionId};
use serde_json::{Value, json};
use sessions::{
    AwsDeny, LeaseStore, ListQuery, Revocation, RevokeOutcome, SessionRecord, SessionState,
    SessionStore, Status, StoreError,
};

use super::{ApiError, ApiRequest, Caller, MAX_BODY_BYTES, Service, UniqueKeys};
use crate::audit::DecisionLog;
use crate::grant::CredentialIssuer;
use crate::policies::{LoadError, PolicySource, SourceError};

/// Largest page `GET /sessions` answers.
const MAX_LIMIT: usize = 1000;
/// Page size when `limit` is absent.
const DEFAULT_LIMIT: usize = 50;

/// An admin route, with the session ID from the path where it has one (unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AdminRoute {
    /// `GET /sessions`
    List,
    /// `GET /sessions/{id}`
    Show(String),
    /// `POST /sessions/{id}/revoke`
    Revoke(String),
    /// `POST /sessions/revoke`
    RevokeBulk,
    /// `POST /sessions/reconcile`
    Reconcile,
}

impl AdminRoute {
    /// The admin action the route stands for (docs/policy.md, "Admin policy").
    fn action(&self) -> &'static str {
        match self {
            Self::List => "sessions:list",
            Self::Show(_) => "sessions:show",
            Self::Revoke(_) | Self::RevokeBulk => "sessions:revoke",
            Self::Reconcile => "sessions:reconcile",
        }
    }
}

impl<P, I, S, R> Service<P, I, S, R>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    /// One admin request from an authenticated caller.
    pub(super) async fn admin(
        &self,
        route: AdminRoute,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let action = route.action();
        log.action = Some(action);
        let Some(store) = self.store.as_ref() else {
            return Err(ApiError::new(
                ErrorCode::ConfigError,
                "sentinel has no session table (SENTINEL_SESSION_TABLE); there are no sessions to administer",
            ));
        };
        let admin = Admin {
            service: self,
            store,
            request,
            caller,
            action,
            now,
        };
        match route {
            AdminRoute::List => {
                let query = parse_list_query(request)?;
                log.target = Some(target(&query));
                log.profile.clone_from(&query.profile);
                admin.authorize(query.profile.as_deref(), log).await?;
                admin.list(query).await
            }
            AdminRoute::Show(raw) => {
                no_query(request)?;
                let record = admin.authorized_row(&raw, log).await?;
                to_json(&record)
            }
            AdminRoute::Revoke(raw) => {
                no_query(request)?;
                let mut body = Body::parse(request, &["reason"])?;
                let reason = body.reason()?;
                let record = admin.authorized_row(&raw, log).await?;
                admin.revoke(vec![record.session_id], reason).await
            }
            AdminRoute::RevokeBulk => {
                no_query(request)?;
                let mut body = Body::parse(request, &["user", "profile", "reason"])?;
                let user = body.string("user")?;
                let profile = body.string("profile")?;
                let reason = body.reason()?;
                let query = match (user, profile) {
                    (Some(user), None) => ListQuery {
                        user: Some(user),
                        ..ListQuery::default()
                    },
                    (None, Some(profile)) => ListQuery {
                        profile: Some(valid_profile(&profile)?),
                        ..ListQuery::default()
                    },
                    _ => {
                        return Err(ApiError::new(
                            ErrorCode::InvalidRequest,
                            "give exactly one of `user` and `profile`",
                        ));
                    }
                };
                let query = ListQuery {
                    status: Some(Status::Active),
                    ..query
                };
                log.target = Some(target(&query));
                log.profile.clone_from(&query.profile);
                admin.authorize(query.profile.as_deref(), log).await?;
                let ids = admin
                    .collect(query)
                    .await?
                    .into_iter()
                    .map(|r| r.session_id)
                    .collect();
                admin.revoke(ids, reason).await
            }
            AdminRoute::Reconcile => {
                no_query(request)?;
                Body::parse(request, &[])?;
                log.target = Some("*".to_owned());
                admin.authorize(None, log).await?;
                let outcomes =
                    revocation::reconcile(&self.roles, request.tvm_account.as_ref(), store, now)
                        .await
                        .map_err(store_error)?;
                to_json(&json!({ "aws_deny": deny_map(&outcomes) }))
            }
        }
    }
}

/// One admin request's context.
pub(super) struct Admin<'a, P, I, S, R> {
    pub(super) service: &'a Service<P, I, S, R>,
    pub(super) store: &'a S,
    pub(super) request: &'a ApiRequest,
    pub(super) caller: &'a Caller,
    pub(super) action: &'static str,
    pub(super) now: DateTime<Utc>,
}

impl<P, I, S, R> Admin<'_, P, I, S, R>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    /// The admin policy's word on this action about `profile` (`None`: about no single
    /// profile). Refusals are 403 `ADMIN_DENY` naming the deciding rule.
    pub(super) async fn authorize(
        &self,
        profile: Option<&str>,
        log: &mut DecisionLog,
    ) -> Result<(), ApiError> {
        let set = self.admin_policy().await?;
        let request = self.admin_request(profile);
        let action = self.action;
        match policy::evaluate_admin(&set, &request, self.now) {
            AdminDecision::Allow { rule, reason } => {
                log.rule = Some(rule.to_owned());
                log.reason = reason.map(str::to_owned);
                Ok(())
            }
            AdminDecision::Deny { rule, reason } => {
                log.rule = rule.map(str::to_owned);
                let about = profile.map_or_else(String::new, |p| format!(" on profile `{p}`"));
                let message = match (rule, reason) {
                    (None, _) => format!(
                        "no rule of the admin policy allows `{action}`{about} (default deny)"
                    ),
                    (Some(rule), None) => {
                        format!("`{action}`{about} is denied by rule `{rule}` of the admin policy")
                    }
                    (Some(rule), Some(reason)) => format!(
                        "`{action}`{about} is denied by rule `{rule}` of the admin policy: {reason}"
                    ),
                };
                Err(ApiError::new(ErrorCode::AdminDeny, message))
            }
        }
    }

    /// The admin policy; no policy, an invalid one or one that cannot be read is the
    /// refusal.
    async fn admin_policy(&self) -> Result<std::sync::Arc<policy::AdminPolicySet>, ApiError> {
        let path = self
            .service
            .settings
            .policy_path(sentinel_types::PolicyName::ADMIN);
        // SECURITY: no admin policy, no administration (fail closed).
        let set = match self.service.policies.admin().await {
            Ok(Some(set)) => set,
            Ok(None) => {
                return Err(ApiError::new(
                    ErrorCode::AdminDeny,
                    "there is no admin policy; every admin route is denied",
                )
                .with_detail(format!("{path} does not exist")));
            }
            Err(LoadError::Invalid(e)) => {
                return Err(ApiError::new(
                    ErrorCode::PolicyError,
                    "the admin policy is invalid; admin routes are refused until it is fixed",
                )
                .with_detail(format!("{path}: {e}")));
            }
            Err(LoadError::Source(e @ SourceError::AccessDenied(_))) => {
                return Err(ApiError::new(
                    ErrorCode::ConfigError,
                    "sentinel is not allowed to read the admin policy",
                )
                .with_cause(&e));
            }
            Err(LoadError::Source(e @ SourceError::Unavailable(_))) => {
                return Err(ApiError::new(
                    ErrorCode::PolicyError,
                    "the admin policy could not be loaded",
                )
                .with_cause(&e));
            }
        };
        Ok(set)
    }

    fn admin_request<'a>(&'a self, profile: Option<&'a str>) -> AdminRequest<'a> {
        AdminRequest {
            principal_arn: &self.caller.arn,
            user: &self.caller.user,
            account_id: self.caller.account_id.as_str(),
            source_ip: self
                .request
                .source_ip
                .as_deref()
                .and_then(|ip| ip.parse().ok()),
            action: self.action,
            profile,
        }
    }

    /// Refuses, before anything is read, a caller whom the admin policy lets do this
    /// action on no profile at all (`policy::admin_may_somewhere`); the refusal names
    /// no profile.
    pub(super) async fn authorize_somewhere(&self) -> Result<(), ApiError> {
        let set = self.admin_policy().await?;
        if policy::admin_may_somewhere(&set, &self.admin_request(None), self.now) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::AdminDeny,
                format!("the admin policy lets you `{}` on no profile", self.action),
            ))
        }
    }

    /// The row `raw` names, once the caller may act on it.
    async fn authorized_row(
        &self,
        raw: &str,
        log: &mut DecisionLog,
    ) -> Result<SessionRecord, ApiError> {
        let id = SessionId::parse(raw).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "a session id is 32 lowercase hex characters",
            )
            .with_cause(&e)
        })?;
        log.target = Some(id.to_string());
        log.session_id = Some(id.to_string());
        let record = self.store.get(&id).await.map_err(store_error)?;
        // SECURITY: the caller is authorized before learning whether the session exists,
        // so that someone allowed only some profiles cannot probe other sessions: an
        // unknown ID is decided as a request about no single profile.
        let profile = record.as_ref().map(|r| r.profile.to_string());
        log.profile.clone_from(&profile);
        self.authorize(profile.as_deref(), log).await?;
        record.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no session `{id}`")))
    }

    /// One page, newest first.
    async fn list(&self, query: ListQuery) -> Result<String, ApiError> {
        let page = self.store.list(&query).await.map_err(store_error)?;
        let mut sessions = page.records;
        // Index pages already are; a page of a full listing is sorted here.
        sessions.sort_by_key(|r| std::cmp::Reverse(r.issued_at));
        to_json(&json!({ "sessions": sessions, "next": page.next_cursor }))
    }

    /// Every row matching `query` (all pages).
    pub(super) async fn collect(
        &self,
        mut query: ListQuery,
    ) -> Result<Vec<SessionRecord>, ApiError> {
        let mut records = Vec::new();
        loop {
            let page = self.store.list(&query).await.map_err(store_error)?;
            records.extend(page.records);
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => return Ok(records),
            }
        }
    }

    /// Revokes `ids` (layer 1, idempotent), then rebuilds the deny of their roles
    /// (layer 2); answers the rows as they now stand and each role's outcome.
    pub(super) async fn revoke(
        &self,
        ids: Vec<SessionId>,
        reason: String,
    ) -> Result<String, ApiError> {
        let revocation = Revocation {
            by: self.caller.arn.clone(),
            reason,
            at: self.now,
        };
        let mut rows = Vec::new();
        let mut already = Vec::new();
        for id in &ids {
            match self.store.revoke(id, &revocation).await {
                Ok(RevokeOutcome::Revoked(row)) => rows.push(row),
                Ok(RevokeOutcome::AlreadyRevoked(row)) => {
                    already.push(row.session_id.to_string());
                    rows.push(row);
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        let outcomes = revocation::deny_on_roles(
            &self.service.roles,
            self.request.tvm_account.as_ref(),
            self.store,
            &rows,
            self.now,
        )
        .await
        .map_err(store_error)?;
        // The rows as the table now holds them: layer 2's outcome was recorded on each.
        for row in &mut rows {
            if let (Some(outcome), SessionState::Revoked(_, deny)) =
                (outcomes.get(&row.role_arn), &mut row.state)
            {
                deny.clone_from(&outcome.state);
            }
        }
        to_json(&json!({
            "revoked": rows,
            "already_revoked": already,
            "aws_deny": deny_map(&outcomes),
        }))
    }
}

/// `{role_arn: {"state", "at"?, "reason"?, "fallback"?}}`.
fn deny_map(outcomes: &BTreeMap<RoleArn, RoleOutcome>) -> BTreeMap<String, Value> {
    outcomes
        .iter()
        .map(|(role, outcome)| {
            let mut entry = serde_json::Map::new();
            entry.insert("state".into(), json!(outcome.state.as_str()));
            if let AwsDeny::Applied { at } = &outcome.state {
                entry.insert("at".into(), json!(wire_time::format(at)));
            }
            if let Some(reason) = &outcome.reason {
                entry.insert("reason".into(), json!(reason));
            }
            if outcome.fallback {
                entry.insert("fallback".into(), json!(true));
            }
            let entry = Value::Object(entry);
            (role.to_string(), entry)
        })
        .collect()
}

/// The decision log's `target` of a list or bulk revoke: its filters, or `*`.
fn target(query: &ListQuery) -> String {
    {
        let parts: Vec<String> = [
            query.user.as_ref().map(|u| format!("user={u}")),
            query.profile.as_ref().map(|p| format!("profile={p}")),
            query.status.map(|s| format!("status={s}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            "*".to_owned()
        } else {
            parts.join(",")
        }
    }
}

/// `GET /sessions`'s query: `user`, `profile`, `status`, `limit`, `next`, each at most
/// once; anything else is refused.
fn parse_list_query(request: &ApiRequest) -> Result<ListQuery, ApiError> {
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidRequest, message);
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in query_pairs(request) {
        if !matches!(
            key.as_str(),
            "user" | "profile" | "status" | "limit" | "next"
        ) {
            return Err(invalid(format!(
                "unknown query parameter `{key}` (expected `user`, `profile`, `status`, `limit` and `next`)"
            )));
        }
        if fields.insert(key.clone(), value).is_some() {
            return Err(invalid(format!(
                "query parameter `{key}` is given more than once"
            )));
        }
    }
    let status = fields
        .remove("status")
        .map(|raw| {
            raw.parse::<Status>()
                .map_err(|_| invalid("`status` is `active` or `revoked`".to_owned()))
        })
        .transpose()?;
    let limit = match fields.remove("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| invalid(format!("`limit` is a whole number from 1 to {MAX_LIMIT}")))?,
    };
    Ok(ListQuery {
        user: fields.remove("user").filter(|u| !u.is_empty()),
        profile: fields
            .remove("profile")
            .filter(|p| !p.is_empty())
            .map(|p| valid_profile(&p))
            .transpose()?,
        status,
        limit: Some(limit),
        cursor: fields.remove("next").filter(|n| !n.is_empty()),
    })
}

/// The query's pairs, without SigV4's own `X-Amz-*` parameters (authentication, not input).
pub(super) fn query_pairs(request: &ApiRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(request.query.as_deref().unwrap_or("").as_bytes())
        .filter(|(key, _)| !key.starts_with("X-Amz-"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Routes that take no query parameters refuse any.
pub(super) fn no_query(request: &ApiRequest) -> Result<(), ApiError> {
    match query_pairs(request).first() {
        Some((key, _)) => Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("unknown query parameter `{key}` (this route takes none)"),
        )),
        None => Ok(()),
    }
}

pub(super) fn valid_profile(raw: &str) -> Result<String, ApiError> {
    ProfileName::parse(raw).map(|p| p.to_string()).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "`profile` is not a valid profile name",
        )
        .with_cause(&e)
    })
}

/// A JSON object body with only the `allowed` keys, each at most once. An empty body
/// is an empty object.
pub(super) struct Body(serde_json::Map<String, Value>);

impl Body {
    pub(super) fn parse(request: &ApiRequest, allowed: &[&str]) -> Result<Self, ApiError> {
        if request.body.len() > MAX_BODY_BYTES {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "the request body is too large",
            ));
        }
        if request.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(serde_json::Map::new()));
        }
        let UniqueKeys(fields) = serde_json::from_slice(&request.body).map_err(|e| {
            ApiError::new(ErrorCode::InvalidRequest, "the body must be a JSON object")
                .with_cause(&e)
        })?;
        if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
            let expected = if allowed.is_empty() {
                "this route takes no fields".to_owned()
            } else {
                format!(
                    "expected {}",
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("unknown field `{unknown}` ({expected})"),
            ));
        }
        Ok(Self(fields))
    }

    /// A string field; absent, null or empty is `None`.
    pub(super) fn string(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s).filter(|s| !s.trim().is_empty())),
            Some(_) => Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("`{name}` must be a string"),
            )),
        }
    }

    /// Any field, as given; `None` when absent.
    pub(super) fn take(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// The required `reason`.
    pub(super) fn reason(&mut self) -> Result<String, ApiError> {
        self.string("reason")?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "the `reason` field is required (it is kept in the session row)",
            )
        })
    }
}

/// A store failure: a bad cursor is the client's (400), anything else fails closed (500).
pub(super) fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::InvalidQuery(_) => ApiError::new(ErrorCode::InvalidRequest, error.to_string()),
        StoreError::NotFound(ref id) => {
            ApiError::new(ErrorCode::NotFound, format!("no session `{id}`"))
        }
        other => ApiError::new(
            ErrorCode::SessionStoreError,
            "the session table could not be read or written",
        )
        .with_cause(&other),
    }
}

pub(super) fn to_json(value: &impl serde::Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| {
        ApiError::new(
            ErrorCode::SessionStoreError,
            "a session could not be encoded",
        )
        .with_cause(&e)
    })
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
