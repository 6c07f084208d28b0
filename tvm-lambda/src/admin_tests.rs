//! The admin routes with in-memory ports: who may do what (the admin policy), strict
//! input, and what a revoke changes in the table and on the protected role.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use protocol::{ErrorBody, ErrorCode};
use revocation::InMemoryIam;
use serde_json::Value;
use sessions::{InMemorySessionStore, SessionRecord, SessionStore, Status};

use crate::fakes::{FakeIssuer, FakePolicySource};
use crate::service::{ApiRequest, Handled, IamCaller, Service};
use crate::settings::Settings;

type TestService = Service<FakePolicySource, FakeIssuer, InMemorySessionStore, InMemoryIam>;

const ACCOUNT: &str = "111122223333";
const ADMIN: &str = "arn:aws:sts::111122223333:assumed-role/SecurityAdmin/jane";
const LEAD: &str = "arn:aws:iam::111122223333:user/bob";
const ENGINEER: &str = "arn:aws:iam::111122223333:user/eng/alice";
const ROLE: &str = "SentinelProtected-prod";

const ADMIN_POLICY: &str = r#"version: "1"
rules:
  - name: security-team
    effect: allow
    conditions:
      principals: ["arn:aws:sts::111122223333:assumed-role/SecurityAdmin/*"]
      actions: ["sessions:*"]
  - name: no-engineers
    effect: deny
    conditions:
      principals: ["arn:aws:iam::111122223333:user/eng/*"]
      actions: ["*"]
    reason: engineers do not administer sessions
  - name: leads-their-profiles
    effect: allow
    conditions:
      users: [bob]
      actions: [sessions:list, sessions:show, sessions:revoke]
      profiles: [staging]
"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn service_with(admin_policy: Option<&str>) -> TestService {
    let settings = Settings::from_lookup(|name| {
        (name == "SENTINEL_SESSION_TABLE").then(|| "sessions".to_owned())
    })
    .unwrap();
    let policies = FakePolicySource::new([]);
    if let Some(yaml) = admin_policy {
        policies.put("_admin", yaml);
    }
    Service::new(
        settings,
        policies,
        FakeIssuer::new(now()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    )
}

fn service() -> TestService {
    service_with(Some(ADMIN_POLICY))
}

fn store(service: &TestService) -> &InMemorySessionStore {
    service.store().unwrap()
}

/// An active session `n` of `user` for `profile`, issued `n` minutes before `now()`.
fn session(service: &TestService, n: u32, user: &str, profile: &str) -> SessionRecord {
    let mut record = sessions::contract::record(n, user, profile);
    record.issued_at = now() - TimeDelta::minutes(i64::from(n));
    record.expires_at = now() + TimeDelta::hours(1);
    store(service).insert(record.clone());
    record
}

fn request(by: &str, method: &str, path: &str, query: &str, body: &str) -> ApiRequest {
    ApiRequest {
        method: method.into(),
        path: path.into(),
        query: Some(query.into()),
        body: body.as_bytes().to_vec(),
        caller: Some(IamCaller {
            user_arn: Some(by.to_owned()),
            account_id: Some(ACCOUNT.to_owned()),
            ..IamCaller::default()
        }),
        request_id: "req-1".into(),
        tvm_account: Some(ACCOUNT.parse().unwrap()),
        ..ApiRequest::default()
    }
}

async fn call(service: &TestService, request: ApiRequest) -> Handled {
    service.handle(request, now()).await
}

async fn ok(service: &TestService, request: ApiRequest) -> (Value, Handled) {
    let handled = call(service, request).await;
    assert_eq!(handled.response.status, 200, "{}", handled.response.body);
    (
        serde_json::from_str(&handled.response.body).unwrap(),
        handled,
    )
}

async fn refused(service: &TestService, request: ApiRequest, code: ErrorCode) -> ErrorBody {
    let handled = call(service, request).await;
    let body: ErrorBody = serde_json::from_str(&handled.response.body).unwrap();
    assert_eq!(body.code, code.as_str(), "{}", handled.response.body);
    assert_eq!(handled.response.status, code.status());
    body
}

fn denied_ids(service: &TestService) -> Vec<String> {
    let text = service
        .roles()
        .policy(ACCOUNT, ROLE, revocation::POLICY_NAME)
        .unwrap_or_default();
    revocation::document::ExistingDeny::parse(&text)
        .ids
        .into_iter()
        .collect()
}

async fn status_of(service: &TestService, record: &SessionRecord) -> Status {
    store(service)
        .get(&record.session_id)
        .await
        .unwrap()
        .unwrap()
        .status()
}

#[tokio::test]
async fn an_admin_allowed_by_the_policy_revokes_in_both_layers() {
    let service = service();
    let target = session(&service, 1, "alice", "prod");
    let path = format!("/sessions/{}/revoke", target.session_id);
    let (body, handled) = ok(
        &service,
        request(ADMIN, "POST", &path, "", r#"{"reason": "laptop lost"}"#),
    )
    .await;
    let row = &body["revoked"][0];
    assert_eq!(row["session_id"], target.session_id.as_str());
    assert_eq!(row["status"], "revoked");
    assert_eq!(row["revoked_by"], ADMIN);
    assert_eq!(row["revoked_reason"], "laptop lost");
    assert_eq!(row["aws_deny"], "applied");
    let role = target.role_arn.to_string();
    assert_eq!(body["aws_deny"][&role]["state"], "applied", "{body}");
    assert_eq!(denied_ids(&service), vec![target.session_id.to_string()]);
    assert_eq!(status_of(&service, &target).await, Status::Revoked);

    let line: Value = serde_json::from_str(&handled.log.to_json_line()).unwrap();
    assert_eq!(line["action"], "sessions:revoke");
    assert_eq!(line["target"], target.session_id.as_str());
    assert_eq!(line["rule"], "security-team");
    assert_eq!(line["effect"], "allow");

    // Again: idempotent, and said so.
    let (again, _) = ok(
        &service,
        request(ADMIN, "POST", &path, "", r#"{"reason": "again"}"#),
    )
    .await;
    assert_eq!(again["already_revoked"][0], target.session_id.as_str());
    assert_eq!(again["revoked"][0]["revoked_reason"], "laptop lost");
}

#[tokio::test]
async fn a_caller_the_policy_does_not_allow_gets_admin_deny_and_nothing_changes() {
    let service = service();
    let target = session(&service, 1, "alice", "prod");
    let path = format!("/sessions/{}/revoke", target.session_id);
    let body = refused(
        &service,
        request(ENGINEER, "POST", &path, "", r#"{"reason": "x"}"#),
        ErrorCode::AdminDeny,
    )
    .await;
    assert!(body.message.contains("`no-engineers`"), "{}", body.message);
    assert_eq!(status_of(&service, &target).await, Status::Active);
    assert!(denied_ids(&service).is_empty());

    // A lead of `staging` may not touch a `prod` session: no rule matches.
    let body = refused(
        &service,
        request(LEAD, "POST", &path, "", r#"{"reason": "x"}"#),
        ErrorCode::AdminDeny,
    )
    .await;
    assert!(body.message.contains("default deny"), "{}", body.message);
    assert_eq!(status_of(&service, &target).await, Status::Active);
}

#[tokio::test]
async fn without_an_admin_policy_every_admin_route_is_denied() {
    let service = service_with(None);
    let target = session(&service, 1, "alice", "prod");
    let id = target.session_id.to_string();
    for (method, path, body) in [
        ("GET", "/sessions".to_owned(), ""),
        ("GET", format!("/sessions/{id}"), ""),
        (
            "POST",
            format!("/sessions/{id}/revoke"),
            r#"{"reason":"x"}"#,
        ),
        (
            "POST",
            "/sessions/revoke".to_owned(),
            r#"{"user":"alice","reason":"x"}"#,
        ),
        ("POST", "/sessions/reconcile".to_owned(), ""),
    ] {
        refused(
            &service,
            request(ADMIN, method, &path, "", body),
            ErrorCode::AdminDeny,
        )
        .await;
    }
    assert_eq!(status_of(&service, &target).await, Status::Active);
}

#[tokio::test]
async fn an_invalid_admin_policy_is_a_policy_error() {
    let service = service_with(Some(
        "version: \"1\"\nrules:\n  - name: x\n    effect: alow\n",
    ));
    refused(
        &service,
        request(ADMIN, "GET", "/sessions", "", ""),
        ErrorCode::PolicyError,
    )
    .await;
}

#[tokio::test]
async fn admin_input_is_strict() {
    let service = service();
    let target = session(&service, 1, "alice", "prod");
    let revoke = format!("/sessions/{}/revoke", target.session_id);
    for bad in [
        request(ADMIN, "GET", "/sessions", "usr=alice", ""),
        request(ADMIN, "GET", "/sessions", "user=a&user=b", ""),
        request(ADMIN, "GET", "/sessions", "limit=0", ""),
        request(ADMIN, "GET", "/sessions", "status=gone", ""),
        request(ADMIN, "GET", "/sessions", "next=zz", ""),
        request(ADMIN, "GET", "/sessions/not-an-id", "", ""),
        request(ADMIN, "POST", &revoke, "", r#"{"reason":"x","force":true}"#),
        request(ADMIN, "POST", &revoke, "", r#"{}"#),
        request(ADMIN, "POST", &revoke, "reason=x", r#"{"reason":"x"}"#),
        request(
            ADMIN,
            "POST",
            "/sessions/revoke",
            "",
            r#"{"user":"a","profile":"prod","reason":"x"}"#,
        ),
        request(ADMIN, "POST", "/sessions/reconcile", "", r#"{"all":true}"#),
    ] {
        refused(&service, bad, ErrorCode::InvalidRequest).await;
    }
    assert_eq!(status_of(&service, &target).await, Status::Active);
    refused(
        &service,
        request(ADMIN, "GET", &format!("/sessions/{:032x}", 99), "", ""),
        ErrorCode::NotFound,
    )
    .await;
    for (method, path) in [
        ("GET", "/sessions/revoke"),
        ("DELETE", "/sessions"),
        ("GET", &revoke),
    ] {
        refused(
            &service,
            request(ADMIN, method, path, "", ""),
            ErrorCode::MethodNotAllowed,
        )
        .await;
    }
}

#[tokio::test]
async fn an_unknown_id_does_not_tell_a_profile_scoped_admin_it_is_unknown() {
    let service = service();
    refused(
        &service,
        request(LEAD, "GET", &format!("/sessions/{:032x}", 99), "", ""),
        ErrorCode::AdminDeny,
    )
    .await;
}

#[tokio::test]
async fn lists_are_newest_first_paginated_and_authorized_per_profile() {
    let service = service();
    let older = session(&service, 3, "carol", "staging");
    let newer = session(&service, 1, "carol", "staging");
    session(&service, 2, "alice", "prod");

    let (first, handled) = ok(
        &service,
        request(LEAD, "GET", "/sessions", "profile=staging&limit=1", ""),
    )
    .await;
    assert_eq!(
        first["sessions"][0]["session_id"],
        newer.session_id.as_str()
    );
    assert_eq!(handled.log.target.as_deref(), Some("profile=staging"));
    let next = first["next"].as_str().unwrap();
    let (second, _) = ok(
        &service,
        request(
            LEAD,
            "GET",
            "/sessions",
            &format!("profile=staging&limit=1&next={next}"),
            "",
        ),
    )
    .await;
    assert_eq!(
        second["sessions"][0]["session_id"],
        older.session_id.as_str()
    );

    // Without a profile filter the request is about every profile: the lead's rule
    // (which names profiles) does not match.
    refused(
        &service,
        request(LEAD, "GET", "/sessions", "", ""),
        ErrorCode::AdminDeny,
    )
    .await;
    let (all, _) = ok(&service, request(ADMIN, "GET", "/sessions", "", "")).await;
    let issued: Vec<&str> = all["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["issued_at"].as_str().unwrap())
        .collect();
    assert_eq!(issued.len(), 3);
    assert!(issued.windows(2).all(|w| w[0] >= w[1]), "{issued:?}");
    assert!(all["next"].is_null());
}

#[tokio::test]
async fn a_bulk_revoke_revokes_every_active_session_of_the_user() {
    let service = service();
    let a = session(&service, 1, "alice", "prod");
    let b = session(&service, 2, "alice", "staging");
    let other = session(&service, 3, "carol", "prod");
    let (body, handled) = ok(
        &service,
        request(
            ADMIN,
            "POST",
            "/sessions/revoke",
            "",
            r#"{"user":"alice","reason":"left"}"#,
        ),
    )
    .await;
    assert_eq!(body["revoked"].as_array().unwrap().len(), 2);
    assert_eq!(
        handled.log.target.as_deref(),
        Some("user=alice,status=active")
    );
    assert_eq!(status_of(&service, &a).await, Status::Revoked);
    assert_eq!(status_of(&service, &b).await, Status::Revoked);
    assert_eq!(status_of(&service, &other).await, Status::Active);
    let mut ids = vec![a.session_id.to_string(), b.session_id.to_string()];
    ids.sort();
    assert_eq!(denied_ids(&service), ids);
    assert_eq!(
        body["aws_deny"][a.role_arn.as_str()]["state"],
        "applied",
        "{body}"
    );
}

#[tokio::test]
async fn an_unavailable_layer_2_is_pending_with_its_reason_and_reconcile_applies_it() {
    let service = service();
    let target = session(&service, 1, "alice", "prod");
    service
        .roles()
        .fail_with(Some(revocation::IamError::unavailable(
            "iam PutRolePolicy failed: throttled",
        )));
    let path = format!("/sessions/{}/revoke", target.session_id);
    let (body, _) = ok(
        &service,
        request(ADMIN, "POST", &path, "", r#"{"reason":"x"}"#),
    )
    .await;
    let role = target.role_arn.to_string();
    assert_eq!(body["aws_deny"][&role]["state"], "pending");
    assert!(
        body["aws_deny"][&role]["reason"]
            .as_str()
            .unwrap()
            .contains("throttled")
    );
    assert_eq!(body["revoked"][0]["aws_deny"], "pending");

    service.roles().fail_with(None);
    refused(
        &service,
        request(LEAD, "POST", "/sessions/reconcile", "", ""),
        ErrorCode::AdminDeny,
    )
    .await;
    let (body, _) = ok(
        &service,
        request(ADMIN, "POST", "/sessions/reconcile", "", ""),
    )
    .await;
    assert_eq!(body["aws_deny"][&role]["state"], "applied", "{body}");
    assert_eq!(denied_ids(&service), vec![target.session_id.to_string()]);
    let (shown, _) = ok(
        &service,
        request(
            ADMIN,
            "GET",
            &format!("/sessions/{}", target.session_id),
            "",
            "",
        ),
    )
    .await;
    assert_eq!(shown["aws_deny"], "applied");
}
