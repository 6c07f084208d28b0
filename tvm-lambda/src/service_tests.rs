//! The handler's decision table with in-memory ports: every docs/api.md code that the
//! service itself decides, and what is (not) sent to STS and the session store.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use protocol::{ErrorBody, ErrorCode, ProfilesResponse, VendResponse};
use sessions::{InMemorySessionStore, SessionStore, Status};

use super::*;
use crate::fakes::{FakeIssuer, FakePolicySource};
use crate::grant::IssueError;
use revocation::InMemoryIam;

const ACCOUNT: &str = "111122223333";
const ALICE: &str = "arn:aws:iam::111122223333:user/eng/alice";

const DEV: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-dev
  default_duration: 15m
  max_duration: 2h
  session_tags: {team: payments}
rules:
  - name: no-bob
    effect: deny
    conditions:
      users: [bob]
    reason: bob is on leave
  - name: engineers
    effect: allow
    conditions:
      principals: ["arn:aws:iam::111122223333:user/eng/*"]
      source_ips: ["10.0.0.0/8"]
    max_duration: 1h
    reason: engineers from the office network
"#;

const INVALID: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-broken
rules:
  - name: typo
    effect: alow
"#;

type TestService = Service<FakePolicySource, FakeIssuer, InMemorySessionStore, InMemoryIam>;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn settings_with(vars: &[(&str, &str)]) -> Settings {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .unwrap()
}

fn service_with(vars: &[(&str, &str)]) -> TestService {
    let mut vars = vars.to_vec();
    vars.push(("SENTINEL_SESSION_TABLE", "sessions"));
    Service::new(
        settings_with(&vars),
        FakePolicySource::new([("dev", DEV), ("broken", INVALID)]),
        FakeIssuer::new(now()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    )
}

fn service() -> TestService {
    service_with(&[])
}

fn caller(arn: &str) -> IamCaller {
    IamCaller {
        user_arn: Some(arn.to_owned()),
        account_id: arn.split(':').nth(4).map(str::to_owned),
        principal_org_id: Some("o-abc1234567".to_owned()),
        user_id: Some("AIDAEXAMPLE".to_owned()),
        access_key: Some("AKIAEXAMPLE".to_owned()),
    }
}

fn get(query: &str) -> ApiRequest {
    ApiRequest {
        method: "GET".into(),
        path: "/".into(),
        query: Some(query.into()),
        caller: Some(caller(ALICE)),
        source_ip: Some("10.1.2.3".into()),
        user_agent: Some("test-agent".into()),
        request_id: "req-1".into(),
        tvm_account: Some(ACCOUNT.parse().unwrap()),
        ..ApiRequest::default()
    }
}

/// `POST /` with `body`, signed by alice like [`get`].
fn post(body: &[u8]) -> ApiRequest {
    ApiRequest {
        method: "POST".into(),
        query: None,
        body: body.to_vec(),
        ..get("")
    }
}

async fn call(service: &TestService, request: ApiRequest) -> Handled {
    service.handle(request, now()).await
}

fn error_of(handled: &Handled) -> (u16, ErrorBody) {
    let body: ErrorBody = serde_json::from_str(&handled.response.body).unwrap();
    (handled.response.status, body)
}

async fn expect_error(service: &TestService, request: ApiRequest, code: ErrorCode) -> Handled {
    let handled = call(service, request).await;
    let (status, body) = error_of(&handled);
    assert_eq!(body.code, code.as_str(), "{}", handled.response.body);
    assert_eq!(status, code.status());
    assert_eq!(body.request_id, "req-1");
    assert!(
        !handled.response.body.contains("fake-secret"),
        "no credentials in an error"
    );
    handled
}

#[tokio::test]
async fn allowed_vend_returns_credentials_and_records_the_session() {
    let service = service();
    let handled = call(&service, get("profile=dev")).await;
    assert_eq!(handled.response.status, 200, "{}", handled.response.body);
    let vended: VendResponse = serde_json::from_str(&handled.response.body).unwrap();
    assert_eq!(vended.source_identity, "sentinel=alice");
    assert_eq!(vended.profile, "dev");
    assert_eq!(
        vended.role_arn,
        "arn:aws:iam::111122223333:role/SentinelProtected-dev"
    );
    assert_eq!(vended.token, vended.session_token);
    assert_eq!(vended.expiration, now() + chrono::Duration::seconds(900));

    let sent = service.issuer().requests();
    assert_eq!(sent.len(), 1);
    let sent = &sent[0];
    assert_eq!(
        sent.session_name.session_id().as_ref(),
        Some(&vended.session_id)
    );
    assert_eq!(
        sent.duration_secs, 900,
        "default_duration applies when none is requested"
    );
    assert_eq!(
        sent.tags,
        vec![
            (
                "sentinel-session-id".to_owned(),
                vended.session_id.to_string()
            ),
            ("sentinel-user".to_owned(), "alice".to_owned()),
            ("sentinel-profile".to_owned(), "dev".to_owned()),
            ("team".to_owned(), "payments".to_owned()),
        ]
    );

    let row = service
        .store()
        .unwrap()
        .get(&vended.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status(), Status::Active);
    assert_eq!(row.user, "alice");
    assert_eq!(row.rule, "engineers");
    assert_eq!(row.access_key_id, vended.access_key_id);
    assert_eq!(row.principal_arn, ALICE);
    assert_eq!(row.account_id, ACCOUNT);
    assert_eq!(row.source_ip.as_deref(), Some("10.1.2.3"));
    assert_eq!(row.request_id, "req-1");
    assert_eq!(row.expires_at, vended.expiration);

    assert_eq!(handled.log.effect, crate::audit::Effect::Allow);
    assert_eq!(handled.log.rule.as_deref(), Some("engineers"));
    let line = handled.log.to_json_line();
    assert!(!line.contains(&vended.secret_access_key) && !line.contains(&vended.session_token));
}

#[tokio::test]
async fn post_body_vends_like_get() {
    let service = service();
    let handled = call(&service, post(br#"{"profile": "dev", "duration": 1800}"#)).await;
    assert_eq!(handled.response.status, 200, "{}", handled.response.body);
    assert_eq!(service.issuer().requests()[0].duration_secs, 1800);
}

#[tokio::test]
async fn granted_duration_is_the_minimum_of_every_cap() {
    // rule cap 1h, profile cap 2h, SENTINEL_MAX_DURATION 3000 s
    let service = service_with(&[("SENTINEL_MAX_DURATION", "3000")]);
    let handled = call(&service, get("profile=dev&duration=43200")).await;
    assert_eq!(handled.response.status, 200, "{}", handled.response.body);
    assert_eq!(service.issuer().requests()[0].duration_secs, 3000);

    let service = self::service();
    call(&service, get("profile=dev&duration=43200")).await;
    assert_eq!(
        service.issuer().requests()[0].duration_secs,
        3600,
        "rule max_duration 1h"
    );
}

#[tokio::test]
async fn policy_deny_names_the_rule_and_issues_nothing() {
    let service = service();
    let mut request = get("profile=dev");
    request.caller = Some(caller("arn:aws:iam::111122223333:user/bob"));
    let handled = expect_error(&service, request, ErrorCode::PolicyDeny).await;
    let (_, body) = error_of(&handled);
    assert!(body.message.contains("`no-bob`"), "{}", body.message);
    assert!(body.message.contains("bob is on leave"), "{}", body.message);
    assert!(service.issuer().requests().is_empty());
    assert_eq!(service.store().unwrap().len(), 0);
}

#[tokio::test]
async fn no_matching_rule_is_a_default_deny() {
    let service = service();
    let mut request = get("profile=dev");
    request.source_ip = Some("192.0.2.1".into());
    let handled = expect_error(&service, request, ErrorCode::PolicyDeny).await;
    assert!(error_of(&handled).1.message.contains("no rule matched"));
    assert!(service.issuer().requests().is_empty());
}

#[tokio::test]
async fn unsigned_request_needs_iam_auth() {
    let service = service();
    let mut request = get("profile=dev");
    request.caller = None;
    request.auth_failure = Some("signature does not match".into());
    let handled = expect_error(&service, request, ErrorCode::IamAuthRequired).await;
    assert_eq!(
        handled.log.detail.as_deref(),
        Some("signature does not match")
    );
    assert!(
        !handled.response.body.contains("signature does not match"),
        "detail stays in the log"
    );
}

#[tokio::test]
async fn root_and_unparsable_callers_are_invalid_identities() {
    let service = service();
    for arn in [
        "arn:aws:iam::111122223333:root",
        "not-an-arn",
        "arn:aws:s3:::bucket",
    ] {
        let mut request = get("profile=dev");
        request.caller = Some(caller(arn));
        expect_error(&service, request, ErrorCode::InvalidIdentity).await;
    }
}

#[tokio::test]
async fn a_context_without_its_account_is_refused() {
    let service = service();
    let mut request = get("profile=dev");
    let mut bare = caller(ALICE);
    bare.account_id = None;
    request.caller = Some(bare);
    expect_error(&service, request, ErrorCode::InvalidIdentity).await;
}

/// Two accounts' `alice` are never the same user: without allow-lists only the TVM's
/// own account is admitted, and an admitted foreign caller's user is `<account>:<user>`.
#[tokio::test]
async fn foreign_accounts_are_refused_by_default_and_qualified_when_admitted() {
    const FOREIGN_ALICE: &str = "arn:aws:iam::999999999999:user/eng/alice";
    let mut request = get("profile=dev");
    request.caller = Some(caller(FOREIGN_ALICE));
    expect_error(&service(), request.clone(), ErrorCode::AccountNotAllowed).await;
    let mut china = get("profile=dev");
    china.caller = Some(caller("arn:aws-cn:iam::999999999999:user/alice"));
    expect_error(&service(), china, ErrorCode::AccountNotAllowed).await;

    let open = service_with(&[("SENTINEL_ALLOWED_ACCOUNTS", "*")]);
    let handled = call(&open, request).await;
    assert_eq!(handled.log.user.as_deref(), Some("999999999999:alice"));
    let handled = call(&open, get("profile=dev")).await;
    assert_eq!(
        handled.log.user.as_deref(),
        Some("alice"),
        "home users stay bare"
    );
}

#[tokio::test]
async fn without_its_own_account_the_tvm_fails_closed() {
    let mut request = get("profile=dev");
    request.tvm_account = None;
    expect_error(&service(), request, ErrorCode::ConfigError).await;
}

#[tokio::test]
async fn account_in_context_must_match_the_arn() {
    let service = service();
    let mut request = get("profile=dev");
    let mut forged = caller(ALICE);
    forged.account_id = Some("999999999999".into());
    request.caller = Some(forged);
    expect_error(&service, request, ErrorCode::InvalidIdentity).await;
}

#[tokio::test]
async fn accounts_and_orgs_outside_the_allow_lists_are_refused_before_the_policy() {
    let service = service_with(&[("SENTINEL_ALLOWED_ACCOUNTS", "444455556666")]);
    expect_error(&service, get("profile=dev"), ErrorCode::AccountNotAllowed).await;
    assert_eq!(
        service.policy_source().fetches(),
        0,
        "no policy read for a refused account"
    );

    let service = service_with(&[("SENTINEL_ALLOWED_ORG_IDS", "o-other12345")]);
    expect_error(&service, get("profile=dev"), ErrorCode::AccountNotAllowed).await;

    let service = service_with(&[
        ("SENTINEL_ALLOWED_ACCOUNTS", "444455556666,111122223333"),
        ("SENTINEL_ALLOWED_ORG_IDS", "o-abc1234567"),
    ]);
    assert_eq!(
        call(&service, get("profile=dev")).await.response.status,
        200
    );
}

#[tokio::test]
async fn bad_input_gets_its_own_code() {
    let service = service();
    expect_error(&service, get(""), ErrorCode::MissingProfile).await;
    expect_error(&service, get("profile="), ErrorCode::MissingProfile).await;
    expect_error(&service, get("profile=../etc"), ErrorCode::InvalidProfile).await;
    expect_error(
        &service,
        get("profile=dev&duration=60"),
        ErrorCode::InvalidDuration,
    )
    .await;
    expect_error(
        &service,
        get("profile=dev&duration=abc"),
        ErrorCode::InvalidDuration,
    )
    .await;
    expect_error(
        &service,
        get("profile=dev&duration=50000"),
        ErrorCode::InvalidDuration,
    )
    .await;
    expect_error(
        &service,
        get("profile=dev&role=admin"),
        ErrorCode::InvalidRequest,
    )
    .await;
    expect_error(
        &service,
        get("profile=dev&profile=prod"),
        ErrorCode::InvalidRequest,
    )
    .await;

    for (body, code) in [
        (&b"{not json"[..], ErrorCode::InvalidRequest),
        (br#"{"profile":"dev","extra":1}"#, ErrorCode::InvalidRequest),
        (
            br#"{"profile":"dev","duration":-1}"#,
            ErrorCode::InvalidDuration,
        ),
        (b"", ErrorCode::MissingProfile),
        (b"{}", ErrorCode::MissingProfile),
        (br#"{"profile":null}"#, ErrorCode::MissingProfile),
        (
            br#"{"profile":"","duration":900}"#,
            ErrorCode::MissingProfile,
        ),
        (br#"{"profile":7}"#, ErrorCode::InvalidProfile),
        (br#"["dev"]"#, ErrorCode::InvalidRequest),
        (
            br#"{"profile":"dev","duration":900.5}"#,
            ErrorCode::InvalidDuration,
        ),
        (
            br#"{"profile":"dev","duration":1e3}"#,
            ErrorCode::InvalidDuration,
        ),
        (
            br#"{"profile":"dev","duration":"900"}"#,
            ErrorCode::InvalidDuration,
        ),
        (
            br#"{"profile":"dev","duration":99999999999999999999}"#,
            ErrorCode::InvalidDuration,
        ),
    ] {
        expect_error(&service, post(body), code).await;
    }
    expect_error(
        &service,
        post(&vec![b' '; MAX_BODY_BYTES + 1]),
        ErrorCode::InvalidRequest,
    )
    .await;
    assert!(service.issuer().requests().is_empty());
}

#[tokio::test]
async fn unknown_profile_and_path_and_method() {
    let service = service();
    expect_error(&service, get("profile=nope"), ErrorCode::ProfileNotFound).await;
    let mut request = get("profile=dev");
    request.path = "/admin".into();
    expect_error(&service, request, ErrorCode::NotFound).await;
    let mut request = get("profile=dev");
    request.method = "DELETE".into();
    expect_error(&service, request, ErrorCode::MethodNotAllowed).await;

    // Unsigned requests learn nothing about routes: 403 before 404 or 405.
    for (method, path) in [("GET", "/admin"), ("DELETE", "/"), ("GET", "/profiles")] {
        let mut request = get("profile=dev");
        request.caller = None;
        request.method = method.into();
        request.path = path.into();
        expect_error(&service, request, ErrorCode::IamAuthRequired).await;
    }
}

#[tokio::test]
async fn sigv4_query_parameters_are_not_vend_parameters() {
    let service = service();
    let handled = call(
        &service,
        get("profile=dev&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"),
    )
    .await;
    assert_eq!(handled.response.status, 200, "{}", handled.response.body);
}

#[tokio::test]
async fn invalid_policy_fails_closed_for_that_profile_only() {
    let service = service();
    let handled = expect_error(&service, get("profile=broken"), ErrorCode::PolicyError).await;
    let detail = handled.log.detail.clone().unwrap_or_default();
    assert!(detail.contains("/sentinel/policies/broken"), "{detail}");
    assert!(
        !handled.response.body.contains("alow"),
        "policy internals stay in the log"
    );
    assert_eq!(
        call(&service, get("profile=dev")).await.response.status,
        200
    );
}

#[tokio::test]
async fn policy_source_failures_fail_closed_and_are_not_cached() {
    let service = service();
    service
        .policy_source()
        .fail_with(Some(SourceError::Unavailable("connection refused".into())));
    expect_error(&service, get("profile=dev"), ErrorCode::PolicyError).await;
    service
        .policy_source()
        .fail_with(Some(SourceError::AccessDenied("not authorized".into())));
    expect_error(&service, get("profile=dev"), ErrorCode::ConfigError).await;
    service.policy_source().fail_with(None);
    assert_eq!(
        call(&service, get("profile=dev")).await.response.status,
        200
    );
}

#[tokio::test]
async fn sts_failure_is_a_credential_error() {
    let service = service();
    service.issuer().fail_with(Some(IssueError(
        "AccessDenied: not authorized to perform sts:AssumeRole".into(),
    )));
    let handled = expect_error(&service, get("profile=dev"), ErrorCode::CredentialError).await;
    assert!(
        !handled.response.body.contains("AccessDenied"),
        "SDK text stays in the log"
    );
    assert_eq!(service.store().unwrap().len(), 0);
}

#[tokio::test]
async fn session_store_outage_returns_no_credentials() {
    let service = service();
    service.store().unwrap().set_unavailable(true);
    let handled = expect_error(&service, get("profile=dev"), ErrorCode::SessionStoreError).await;
    assert!(!handled.response.body.contains("ASIA"));
    assert_eq!(
        service.issuer().requests().len(),
        1,
        "STS was called, but its credentials are dropped"
    );
}

#[tokio::test]
async fn without_a_session_table_nothing_is_recorded() {
    let service: TestService = Service::new(
        settings_with(&[]),
        FakePolicySource::new([("dev", DEV)]),
        FakeIssuer::new(now()),
        None,
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    );
    assert_eq!(
        call(&service, get("profile=dev")).await.response.status,
        200
    );
}

#[tokio::test]
async fn profiles_lists_valid_names_under_the_root() {
    let service = service_with(&[("SENTINEL_POLICY_ROOT", "/org/sentinel")]);
    service.policy_source().put("bad name", DEV);
    let mut request = get("");
    request.path = "/profiles".into();
    request.query = None;
    let handled = call(&service, request).await;
    assert_eq!(handled.response.status, 200, "{}", handled.response.body);
    let body: ProfilesResponse = serde_json::from_str(&handled.response.body).unwrap();
    assert_eq!(body.root, "/org/sentinel");
    let names: Vec<_> = body
        .profiles
        .iter()
        .map(|p| (p.name.as_str(), p.policy_path.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("broken", "/org/sentinel/broken"),
            ("dev", "/org/sentinel/dev")
        ]
    );
    assert!(!handled.metered, "only vends are metered");
}

#[tokio::test]
async fn concurrent_vends_get_distinct_sessions() {
    let service = Arc::new(service());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let service = Arc::clone(&service);
        tasks.spawn(async move { call(&service, get("profile=dev")).await });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(handled) = tasks.join_next().await {
        let handled = handled.unwrap();
        let vended: VendResponse = serde_json::from_str(&handled.response.body).unwrap();
        ids.insert(vended.session_id);
    }
    assert_eq!(ids.len(), 50);
    assert_eq!(service.store().unwrap().len(), 50);
    assert_eq!(
        service.policy_source().fetches(),
        1,
        "the policy cache is single-flight"
    );
}

/// docs/api.md: input is strict on both methods. A query on `POST /` could name another
/// profile than the body (`POST /?profile=x` with a body for `dev` vended `dev`), and a
/// duplicate JSON key was silently resolved (the last one won).
#[tokio::test]
async fn post_refuses_a_query_and_duplicate_keys() {
    let service = service();
    let mut with_query = post(br#"{"profile": "dev"}"#);
    with_query.query = Some("profile=prod".into());
    expect_error(&service, with_query, ErrorCode::InvalidRequest).await;
    let mut empty_value = post(br#"{"profile": "dev"}"#);
    empty_value.query = Some("duration=".into());
    expect_error(&service, empty_value, ErrorCode::InvalidRequest).await;
    for body in [
        &br#"{"profile": "dev", "profile": "prod"}"#[..],
        br#"{"profile": "dev", "duration": 900, "duration": 3600}"#,
    ] {
        expect_error(&service, post(body), ErrorCode::InvalidRequest).await;
    }
    assert_eq!(service.issuer().requests().len(), 0, "nothing reached STS");
    let mut signed = post(br#"{"profile": "dev"}"#);
    signed.query = Some("X-Amz-Date=20261123T100000Z".into());
    assert_eq!(call(&service, signed).await.response.status, 200);
}

#[tokio::test]
async fn metrics_carry_the_stack_name() {
    let service = service_with(&[("SENTINEL_STACK_NAME", "sentinel-prod")]);
    let handled = call(&service, get("profile=dev")).await;
    let emf: serde_json::Value = serde_json::from_str(&handled.log_lines()[1]).unwrap();
    assert_eq!(emf["Stack"], "sentinel-prod");
    let default = call(&service_with(&[]), get("profile=dev")).await;
    let emf: serde_json::Value = serde_json::from_str(&default.log_lines()[1]).unwrap();
    assert_eq!(emf["Stack"], crate::audit::DEFAULT_STACK);
}
