//! `POST /exchange` with in-memory ports and a verifier whose answers the tests choose:
//! the route's codes, the generic 401, and a verified workload through the policy, STS
//! and the session store.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use protocol::{ErrorBody, VendResponse};
use sessions::{InMemorySessionStore, SessionStore};

use super::*;
use crate::fakes::{FakeIssuer, FakePolicySource};
use crate::service::{Handled, bearer_token};
use crate::{IamCaller, Settings};
use revocation::InMemoryIam;

const ACCOUNT: &str = "111122223333";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SUB: &str = "repo:org/app:ref:refs/heads/main";

const CI: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-ci
rules:
  - name: app-main-branch
    effect: allow
    conditions:
      issuers: ["https://token.actions.githubusercontent.com"]
      claims:
        repository: [org/app]
        ref: ["refs/heads/main"]
"#;

/// Written for IAM callers: its allow rules name no workload condition.
const DEV: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-dev
rules:
  - name: everyone
    effect: allow
    conditions:
      users: ["*"]
"#;

/// `good` verifies as org/app's main branch, `feature` as its feature branch; anything
/// else fails with the verifier's own reason.
struct FakeVerifier;

fn verified(git_ref: &str) -> Verified {
    let claims = serde_json::json!({"iss": ISSUER, "sub": format!("repo:org/app:ref:{git_ref}"),
        "aud": "sentinel", "repository": "org/app", "ref": git_ref});
    Verified {
        issuer: ISSUER.into(),
        subject: format!("repo:org/app:ref:{git_ref}"),
        expires_at: 1_800_000_000,
        scopes: Vec::new(),
        client_id: None,
        claims: claims.as_object().cloned().unwrap_or_default(),
    }
}

impl TokenVerifier for FakeVerifier {
    fn verify<'a>(
        &'a self,
        token: &'a str,
        _now: SystemTime,
    ) -> Pin<Box<dyn Future<Output = Result<Verified, TokenError>> + Send + 'a>> {
        Box::pin(async move {
            match token {
                "good" => Ok(verified("refs/heads/main")),
                "feature" => Ok(verified("refs/heads/feature")),
                _ => Err(TokenError::Expired(1_700_000_000)),
            }
        })
    }

    fn spiffe(&self, _issuer: &str) -> bool {
        false
    }
}

type TestService = Service<FakePolicySource, FakeIssuer, InMemorySessionStore, InMemoryIam>;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap()
}

fn service(workloads: bool) -> TestService {
    let settings =
        Settings::from_lookup(|name| (name == "SENTINEL_SESSION_TABLE").then(|| "sessions".into()))
            .unwrap();
    let service = Service::new(
        settings,
        FakePolicySource::new([("ci", CI), ("dev", DEV)]),
        FakeIssuer::new(now()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    );
    if workloads {
        service.with_workloads(Arc::new(FakeVerifier))
    } else {
        service
    }
}

fn exchange(token: Option<&str>, body: &str) -> ApiRequest {
    ApiRequest {
        method: "POST".into(),
        path: "/exchange".into(),
        body: body.as_bytes().to_vec(),
        bearer: token.map(str::to_owned),
        request_id: "req-x".into(),
        source_ip: Some("203.0.113.9".into()),
        tvm_account: Some(ACCOUNT.parse().unwrap()),
        ..ApiRequest::default()
    }
}

fn error_of(handled: &Handled) -> (u16, String, String) {
    let body: ErrorBody = serde_json::from_str(&handled.response.body).unwrap();
    (handled.response.status, body.code, body.message)
}

#[tokio::test]
async fn a_verified_workload_is_vended_and_recorded_as_itself() {
    let service = service(true);
    let handled = service
        .handle(
            exchange(Some("good"), r#"{"profile": "ci", "duration": 900}"#),
            now(),
        )
        .await;
    assert_eq!(handled.response.status, 200, "{}", handled.response.body);
    let vended: VendResponse = serde_json::from_str(&handled.response.body).unwrap();
    let user = format!("token.actions.githubusercontent.com:{SUB}");
    assert_eq!(
        vended.source_identity,
        sentinel_types::SourceIdentity::for_user(&user)
    );
    let row = service
        .store()
        .unwrap()
        .get(&vended.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user, user);
    assert_eq!(row.principal_arn, format!("{ISSUER} {SUB}"));
    assert_eq!(row.account_id, ACCOUNT);
    assert_eq!(row.rule, "app-main-branch");
    assert_eq!(handled.log.user.as_deref(), Some(user.as_str()));
    assert!(handled.metered);
}

#[tokio::test]
async fn tokens_that_do_not_verify_are_401_with_one_message() {
    let service = service(true);
    let body = r#"{"profile": "ci"}"#;
    let mut messages = Vec::new();
    for token in [None, Some("expired"), Some("forged")] {
        let handled = service.handle(exchange(token, body), now()).await;
        let (status, code, message) = error_of(&handled);
        assert_eq!((status, code.as_str()), (401, "INVALID_TOKEN"));
        messages.push(message);
        // The reason is for the log only.
        assert!(handled.log.detail.is_some());
    }
    messages.dedup();
    assert_eq!(messages, ["the bearer token could not be verified"]);
    assert!(service.issuer().requests().is_empty());
    // An IAM identity on the request does not stand in for the token.
    let signed = ApiRequest {
        caller: Some(IamCaller {
            user_arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            account_id: Some(ACCOUNT.into()),
            ..IamCaller::default()
        }),
        ..exchange(None, body)
    };
    let (status, code, _) = error_of(&service.handle(signed, now()).await);
    assert_eq!((status, code.as_str()), (401, "INVALID_TOKEN"));
}

#[tokio::test]
async fn verified_workloads_the_policy_does_not_name_are_denied() {
    let service = service(true);
    for (token, profile) in [("feature", "ci"), ("good", "dev")] {
        let body = format!(r#"{{"profile": "{profile}"}}"#);
        let handled = service.handle(exchange(Some(token), &body), now()).await;
        let (status, code, _) = error_of(&handled);
        assert_eq!(
            (status, code.as_str()),
            (403, "POLICY_DENY"),
            "{token} {profile}"
        );
    }
    assert!(service.issuer().requests().is_empty());
}

#[tokio::test]
async fn the_route_without_issuers_or_with_another_method() {
    let off = service(false);
    let (status, code, _) = error_of(
        &off.handle(exchange(Some("good"), r#"{"profile": "ci"}"#), now())
            .await,
    );
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));
    let on = service(true);
    let get = ApiRequest {
        method: "GET".into(),
        ..exchange(Some("good"), "")
    };
    let (status, code, _) = error_of(&on.handle(get, now()).await);
    assert_eq!(
        (status, code.as_str()),
        (403, "IAM_AUTH_REQUIRED"),
        "authentication comes before routing"
    );
    assert_eq!(
        bearer_token("Bearer abc.def.ghi").as_deref(),
        Some("abc.def.ghi")
    );
    assert_eq!(bearer_token("bearer  x ").as_deref(), Some("x"));
    assert_eq!(bearer_token("Basic x"), None);
    assert_eq!(bearer_token("Bearer"), None);
}
