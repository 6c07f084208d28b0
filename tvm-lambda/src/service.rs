//! The vend path, independent of how the request arrived (Lambda event or `serve`):
//! identity -> input -> policy -> decision -> STS -> session record -> response.
//!
//! Every failure becomes an [`ApiError`] with a docs/api.md code; the response body
//! carries only the code, a client-safe message and the request ID, while the
//! decision log carries the internal detail. Nothing here panics.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use policy::identity::{self, IdentityError};
use policy::{Decision, PolicySet};
use protocol::{ErrorBody, ErrorCode, ProfileEntry, ProfilesResponse, VendResponse, VendedSession};
use revocation::RoleWriters;
use sentinel_types::{AccountId, ProfileName, SessionDuration};
use sessions::{LeaseStore, SessionRecord, SessionState, SessionStore};

use crate::audit::{DecisionLog, Effect};
use crate::exchange::{TokenVerifier, WorkloadCaller};
use crate::gates::Gates;
use crate::grant::{CredentialIssuer, GrantInput, IssueRequest};
use crate::policies::{LoadError, PolicyCache, PolicySource, SourceError};
use crate::settings::Settings;

/// Largest request body accepted; a vend request is a few dozen bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// User agents are caller-controlled; keep log lines bounded.
const MAX_USER_AGENT: usize = 256;

/// The identity AWS verified (`requestContext.authorizer.iam`, or `serve`'s SigV4 check).
pub use sentinel_front::IamCaller;

/// A request as either front door sees it.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// Raw query string without `?`.
    pub query: Option<String>,
    pub body: Vec<u8>,
    /// `None` when the request carried no IAM identity.
    pub caller: Option<IamCaller>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
    /// Why the front door could not verify the caller (log only; `serve`'s SigV4 check).
    pub auth_failure: Option<String>,
    /// The account the TVM runs in (the Lambda's function ARN, or `serve`'s
    /// `--account-id` / its own credentials): home of bare user names.
    pub tvm_account: Option<AccountId>,
    /// The `Authorization: Bearer` token, read by `POST /exchange` only.
    pub bearer: Option<String>,
}

/// The token of an `Authorization: Bearer <token>` header value (scheme in any case).
pub fn bearer_token(authorization: &str) -> Option<String> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// Status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: String,
}

/// The typed outcome of one request: its response plus what the front door logs.
#[derive(Debug)]
pub struct Handled {
    pub response: ApiResponse,
    pub log: DecisionLog,
    /// Whether the EMF metrics line applies (vend routes only).
    pub metered: bool,
}

impl Handled {
    /// The decision line and, for vends, the metrics line, for the front door to write
    /// where Lambda ships them to CloudWatch Logs (stdout).
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines = vec![self.log.to_json_line()];
        if self.metered {
            lines.push(self.log.to_emf_line());
        }
        lines
    }
}

/// A refusal or failure: a docs/api.md code, a client-safe message, and log-only detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<String>,
}

impl ApiError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: None,
        }
    }

    pub(crate) fn with_detail(mut self, detail: impl ToString) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// Log-only detail: the error with its whole cause chain.
    fn with_cause(self, error: &dyn std::error::Error) -> Self {
        self.with_detail(sentinel_types::error_chain(error))
    }
}

/// 500 `CREDENTIAL_ERROR`: the client learns only that issuing failed; `detail` is for the log.
fn credential_error(cause: impl std::error::Error) -> ApiError {
    ApiError::new(
        ErrorCode::CredentialError,
        "credentials could not be issued",
    )
    .with_cause(&cause)
}

/// A caller that passed identity checks: an IAM principal, or a workload whose token
/// verified (`/exchange`).
pub(crate) struct Caller {
    /// The IAM ARN; for a workload, its issuer and subject.
    pub(crate) arn: String,
    /// The IAM caller's account; for a workload, the TVM's own.
    pub(crate) account_id: AccountId,
    pub(crate) user: String,
    /// Who is behind the caller, for separation of duties
    /// (`policy::identity::Caller::person`; a workload is its `arn`).
    pub(crate) person: String,
    /// A role session Sentinel vended (`policy::identity::Caller::is_vended_session`).
    pub(crate) vended: bool,
    /// The verified token's identity, for a workload.
    pub(crate) workload: Option<WorkloadCaller>,
}

/// The TVM: settings plus its four ports, and the JWT verifier of `/exchange`.
pub struct Service<P, I, S, R> {
    settings: Settings,
    policies: PolicyCache<P>,
    issuer: I,
    store: Option<S>,
    roles: R,
    workloads: Option<Arc<dyn TokenVerifier>>,
    gates: Option<Gates>,
}

impl<P, I, S, R> Service<P, I, S, R>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    /// Wires the service; `store` is `None` when no session table is configured;
    /// `roles` writes revocation layer 2 (the protected roles' deny).
    pub fn new(settings: Settings, policies: P, issuer: I, store: Option<S>, roles: R) -> Self {
        let policies = PolicyCache::new(policies, settings.policy_cache_ttl);
        Self {
            settings,
            policies,
            issuer,
            store,
            roles,
            workloads: None,
            gates: None,
        }
    }

    /// The same service, answering `/requests` and `/breakglass` and gating
    /// `require_approval` vends with `gates` (SPEC §9).
    #[must_use]
    pub fn with_gates(mut self, gates: Gates) -> Self {
        self.gates = Some(gates);
        self
    }

    /// The same service, answering `POST /exchange` with `verifier` (SPEC §10).
    #[must_use]
    pub fn with_workloads(mut self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.workloads = Some(verifier);
        self
    }

    /// The JWT verifier of `/exchange`, when workload identity is configured.
    pub fn workloads(&self) -> Option<&dyn TokenVerifier> {
        self.workloads.as_deref()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The policy source (behind its cache).
    pub fn policy_source(&self) -> &P {
        self.policies.source()
    }

    /// The credential issuer.
    pub fn issuer(&self) -> &I {
        &self.issuer
    }

    /// The session store, if any.
    pub fn store(&self) -> Option<&S> {
        self.store.as_ref()
    }

    /// The writers of revocation layer 2.
    pub fn roles(&self) -> &R {
        &self.roles
    }

    /// Handles one request at wall-clock time `now`.
    pub async fn handle(&self, request: ApiRequest, now: DateTime<Utc>) -> Handled {
        let started = Instant::now();
        let mut log = DecisionLog::new(request.request_id.clone(), now)
            .with_stack(self.settings.stack_name.as_str());
        log.source_ip = request.source_ip.clone();
        log.user_agent = request
            .user_agent
            .as_deref()
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());

        let route = route(&request.method, &request.path);
        let metered = matches!(
            route,
            Ok(Route::Vend | Route::Exchange | Route::BreakGlass(BreakGlassRoute::Open))
        );
        let created = matches!(route, Ok(Route::Requests(RequestsRoute::Create)));
        // Authentication comes first, as with AWS_IAM in front of every route: an
        // unsigned request learns nothing about paths or methods. `/exchange` alone has
        // no IAM auth (SPEC §10): its bearer token is verified instead.
        let result = match route {
            Ok(Route::Exchange) => self.exchange(&request, now, &mut log).await,
            route => match self.authenticate(&request, &mut log) {
                Err(e) => Err(e),
                Ok(caller) => match route {
                    Err(e) => Err(e),
                    Ok(Route::Vend) => self.vend(&request, &caller, now, &mut log).await,
                    Ok(Route::Profiles) => self.profiles().await,
                    Ok(Route::Admin(admin)) => {
                        self.admin(admin, &request, &caller, now, &mut log).await
                    }
                    Ok(Route::Requests(route)) => match Self::own_credentials(&caller) {
                        Ok(()) => self.requests(route, &request, &caller, now, &mut log).await,
                        Err(e) => Err(e),
                    },
                    Ok(Route::BreakGlass(route)) => match Self::own_credentials(&caller) {
                        Ok(()) => {
                            self.breakglass(route, &request, &caller, now, &mut log)
                                .await
                        }
                        Err(e) => Err(e),
                    },
                    // Matched above.
                    Ok(Route::Exchange) => Err(ApiError::new(ErrorCode::NotFound, "no route")),
                },
            },
        };

        let response = match result {
            Ok(body) => {
                log.effect = Effect::Allow;
                let status = if created { 201 } else { 200 };
                ApiResponse { status, body }
            }
            Err(error) => {
                let status = error.code.status();
                log.effect = Effect::of_refusal(error.code);
                log.level = log.effect.level();
                log.code = Some(error.code.as_str());
                if log.reason.is_none() {
                    log.reason = Some(error.message.clone());
                }
                log.detail = error.detail;
                let body = ErrorBody::new(error.code, error.message, request.request_id.clone());
                ApiResponse {
                    status,
                    body: serde_json::to_string(&body).unwrap_or_default(),
                }
            }
        };
        log.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        Handled {
            response,
            log,
            metered,
        }
    }

    /// docs/identity.md: identity from the verified request context, then the account/org allow-lists.
    fn authenticate(
        &self,
        request: &ApiRequest,
        log: &mut DecisionLog,
    ) -> Result<Caller, ApiError> {
        let caller = request.caller.as_ref();
        let Some(arn) = caller
            .and_then(|c| c.user_arn.as_deref())
            .filter(|a| !a.is_empty())
        else {
            let error = ApiError::new(
                ErrorCode::IamAuthRequired,
                "the request must be signed with AWS credentials (IAM auth)",
            );
            return Err(match &request.auth_failure {
                Some(why) => error.with_detail(why),
                None => error,
            });
        };
        log.caller_arn = Some(arn.to_owned());
        let derived =
            identity::derive_user(arn, &self.settings.identity_roles).map_err(|e| match e {
                IdentityError::Root => ApiError::new(
                    ErrorCode::InvalidIdentity,
                    "root credentials cannot be used with sentinel; sign in as an IAM user or role",
                ),
                other => ApiError::new(
                    ErrorCode::InvalidIdentity,
                    format!("caller `{arn}` is not a supported identity"),
                )
                .with_cause(&other),
            })?;
        log.account_id = Some(derived.account_id.clone());
        log.user = Some(derived.user.clone());

        // SECURITY: the context must name the caller's account and agree with the ARN; a
        // missing or different account means the context was not built by AWS (or by
        // our SigV4 check) and is not trusted.
        let context_account = caller.and_then(|c| c.account_id.as_deref()).unwrap_or("");
        if context_account != derived.account_id {
            return Err(ApiError::new(
                ErrorCode::InvalidIdentity,
                format!("caller `{arn}` does not belong to account `{context_account}`"),
            ));
        }
        let account_id = AccountId::parse(&derived.account_id).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidIdentity,
                format!("caller `{arn}` is not a supported identity"),
            )
            .with_cause(&e)
        })?;
        let Some(home) = request.tvm_account.as_ref() else {
            return Err(ApiError::new(
                ErrorCode::ConfigError,
                "sentinel does not know the account it runs in",
            ));
        };
        let allowed = &self.settings.allowed_accounts;
        let orgs = &self.settings.allowed_org_ids;
        // SECURITY: with no allow-list, only the TVM's own account is admitted (fail
        // closed); `*` admits any account.
        let admitted = if allowed.is_empty() {
            !orgs.is_empty() || account_id == *home
        } else {
            allowed.iter().any(|a| a == "*" || *a == derived.account_id)
        };
        if !admitted {
            return Err(ApiError::new(
                ErrorCode::AccountNotAllowed,
                format!("account `{account_id}` may not use this sentinel"),
            ));
        }
        if !orgs.is_empty() {
            let org = caller.and_then(|c| c.principal_org_id.as_deref());
            if !org.is_some_and(|org| orgs.iter().any(|o| o == org)) {
                return Err(ApiError::new(
                    ErrorCode::AccountNotAllowed,
                    format!(
                        "account `{}` is not in an organization allowed to use this sentinel",
                        derived.account_id
                    ),
                ));
            }
        }
        let (person, vended) = (derived.person(), derived.is_vended_session());
        // Two accounts' `alice` are never one user: a bare name is the home account's.
        let user = if account_id == *home {
            derived.user
        } else {
            format!("{account_id}:{}", derived.user)
        };
        log.user = Some(user.clone());
        Ok(Caller {
            arn: arn.to_owned(),
            account_id,
            user,
            person,
            vended,
            workload: None,
        })
    }

    /// SECURITY: approvals and break-glass are separation of duties between people, and a
    /// session Sentinel vended is a role session whose person (`R/*`) is not the person it
    /// was vended to: through two vended roles one person would approve their own
    /// request twice. Such sessions may not use these routes.
    fn own_credentials(caller: &Caller) -> Result<(), ApiError> {
        if caller.vended {
            return Err(ApiError::new(
                ErrorCode::InvalidIdentity,
                "credentials sentinel vended cannot ask for, answer or review approvals and break-glass; sign with your own",
            ));
        }
        Ok(())
    }

    /// The person behind `arn` (`policy::identity::Caller::person`), for separation of
    /// duties: a principal of a stored request or event (a caller's is `Caller::person`,
    /// derived the same way when it was authenticated). A workload's
    /// `principal_arn` (its issuer and subject) is its own person.
    pub(crate) fn person_of(&self, arn: &str) -> String {
        identity::derive_user(arn, &self.settings.identity_roles)
            .map_or_else(|_| arn.to_owned(), |caller| caller.person())
    }

    pub(crate) async fn vend(
        &self,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let input = parse_vend_input(request)?;
        log.profile = Some(input.profile.clone());
        let profile = ProfileName::parse(&input.profile).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidProfile,
                format!("profile `{}` is not a valid profile name", input.profile),
            )
            .with_cause(&e)
        })?;
        let requested = input
            .duration
            .as_deref()
            .map(|raw| {
                SessionDuration::parse_seconds(raw).map_err(|e| {
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
            })
            .transpose()?
            .map(SessionDuration::secs);

        let set = self.load_policy(profile.as_str()).await?;
        log.known_profile = true;
        log.role_arn = Some(set.profile().role_arn.as_str().to_owned());

        let source_ip = request.source_ip.as_deref().and_then(|ip| ip.parse().ok());
        let policy_request = policy::Request {
            principal_arn: &caller.arn,
            user: &caller.user,
            account_id: caller.account_id.as_str(),
            source_ip,
            requested_duration: requested,
            workload: caller.workload.as_ref().map(WorkloadCaller::as_policy),
        };
        let (rule, duration, approved) = match policy::evaluate(&set, &policy_request, now) {
            Decision::Allow {
                rule,
                reason,
                duration,
                ..
            } => {
                log.rule = Some(rule.to_owned());
                log.reason = reason.map(str::to_owned);
                (rule, duration, None)
            }
            Decision::RequireApproval {
                rule, reason, cap, ..
            } => {
                log.rule = Some(rule.to_owned());
                log.reason = reason.map(str::to_owned);
                let approved = self.approved_request(caller, &profile, rule, now).await?;
                let Some(approved) = approved else {
                    return Err(approval_required(&profile, rule));
                };
                let duration = requests::vend_duration(&approved, requested, cap, now);
                log.approval_id = Some(approved.request_id.to_string());
                (rule, duration, Some(approved.request_id))
            }
            decision @ (Decision::Deny { .. } | Decision::BreakGlass { .. }) => {
                return Err(policy_deny(&profile, &decision));
            }
        };
        let gate = approved
            .as_ref()
            .map(|id| Gate::Approval(id.as_str().to_owned()));
        let vended = self
            .issue(
                request, caller, now, log, &set, &profile, rule, duration, gate,
            )
            .await?;
        if let Some(id) = &approved {
            self.confirm_approval(id, &profile, rule, &vended.session_id, now, log)
                .await?;
        }
        serde_json::to_string(&vended).map_err(credential_error)
    }

    /// Assumes the profile's role for `caller` and records the session: the tail of
    /// every vend (allowed, approved, break-glass). `duration` is capped by the TVM's
    /// own maximum here.
    #[expect(clippy::too_many_arguments, reason = "one vend's parts, each a borrow")]
    pub(crate) async fn issue(
        &self,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
        set: &PolicySet,
        profile: &ProfileName,
        rule: &str,
        duration: u32,
        gate: Option<Gate>,
    ) -> Result<VendResponse, ApiError> {
        let duration = duration.min(self.settings.max_duration);
        let rule = rule.to_owned();
        let profile = profile.clone();
        let gate_tag = gate.as_ref().map(|g| (g.tag(), g.id()));
        let session_id = sessions::new_session_id().map_err(credential_error)?;
        log.session_id = Some(session_id.as_str().to_owned());
        let issue = IssueRequest::new(GrantInput {
            role_arn: &set.profile().role_arn,
            session_id: &session_id,
            user: &caller.user,
            profile: &profile,
            duration_secs: duration,
            static_tags: &set.profile().session_tags,
            gate: gate_tag,
        })
        .map_err(credential_error)?;
        log.source_identity = Some(issue.source_identity.to_string());
        log.duration_seconds = Some(duration);

        let credentials = self
            .issuer
            .issue(&issue)
            .await
            .map_err(credential_error)?
            .credentials;

        if let Some(store) = &self.store {
            let record = SessionRecord {
                session_id: session_id.clone(),
                principal_arn: caller.arn.clone(),
                account_id: caller.account_id.clone(),
                user: caller.user.clone(),
                profile: profile.clone(),
                role_arn: issue.role_arn.clone(),
                source_identity: issue.source_identity.clone(),
                access_key_id: credentials.access_key_id.clone(),
                rule: rule.clone(),
                state: SessionState::Active,
                issued_at: now,
                expires_at: credentials.expiration,
                source_ip: request.source_ip.clone(),
                user_agent: log.user_agent.clone(),
                request_id: request.request_id.clone(),
                approval_id: match &gate {
                    Some(Gate::Approval(id)) => Some(id.clone()),
                    _ => None,
                },
                breakglass_id: match &gate {
                    Some(Gate::BreakGlass(id)) => Some(id.clone()),
                    _ => None,
                },
                ttl: SessionRecord::ttl_for(
                    credentials.expiration,
                    self.settings.session_retention_days,
                ),
            };
            // SECURITY: fail closed. Credentials whose session is not recorded cannot be
            // revoked or audited, so they are never returned.
            store.put_new(&record).await.map_err(|e| {
                ApiError::new(
                    ErrorCode::SessionStoreError,
                    "the session could not be recorded; no credentials were issued",
                )
                .with_cause(&e)
            })?;
        }

        Ok(VendResponse::new(
            credentials,
            VendedSession {
                session_id,
                source_identity: issue.source_identity,
                profile,
                role_arn: issue.role_arn,
            },
        ))
    }

    async fn load_policy(&self, profile: &str) -> Result<Arc<PolicySet>, ApiError> {
        match self.policies.get(profile).await {
            Ok(Some(set)) => Ok(set),
            Ok(None) => Err(ApiError::new(
                ErrorCode::ProfileNotFound,
                format!("profile `{profile}` does not exist"),
            )),
            Err(LoadError::Invalid(e)) => Err(ApiError::new(
                ErrorCode::PolicyError,
                format!("the policy for profile `{profile}` is invalid; no credentials are issued until it is fixed"),
            )
            .with_detail(format!("{}: {e}", self.settings.policy_path(profile)))),
            Err(LoadError::Source(e @ SourceError::AccessDenied(_))) => Err(ApiError::new(
                ErrorCode::ConfigError,
                format!("sentinel is not allowed to read the policy for profile `{profile}`"),
            )
            .with_cause(&e)),
            Err(LoadError::Source(e @ SourceError::Unavailable(_))) => Err(ApiError::new(
                ErrorCode::PolicyError,
                format!("the policy for profile `{profile}` could not be loaded"),
            )
            .with_cause(&e)),
        }
    }

    async fn profiles(&self) -> Result<String, ApiError> {
        let names = self.policies.source().list().await.map_err(|e| match e {
            SourceError::AccessDenied(_) => ApiError::new(
                ErrorCode::ConfigError,
                "sentinel is not allowed to list profiles",
            )
            .with_cause(&e),
            SourceError::Unavailable(_) => {
                ApiError::new(ErrorCode::PolicyError, "profiles could not be listed").with_cause(&e)
            }
        })?;
        let profiles = names
            .into_iter()
            .filter_map(|name| ProfileName::parse(&name).ok())
            .map(|name| ProfileEntry {
                policy_path: self.settings.policy_path(name.as_str()),
                name,
            })
            .collect();
        let response = ProfilesResponse {
            profiles,
            root: self.settings.policy_root.to_string(),
        };
        serde_json::to_string(&response).map_err(|e| {
            ApiError::new(ErrorCode::PolicyError, "profiles could not be listed").with_cause(&e)
        })
    }
}

/// The approved request or break-glass event a vend happens under.
pub(crate) enum Gate {
    Approval(String),
    BreakGlass(String),
}

impl Gate {
    fn tag(&self) -> &'static str {
        match self {
            Gate::Approval(_) => sentinel_types::tags::APPROVAL_ID_TAG,
            Gate::BreakGlass(_) => sentinel_types::tags::BREAKGLASS_ID_TAG,
        }
    }

    fn id(&self) -> &str {
        match self {
            Gate::Approval(id) | Gate::BreakGlass(id) => id,
        }
    }
}

/// 403 `APPROVAL_REQUIRED`: the one line that says what to run.
fn approval_required(profile: &ProfileName, rule: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ApprovalRequired,
        format!(
            "profile `{profile}` needs an approved request (rule `{rule}`): run `sentinel request --profile {profile} --reason \"<why>\" --wait`"
        ),
    )
}

/// 403 `POLICY_DENY` for a decision that issues nothing here.
fn policy_deny(profile: &ProfileName, decision: &Decision<'_>) -> ApiError {
    let message = match decision {
        Decision::Deny { rule: None, .. } => {
            format!("no rule matched in the policy for profile `{profile}` (default deny)")
        }
        Decision::Deny {
            rule: Some(rule),
            reason: None,
        } => format!("denied by rule `{rule}` of profile `{profile}`"),
        Decision::Deny {
            rule: Some(rule),
            reason: Some(reason),
        } => format!("denied by rule `{rule}` of profile `{profile}`: {reason}"),
        // Not reached: evaluation modes keep these apart; never credentials.
        other => format!(
            "rule `{}` of profile `{profile}` does not issue credentials on this route",
            other.rule().unwrap_or("-")
        ),
    };
    ApiError::new(ErrorCode::PolicyDeny, message)
}

#[path = "admin.rs"]
mod admin;
use admin::AdminRoute;

#[path = "requests/mod.rs"]
mod requests;
use requests::RequestsRoute;

#[path = "breakglass.rs"]
mod breakglass;
use breakglass::BreakGlassRoute;

#[path = "routes.rs"]
mod routes;
use routes::{Route, UniqueKeys, parse_vend_input, route};

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "gates_tests/mod.rs"]
mod gates_tests;
