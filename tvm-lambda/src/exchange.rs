//! `POST /exchange` (SPEC §10): a workload's JWT for a profile's credentials.
//!
//! The route has no AWS_IAM auth at the gateway: the bearer token is the only
//! credential, verified here by the workspace's one JWT verifier (crate `sentinel-jwt`).
//! A token that does not verify is 401 `INVALID_TOKEN` with a generic message (the
//! reason goes to the decision log only); a verified workload then goes through the
//! vend path like any caller: the profile's policy (whose allow rules must name
//! `issuers`, `subjects` or `claims` to admit a workload), STS with a SourceIdentity,
//! the session row, credential_process JSON.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use protocol::ErrorCode;
use revocation::RoleWriters;
use sentinel_jwt::{Fetch, TokenError, Verified, Verifier};
use sessions::{LeaseStore, SessionStore};

use crate::audit::DecisionLog;
use crate::grant::CredentialIssuer;
use crate::policies::PolicySource;
use crate::service::{ApiError, ApiRequest, Caller, Service};

/// What `/exchange` needs of a JWT verifier (object-safe, so the service holds one
/// whatever its key fetcher).
pub trait TokenVerifier: Send + Sync {
    /// Verifies `token` at `now`.
    fn verify<'a>(
        &'a self,
        token: &'a str,
        now: SystemTime,
    ) -> Pin<Box<dyn Future<Output = Result<Verified, TokenError>> + Send + 'a>>;

    /// Whether `issuer` is a SPIFFE issuer (its users are the SPIFFE IDs themselves).
    fn spiffe(&self, issuer: &str) -> bool;
}

impl<F: Fetch + 'static> TokenVerifier for Verifier<F> {
    fn verify<'a>(
        &'a self,
        token: &'a str,
        now: SystemTime,
    ) -> Pin<Box<dyn Future<Output = Result<Verified, TokenError>> + Send + 'a>> {
        Box::pin(Verifier::verify(self, token, now))
    }

    fn spiffe(&self, issuer: &str) -> bool {
        self.issuer(issuer)
            .is_some_and(|i| i.trust_domain.is_some())
    }
}

/// A verified workload, as the policy's workload conditions see it.
#[derive(Debug, Clone)]
pub(crate) struct WorkloadCaller {
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) claims: BTreeMap<String, Vec<String>>,
}

impl WorkloadCaller {
    /// The policy's view.
    pub(crate) fn as_policy(&self) -> policy::Workload<'_> {
        policy::Workload {
            issuer: &self.issuer,
            subject: &self.subject,
            claims: &self.claims,
        }
    }
}

/// 401 `INVALID_TOKEN`: the same message whatever the reason.
fn invalid_token(detail: impl ToString) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidToken,
        "the bearer token could not be verified",
    )
    .with_detail(detail)
}

impl<P, I, S, R> Service<P, I, S, R>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    /// `POST /exchange`.
    pub(crate) async fn exchange(
        &self,
        request: &ApiRequest,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let Some(verifier) = self.workloads() else {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                "workload identity is not configured on this sentinel (SENTINEL_JWT_ISSUERS)",
            ));
        };
        let token = request
            .bearer
            .as_deref()
            .ok_or_else(|| invalid_token("no `Authorization: Bearer` token"))?;
        let verified = verifier
            .verify(token, SystemTime::from(now))
            .await
            .map_err(|e| invalid_token(&e))?;
        let Some(home) = request.tvm_account.clone() else {
            return Err(ApiError::new(
                ErrorCode::ConfigError,
                "sentinel does not know the account it runs in",
            ));
        };
        let user = verified.user(verifier.spiffe(&verified.issuer));
        log.caller_arn = Some(format!("{} {}", verified.issuer, verified.subject));
        log.account_id = Some(home.to_string());
        log.user = Some(user.clone());
        // Not an ARN (SPEC §10): the session row's `principal_arn` names the workload as
        // its issuer and subject, which is also its person.
        let arn = format!("{} {}", verified.issuer, verified.subject);
        let caller = Caller {
            person: arn.clone(),
            vended: false,
            arn,
            account_id: home,
            user,
            workload: Some(WorkloadCaller {
                claims: verified.claim_values(),
                issuer: verified.issuer,
                subject: verified.subject,
            }),
        };
        self.vend(request, &caller, now, log).await
    }
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
