//! Approvals and break-glass with in-memory ports (docs/approvals.md): the rules of
//! SPEC §9 as the handler applies them. The same journeys run against moto and DynamoDB
//! Local in the system tests.

use approvals::{InMemoryApprovalStore, InMemoryBreakGlassStore, RequestStatus, ReviewStatus};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use protocol::{ErrorBody, ErrorCode, VendResponse};
use revocation::InMemoryIam;
use serde_json::{Value, json};
use sessions::{InMemorySessionStore, SessionStore, Status};

use crate::fakes::{FakeIssuer, FakePolicySource};
use crate::gates::Gates;
use crate::notify::{NoticeKind, Notifier, RecordingChannel};
use crate::service::{ApiRequest, Handled, IamCaller, Service};
use crate::settings::Settings;

type TestService = Service<FakePolicySource, FakeIssuer, InMemorySessionStore, InMemoryIam>;

const ACCOUNT: &str = "111122223333";
const CAROL: &str = "arn:aws:iam::111122223333:user/carol";
/// carol again, through IAM Identity Center: the same derived user.
const CAROL_SSO: &str =
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Leads_0123abcd/carol";
const LEAD_DAVE: &str = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Leads_0123abcd/dave";
const LEAD_ERIN: &str = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Leads_0123abcd/erin";
const MALLORY: &str = "arn:aws:iam::111122223333:user/mallory";
const ONCALL: &str = "arn:aws:iam::111122223333:user/oncall-dan";
const SECURITY: &str = "arn:aws:sts::111122223333:assumed-role/Security/jane";

const PROD: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-prod
  max_duration: 2h
rules:
  - name: prod-changes
    effect: require_approval
    conditions: {users: [carol, mallory]}
    approval:
      approvers: [{principals: ["arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Leads_*"]}]
      required: 1
      reason: {min_length: 10, pattern: "^CHG-[0-9]+"}
      max_duration: 1h
      request_ttl: 2h
  - name: emergency
    effect: break_glass
    conditions: {users: ["oncall-*"]}
    max_duration: 30m
    break_glass: {cooldown: 4h, reason: {min_length: 5}}
  - name: leads
    effect: allow
    conditions: {users: [erin]}
"#;

const ADMIN: &str = r#"version: "1"
rules:
  - name: security
    effect: allow
    conditions:
      principals: ["arn:aws:sts::111122223333:assumed-role/Security/*"]
      actions: ["sessions:*", "breakglass:review"]
  - name: prod-reviewers
    effect: allow
    conditions:
      principals: ["arn:aws:sts::111122223333:assumed-role/ProdReviewer/*"]
      actions: ["breakglass:review"]
      profiles: [prod]
"#;

struct World {
    service: TestService,
    approvals: InMemoryApprovalStore,
    breakglass: InMemoryBreakGlassStore,
    notices: RecordingChannel,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn world() -> World {
    world_with(&[])
}

/// A world whose settings also hold `extra` (name, value) pairs.
fn world_with(extra: &[(&str, &str)]) -> World {
    let settings = Settings::from_lookup(|name| match name {
        "SENTINEL_SESSION_TABLE" => Some("sessions".to_owned()),
        "SENTINEL_APPROVAL_TABLE" => Some("approvals".to_owned()),
        "SENTINEL_BREAKGLASS_TABLE" => Some("breakglass".to_owned()),
        _ => extra
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned()),
    })
    .unwrap();
    let approvals = InMemoryApprovalStore::new();
    let breakglass = InMemoryBreakGlassStore::new();
    let notices = RecordingChannel::default();
    let service = Service::new(
        settings,
        FakePolicySource::new([("prod", PROD), ("_admin", ADMIN)]),
        FakeIssuer::new(t0()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    )
    .with_gates(Gates::new(
        approvals.clone(),
        breakglass.clone(),
        Notifier::none().with_channel(notices.clone()),
    ));
    World {
        service,
        approvals,
        breakglass,
        notices,
    }
}

fn signed(arn: &str, method: &str, path: &str, body: Value) -> ApiRequest {
    ApiRequest {
        method: method.into(),
        path: path.into(),
        query: None,
        body: if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        },
        caller: Some(IamCaller {
            user_arn: Some(arn.to_owned()),
            // The account AWS verified is the ARN's own.
            account_id: arn.split(':').nth(4).map(str::to_owned),
            principal_org_id: None,
            user_id: Some("AIDAEXAMPLE".to_owned()),
            access_key: Some("AKIAEXAMPLE".to_owned()),
        }),
        source_ip: Some("10.1.2.3".into()),
        request_id: "req-1".into(),
        tvm_account: Some(ACCOUNT.parse().unwrap()),
        ..ApiRequest::default()
    }
}

impl World {
    async fn call(
        &self,
        arn: &str,
        method: &str,
        path: &str,
        body: Value,
        at: DateTime<Utc>,
    ) -> Handled {
        self.service
            .handle(signed(arn, method, path, body), at)
            .await
    }

    async fn vend(&self, arn: &str, at: DateTime<Utc>) -> Handled {
        let mut request = signed(arn, "GET", "/", Value::Null);
        request.query = Some("profile=prod".into());
        self.service.handle(request, at).await
    }

    async fn ask(&self, arn: &str, at: DateTime<Utc>) -> String {
        let asked = self
            .call(
                arn,
                "POST",
                "/requests",
                json!({"profile": "prod", "reason": "CHG-1234 rotate keys"}),
                at,
            )
            .await;
        assert_eq!(asked.response.status, 201, "{}", asked.response.body);
        body(&asked)["request_id"].as_str().unwrap().to_owned()
    }

    async fn approve(&self, arn: &str, id: &str, at: DateTime<Utc>) -> Handled {
        self.call(
            arn,
            "POST",
            &format!("/requests/{id}/approve"),
            json!({"comment": "ok"}),
            at,
        )
        .await
    }

    fn kinds(&self) -> Vec<NoticeKind> {
        self.notices.notices().iter().map(|n| n.kind).collect()
    }
}

fn body(handled: &Handled) -> Value {
    serde_json::from_str(&handled.response.body).unwrap()
}

fn code(handled: &Handled) -> ErrorCode {
    let error: ErrorBody = serde_json::from_str(&handled.response.body)
        .unwrap_or_else(|e| panic!("{e}: {}", handled.response.body));
    error.known_code().unwrap()
}

#[tokio::test]
async fn request_approval_by_a_lead_vend_then_the_window_ends() {
    let w = world();
    let refused = w.vend(CAROL, t0()).await;
    assert_eq!(code(&refused), ErrorCode::ApprovalRequired);
    assert!(
        body(&refused)["Message"]
            .as_str()
            .unwrap()
            .contains("sentinel request --profile prod --reason"),
        "{}",
        refused.response.body
    );

    let id = w.ask(CAROL, t0()).await;
    assert_eq!(w.approvals.requests()[0].status, RequestStatus::Pending);
    assert_eq!(
        code(&w.vend(CAROL, t0()).await),
        ErrorCode::ApprovalRequired
    );

    let approved = w
        .approve(LEAD_DAVE, &id, t0() + TimeDelta::minutes(10))
        .await;
    assert_eq!(approved.response.status, 200, "{}", approved.response.body);
    let approved = body(&approved);
    assert_eq!(approved["status"], "approved");
    // An Identity Center role's user is its session name.
    assert_eq!(approved["approvals"][0]["approver"], "dave");
    // The window starts at approval: 10:10 + 1h.
    assert_eq!(approved["approved_until"], "2026-11-23T11:10:00Z");

    let at = t0() + TimeDelta::minutes(20);
    let vended = w.vend(CAROL, at).await;
    assert_eq!(vended.response.status, 200, "{}", vended.response.body);
    let vended: VendResponse = serde_json::from_str(&vended.response.body).unwrap();
    let issued = w.service.issuer().requests();
    let tags = &issued.last().unwrap().tags;
    assert!(
        tags.contains(&("sentinel-approval-id".to_owned(), id.clone())),
        "{tags:?}"
    );
    // What is left of the window (50 minutes), not the hour approved.
    assert_eq!(issued.last().unwrap().duration_secs, 3000);
    let row = w
        .service
        .store()
        .unwrap()
        .get(&vended.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.approval_id.as_deref(), Some(id.as_str()));
    assert_eq!(row.rule, "prod-changes");

    // carol's other principal holds the same approval: the user is bound, not the ARN.
    assert_eq!(w.vend(CAROL_SSO, at).await.response.status, 200);
    // mallory matches the rule but holds no approval.
    assert_eq!(
        code(&w.vend(MALLORY, at).await),
        ErrorCode::ApprovalRequired
    );
    // The window is over at 11:10.
    let late = w.vend(CAROL, t0() + TimeDelta::minutes(70)).await;
    assert_eq!(code(&late), ErrorCode::ApprovalRequired);
    assert_eq!(
        w.kinds(),
        [NoticeKind::RequestCreated, NoticeKind::RequestApproved]
    );
}

#[tokio::test]
async fn the_requester_never_approves_not_even_through_another_principal() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    // CAROL_SSO matches the approver group, but it is carol.
    let own = w.approve(CAROL_SSO, &id, t0()).await;
    assert_eq!(code(&own), ErrorCode::ApprovalDeny);
    let stranger = w.approve(MALLORY, &id, t0()).await;
    assert_eq!(code(&stranger), ErrorCode::ApprovalDeny);
    assert!(w.approvals.requests()[0].approvals.is_empty());
    assert_eq!(
        code(&w.vend(CAROL, t0()).await),
        ErrorCode::ApprovalRequired
    );
}

#[tokio::test]
async fn two_approvers_at_once_on_required_one_record_one_approval() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    let (a, b) = tokio::join!(
        w.approve(LEAD_DAVE, &id, t0()),
        w.approve(LEAD_ERIN, &id, t0())
    );
    let mut statuses = [a.response.status, b.response.status];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 409],
        "{} {}",
        a.response.body,
        b.response.body
    );
    let stored = &w.approvals.requests()[0];
    assert_eq!(stored.approvals.len(), 1);
    assert_eq!(stored.status, RequestStatus::Approved);
}

#[tokio::test]
async fn late_denied_and_repeated_answers_are_conflicts() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    // request_ttl is 2h.
    let late = w.approve(LEAD_DAVE, &id, t0() + TimeDelta::hours(2)).await;
    assert_eq!(code(&late), ErrorCode::RequestConflict);

    let id = w.ask(MALLORY, t0()).await;
    let denied = w
        .call(
            LEAD_DAVE,
            "POST",
            &format!("/requests/{id}/deny"),
            json!({"reason": "not now"}),
            t0(),
        )
        .await;
    assert_eq!(body(&denied)["status"], "denied");
    assert_eq!(
        code(&w.approve(LEAD_ERIN, &id, t0()).await),
        ErrorCode::RequestConflict
    );
    assert_eq!(
        code(&w.vend(MALLORY, t0()).await),
        ErrorCode::ApprovalRequired
    );
    // One open request per requester and profile: carol's first is still pending at t0.
    let again = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "CHG-1234 again"}),
            t0(),
        )
        .await;
    assert_eq!(code(&again), ErrorCode::RequestConflict);
    let later = t0() + TimeDelta::hours(3);
    let id = w.ask(CAROL, later).await;
    assert_eq!(w.approve(LEAD_DAVE, &id, later).await.response.status, 200);
    assert_eq!(
        code(&w.approve(LEAD_ERIN, &id, later).await),
        ErrorCode::RequestConflict
    );
}

#[tokio::test]
async fn reasons_follow_the_rule_and_allowed_callers_need_no_request() {
    let w = world();
    let bad = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "please"}),
            t0(),
        )
        .await;
    assert_eq!(code(&bad), ErrorCode::InvalidReason);
    let missing = w
        .call(CAROL, "POST", "/requests", json!({"profile": "prod"}), t0())
        .await;
    assert_eq!(code(&missing), ErrorCode::InvalidReason);
    let erin = w
        .call(
            LEAD_ERIN,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "CHG-1 x y z w"}),
            t0(),
        )
        .await;
    // erin is allowed outright (after prod-changes, which names carol and mallory only).
    assert_eq!(code(&erin), ErrorCode::RequestConflict);
    let stranger = w
        .call(
            ONCALL,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "CHG-1234 please"}),
            t0(),
        )
        .await;
    assert_eq!(code(&stranger), ErrorCode::PolicyDeny);
    assert!(w.approvals.requests().is_empty());
}

#[tokio::test]
async fn revoking_an_approved_request_revokes_its_sessions_in_both_layers() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    let vended: VendResponse =
        serde_json::from_str(&w.vend(CAROL, t0()).await.response.body).unwrap();
    let revoked = w
        .call(
            LEAD_DAVE,
            "POST",
            &format!("/requests/{id}/revoke"),
            json!({"reason": "done early"}),
            t0(),
        )
        .await;
    assert_eq!(revoked.response.status, 200, "{}", revoked.response.body);
    assert_eq!(body(&revoked)["request"]["status"], "revoked");
    let row = w
        .service
        .store()
        .unwrap()
        .get(&vended.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status(), Status::Revoked);
    let deny = w
        .service
        .roles()
        .policy(ACCOUNT, "SentinelProtected-prod", revocation::POLICY_NAME);
    assert!(deny.is_some_and(|d| d.contains(vended.session_id.as_str())));
    assert_eq!(
        code(&w.vend(CAROL, t0()).await),
        ErrorCode::ApprovalRequired
    );
    // mallory is neither requester, approver nor admin.
    let id = w.ask(CAROL, t0()).await;
    let refused = w
        .call(
            MALLORY,
            "POST",
            &format!("/requests/{id}/revoke"),
            json!({"reason": "x"}),
            t0(),
        )
        .await;
    assert_eq!(code(&refused), ErrorCode::ApprovalDeny);
}

#[tokio::test]
async fn requests_are_listed_for_their_requester_and_approvers_only() {
    let w = world();
    w.ask(CAROL, t0()).await;
    w.ask(MALLORY, t0()).await;
    let list = |arn: &'static str, query: &'static str| {
        let mut request = signed(arn, "GET", "/requests", Value::Null);
        request.query = Some(query.into());
        w.service.handle(request, t0())
    };
    let lead = body(&list(LEAD_DAVE, "status=pending").await);
    assert_eq!(lead["requests"].as_array().unwrap().len(), 2);
    let carol = body(&list(CAROL, "mine=true").await);
    assert_eq!(carol["requests"].as_array().unwrap().len(), 1);
    let stranger = body(&list(ONCALL, "").await);
    assert!(stranger["requests"].as_array().unwrap().is_empty());
    let id = w.approvals.requests()[0].request_id.to_string();
    let show = w
        .call(ONCALL, "GET", &format!("/requests/{id}"), Value::Null, t0())
        .await;
    assert_eq!(code(&show), ErrorCode::ApprovalDeny);
}

#[tokio::test]
async fn break_glass_vends_loudly_cools_down_and_waits_for_review() {
    let w = world();
    let opened = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 db down", "duration": 3600}),
            t0(),
        )
        .await;
    assert_eq!(opened.response.status, 200, "{}", opened.response.body);
    let opened_body = body(&opened);
    let id = opened_body["BreakGlassId"].as_str().unwrap().to_owned();
    assert!(opened_body["AccessKeyId"].is_string());
    let issued = w.service.issuer().requests();
    assert_eq!(
        issued.last().unwrap().duration_secs,
        1800,
        "the rule's 30m cap"
    );
    assert!(
        issued
            .last()
            .unwrap()
            .tags
            .contains(&("sentinel-breakglass-id".to_owned(), id.clone()))
    );
    let emf = opened.log_lines().join("\n");
    assert!(emf.contains(r#""BreakGlass":1"#), "{emf}");
    let events = w.breakglass.events();
    assert_eq!(events[0].status, ReviewStatus::NeedsReview);
    assert!(events[0].session_id.is_some());
    assert_eq!(w.kinds(), [NoticeKind::BreakGlassUsed]);

    // The cooldown (4h) refuses a second use, also to the same user's other calls.
    let again = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-43 again"}),
            t0() + TimeDelta::hours(1),
        )
        .await;
    assert_eq!(code(&again), ErrorCode::Cooldown);
    assert_eq!(w.service.issuer().requests().len(), 1);
    // Not a break-glass caller; a vend never uses break_glass rules.
    let carol = w
        .call(
            CAROL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 me too"}),
            t0(),
        )
        .await;
    assert_eq!(code(&carol), ErrorCode::PolicyDeny);
    assert_eq!(code(&w.vend(ONCALL, t0()).await), ErrorCode::PolicyDeny);

    let list = {
        let mut request = signed(SECURITY, "GET", "/breakglass", Value::Null);
        request.query = Some("status=needs_review".into());
        body(&w.service.handle(request, t0()).await)
    };
    assert_eq!(list["events"][0]["breakglass_id"], id.as_str());
    let own = w
        .call(
            ONCALL,
            "POST",
            &format!("/breakglass/{id}/review"),
            json!({"notes": "fine"}),
            t0(),
        )
        .await;
    assert_eq!(code(&own), ErrorCode::AdminDeny);
    let path = format!("/breakglass/{id}/review");
    let review = |at| {
        w.call(
            SECURITY,
            "POST",
            &path,
            json!({"notes": "checked the logs"}),
            at,
        )
    };
    let reviewed = review(t0()).await;
    assert_eq!(
        body(&reviewed)["status"],
        "reviewed",
        "{}",
        reviewed.response.body
    );
    assert_eq!(code(&review(t0()).await), ErrorCode::RequestConflict);
    assert_eq!(
        w.kinds(),
        [NoticeKind::BreakGlassUsed, NoticeKind::BreakGlassReviewed]
    );
}

#[tokio::test]
async fn without_tables_the_routes_fail_closed_and_approval_profiles_never_vend() {
    let settings = Settings::from_lookup(|name| {
        (name == "SENTINEL_SESSION_TABLE").then(|| "sessions".to_owned())
    })
    .unwrap();
    let service: TestService = Service::new(
        settings,
        FakePolicySource::new([("prod", PROD)]),
        FakeIssuer::new(t0()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    );
    let mut vend = signed(CAROL, "GET", "/", Value::Null);
    vend.query = Some("profile=prod".into());
    let refused = service.handle(vend, t0()).await;
    assert_eq!(code(&refused), ErrorCode::ConfigError);
    let ask = service
        .handle(
            signed(
                CAROL,
                "POST",
                "/requests",
                json!({"profile": "prod", "reason": "CHG-1234 x"}),
            ),
            t0(),
        )
        .await;
    assert_eq!(code(&ask), ErrorCode::ConfigError);
    assert!(service.issuer().requests().is_empty());
}

#[tokio::test]
async fn a_store_outage_is_an_error_never_credentials() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    w.approvals.set_unavailable(true);
    let refused = w.vend(CAROL, t0()).await;
    assert_eq!(refused.response.status, 500);
    w.breakglass.set_unavailable(true);
    let bg = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 down"}),
            t0(),
        )
        .await;
    assert_eq!(bg.response.status, 500);
    assert!(w.service.issuer().requests().is_empty());
}

/// An approval is bound to the rule it was given under: one from the laxer `office`
/// rule does not open the stricter `remote` rule of the same profile.
#[tokio::test]
async fn an_approval_under_one_rule_does_not_open_another() {
    const SPLIT: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-split
rules:
  - name: office
    effect: require_approval
    conditions: {users: [carol], source_ips: ["10.0.0.0/8"]}
    approval:
      approvers: [{users: [dave]}]
  - name: remote
    effect: require_approval
    conditions: {users: [carol]}
    approval:
      approvers: [{users: [jane]}]
"#;
    let w = world();
    w.service.policy_source().put("split", SPLIT);
    let asked = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "split", "reason": "CHG-9 office work"}),
            t0(),
        )
        .await;
    assert_eq!(asked.response.status, 201, "{}", asked.response.body);
    let id = body(&asked)["request_id"].as_str().unwrap().to_owned();
    assert_eq!(body(&asked)["rule"], "office");
    assert_eq!(w.approve(LEAD_DAVE, &id, t0()).await.response.status, 200);
    let vend = |ip: &str| {
        let mut request = signed(CAROL, "GET", "/", Value::Null);
        request.query = Some("profile=split".into());
        request.source_ip = Some(ip.into());
        w.service.handle(request, t0())
    };
    assert_eq!(vend("10.1.2.3").await.response.status, 200);
    let remote = vend("192.0.2.1").await;
    assert_eq!(
        code(&remote),
        ErrorCode::ApprovalRequired,
        "{}",
        remote.response.body
    );
}

/// A profile whose approvers and break-glass users sign in through roles whose session
/// names the caller picks (`Leads`, `Deployers`, `Oncall`, `Security`), and which another
/// account's users may use too.
const QUORUM: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-quorum
rules:
  - name: two-approvers
    effect: require_approval
    conditions:
      users: [carol, "222233334444:carol", "Deployers/*"]
    approval:
      approvers:
        - principals:
            - "arn:aws:sts::*:assumed-role/Leads/*"
            - "arn:aws:sts::*:assumed-role/Deployers/*"
            - "arn:aws:sts::*:assumed-role/AWSReservedSSO_Leads_*"
      required: 2
  - name: emergency
    effect: break_glass
    conditions:
      principals:
        - "arn:aws:sts::111122223333:assumed-role/Oncall/*"
        - "arn:aws:sts::111122223333:assumed-role/Security/*"
    break_glass: {cooldown: 4h}
"#;

fn quorum_world() -> World {
    let w = world_with(&[("SENTINEL_ALLOWED_ACCOUNTS", "111122223333,222233334444")]);
    w.service.policy_source().put("quorum", QUORUM);
    w
}

async fn ask_quorum(w: &World, arn: &str) -> String {
    let asked = w
        .call(
            arn,
            "POST",
            "/requests",
            json!({"profile": "quorum", "reason": "CHG-1 two leads"}),
            t0(),
        )
        .await;
    assert_eq!(asked.response.status, 201, "{}", asked.response.body);
    body(&asked)["request_id"].as_str().unwrap().to_owned()
}

async fn break_glass(w: &World, arn: &str, at: DateTime<Utc>) -> Handled {
    w.call(
        arn,
        "POST",
        "/breakglass",
        json!({"profile": "quorum", "reason": "INC-7 outage"}),
        at,
    )
    .await
}

/// Attack review F2: a role whose session name the caller picks is one person whatever
/// the session is called, so two sessions of it are one approval, not a quorum of two.
#[tokio::test]
async fn two_sessions_of_one_role_are_one_approver() {
    let w = quorum_world();
    let id = ask_quorum(&w, CAROL).await;
    let first = w
        .approve(
            "arn:aws:sts::111122223333:assumed-role/Leads/alice-1",
            &id,
            t0(),
        )
        .await;
    assert_eq!(first.response.status, 200, "{}", first.response.body);
    let second = w
        .approve(
            "arn:aws:sts::111122223333:assumed-role/Leads/alice-2",
            &id,
            t0(),
        )
        .await;
    assert_eq!(
        code(&second),
        ErrorCode::RequestConflict,
        "{}",
        second.response.body
    );
    let stored = &w.approvals.requests()[0];
    assert_eq!(stored.approvals.len(), 1);
    assert_eq!(stored.status, RequestStatus::Pending);
    // A second person completes it: an Identity Center lead.
    assert_eq!(w.approve(LEAD_DAVE, &id, t0()).await.response.status, 200);
    assert_eq!(w.approvals.requests()[0].status, RequestStatus::Approved);
}

/// Attack review F2: a requester signed in through such a role cannot approve with
/// another session of it.
#[tokio::test]
async fn a_role_requester_cannot_approve_through_another_session() {
    let w = quorum_world();
    let id = ask_quorum(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Deployers/build-1",
    )
    .await;
    let own = w
        .approve(
            "arn:aws:sts::111122223333:assumed-role/Deployers/build-2",
            &id,
            t0(),
        )
        .await;
    assert_eq!(code(&own), ErrorCode::ApprovalDeny, "{}", own.response.body);
    assert!(w.approvals.requests()[0].approvals.is_empty());
}

/// Attack review F2: an Identity Center user is one person in every account: carol's
/// session in another account asks, her home session does not approve.
#[tokio::test]
async fn the_same_identity_center_user_in_another_account_is_the_requester() {
    let w = quorum_world();
    let id = ask_quorum(
        &w,
        "arn:aws:sts::222233334444:assumed-role/AWSReservedSSO_Dev_4567cdef/carol",
    )
    .await;
    let own = w.approve(CAROL_SSO, &id, t0()).await;
    assert_eq!(code(&own), ErrorCode::ApprovalDeny, "{}", own.response.body);
    assert!(w.approvals.requests()[0].approvals.is_empty());
}

/// Attack review F2: the break-glass cooldown holds for the person, not the session
/// name, and nobody reviews their own use through another session.
#[tokio::test]
async fn break_glass_cooldown_and_review_hold_across_sessions_of_one_role() {
    let w = quorum_world();
    let first = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan-1",
        t0(),
    )
    .await;
    assert_eq!(first.response.status, 200, "{}", first.response.body);
    let second = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan-2",
        t0() + TimeDelta::minutes(5),
    )
    .await;
    assert_eq!(
        code(&second),
        ErrorCode::Cooldown,
        "{}",
        second.response.body
    );
    assert_eq!(w.service.issuer().requests().len(), 1);

    let used = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Security/jane-1",
        t0(),
    )
    .await;
    assert_eq!(used.response.status, 200, "{}", used.response.body);
    let id = body(&used)["BreakGlassId"].as_str().unwrap().to_owned();
    let own = w
        .call(
            "arn:aws:sts::111122223333:assumed-role/Security/jane-2",
            "POST",
            &format!("/breakglass/{id}/review"),
            json!({"notes": "all fine"}),
            t0(),
        )
        .await;
    assert_eq!(code(&own), ErrorCode::AdminDeny, "{}", own.response.body);
    assert_eq!(
        w.breakglass
            .events()
            .iter()
            .filter(|e| e.status == ReviewStatus::Reviewed)
            .count(),
        0
    );
}

/// Attack review F3: a revocation whose session revocation failed leaves the request
/// revoked; it must be possible to finish it, and the revocation is announced anyway.
#[tokio::test]
async fn a_revocation_that_could_not_reach_its_sessions_can_be_retried() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    let vended: VendResponse =
        serde_json::from_str(&w.vend(CAROL, t0()).await.response.body).unwrap();
    let path = format!("/requests/{id}/revoke");
    let revoke = || {
        w.call(
            LEAD_DAVE,
            "POST",
            &path,
            json!({"reason": "done early"}),
            t0(),
        )
    };
    w.service.store().unwrap().set_unavailable(true);
    let failed = revoke().await;
    assert_eq!(failed.response.status, 500, "{}", failed.response.body);
    assert_eq!(w.approvals.requests()[0].status, RequestStatus::Revoked);
    assert!(
        w.kinds().contains(&NoticeKind::RequestRevoked),
        "{:?}",
        w.kinds()
    );
    w.service.store().unwrap().set_unavailable(false);
    let retried = revoke().await;
    assert_eq!(retried.response.status, 200, "{}", retried.response.body);
    let row = w
        .service
        .store()
        .unwrap()
        .get(&vended.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status(), Status::Revoked);
    // A retry changes nothing in the request: its first closure stands.
    assert_eq!(w.approvals.requests()[0].version, 3);
}

/// Attack review F3: a vend that read the approval before a revocation was written, and
/// records its session after the revocation listed sessions, never hands out its keys.
#[tokio::test]
async fn a_revocation_racing_a_vend_keeps_its_credentials_in() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    let approvals = w.approvals.clone();
    // The revocation lands while STS answers the vend.
    w.service.issuer().on_issue(move || {
        let mut request = approvals.requests()[0].clone();
        request.status = RequestStatus::Revoked;
        request.version += 1;
        approvals.insert(request);
    });
    let vend = w.vend(CAROL, t0()).await;
    assert_eq!(
        code(&vend),
        ErrorCode::ApprovalRequired,
        "{}",
        vend.response.body
    );
    assert!(!vend.response.body.contains("ASIAFAKE"));
    let rows = w.service.store().unwrap().records();
    assert_eq!(rows.len(), 1, "the session is recorded, as revoked");
    assert_eq!(rows[0].status(), Status::Revoked);
    assert_eq!(rows[0].approval_id.as_deref(), Some(id.as_str()));
}
/// Attack review F4: a break-glass use that vended nothing does not hold the cooldown
/// (the next try is the emergency still going on); its event stays for review.
#[tokio::test]
async fn a_failed_break_glass_vend_leaves_no_cooldown() {
    let w = world();
    let open = |at| {
        w.call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 db down"}),
            at,
        )
    };
    w.service
        .issuer()
        .fail_with(Some(crate::grant::IssueError("STS is down".into())));
    let failed = open(t0()).await;
    assert!(failed.response.status >= 500, "{}", failed.response.body);
    w.service.issuer().fail_with(None);
    let retried = open(t0() + TimeDelta::minutes(1)).await;
    assert_eq!(retried.response.status, 200, "{}", retried.response.body);
    // Both attempts are events; the second holds the cooldown.
    assert_eq!(w.breakglass.events().len(), 2);
    let again = open(t0() + TimeDelta::minutes(2)).await;
    assert_eq!(code(&again), ErrorCode::Cooldown);
}

/// Attack review F6: a page holding only events of profiles the caller may not review
/// answered 403 and dropped `next`, so the caller never reached the events they may
/// review. It is an empty page with its cursor; a caller who may review nothing at all
/// still gets 403.
#[tokio::test]
async fn a_page_of_events_the_caller_may_not_see_is_empty_not_a_refusal() {
    let w = quorum_world();
    let prod = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 db down"}),
            t0(),
        )
        .await;
    assert_eq!(prod.response.status, 200, "{}", prod.response.body);
    let prod_id = body(&prod)["BreakGlassId"].as_str().unwrap().to_owned();
    let other = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan",
        t0() + TimeDelta::minutes(1),
    )
    .await;
    assert_eq!(other.response.status, 200, "{}", other.response.body);
    let list = |arn: &'static str, query: String| {
        let mut request = signed(arn, "GET", "/breakglass", Value::Null);
        request.query = Some(query);
        w.service.handle(request, t0() + TimeDelta::minutes(2))
    };
    let reviewer = "arn:aws:sts::111122223333:assumed-role/ProdReviewer/ann";
    // Newest first: the quorum event, hidden from a prod reviewer.
    let first = list(reviewer, "limit=1".into()).await;
    assert_eq!(first.response.status, 200, "{}", first.response.body);
    let first = body(&first);
    assert!(first["events"].as_array().unwrap().is_empty(), "{first}");
    let next = first["next"]
        .as_str()
        .expect("a cursor past the hidden event");
    let second = body(&list(reviewer, format!("limit=1&next={next}")).await);
    assert_eq!(second["events"][0]["breakglass_id"], prod_id.as_str());
    // Someone who may review none of a one-page listing is told so, naming no profile.
    let stranger = list(MALLORY, String::new()).await;
    assert_eq!(
        code(&stranger),
        ErrorCode::AdminDeny,
        "{}",
        stranger.response.body
    );
}

/// Attack review F7: a caller who holds a request's ID but is neither its requester nor
/// an approver learns nothing of it from a refusal (not its profile, not its rule),
/// also once its rule changed.
#[tokio::test]
async fn refusals_name_nothing_of_a_request_the_caller_may_not_see() {
    // Policies are read on every request, so the rule's rename below is seen at once.
    let w = world_with(&[("SENTINEL_POLICY_CACHE_TTL", "0")]);
    let id = w.ask(CAROL, t0()).await;
    let paths = [
        ("GET", format!("/requests/{id}"), Value::Null),
        (
            "POST",
            format!("/requests/{id}/approve"),
            json!({"comment": "ok"}),
        ),
        (
            "POST",
            format!("/requests/{id}/deny"),
            json!({"reason": "no"}),
        ),
        (
            "POST",
            format!("/requests/{id}/revoke"),
            json!({"reason": "no"}),
        ),
    ];
    for (method, path, body) in &paths {
        let refused = w.call(ONCALL, method, path, body.clone(), t0()).await;
        assert_eq!(code(&refused), ErrorCode::ApprovalDeny, "{path}");
        let text = &refused.response.body;
        assert!(
            !text.contains("prod") && !text.contains("prod-changes"),
            "{text}"
        );
    }
    // The rule is renamed: an approver reading the request is refused the same way.
    w.service.policy_source().put(
        "prod",
        &PROD.replace("name: prod-changes", "name: prod-changes-v2"),
    );
    let show = w
        .call(
            LEAD_DAVE,
            "GET",
            &format!("/requests/{id}"),
            Value::Null,
            t0(),
        )
        .await;
    assert_eq!(
        code(&show),
        ErrorCode::ApprovalDeny,
        "{}",
        show.response.body
    );
    assert!(
        !show.response.body.contains("prod"),
        "{}",
        show.response.body
    );
    // Its requester still sees it.
    let own = w
        .call(CAROL, "GET", &format!("/requests/{id}"), Value::Null, t0())
        .await;
    assert_eq!(own.response.status, 200, "{}", own.response.body);
}

/// Attack review F9: an approval counted for the index of the group it was given for, so
/// reordering a rule's approver groups while a request was pending made an approval
/// given as a member of one group count for another: the request was approved without
/// the other group. Approvals count only under the approver groups they were given
/// under.
#[tokio::test]
async fn reordered_approver_groups_do_not_move_earlier_approvals() {
    const PAIR: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-pair
rules:
  - name: two-groups
    effect: require_approval
    conditions: {users: [carol]}
    approval:
      approvers: [{users: [dave, erin]}, {users: [frank]}]
"#;
    let w = world_with(&[("SENTINEL_POLICY_CACHE_TTL", "0")]);
    w.service.policy_source().put("pair", PAIR);
    let asked = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "pair", "reason": "CHG-7 pair work"}),
            t0(),
        )
        .await;
    assert_eq!(asked.response.status, 201, "{}", asked.response.body);
    let id = body(&asked)["request_id"].as_str().unwrap().to_owned();
    assert_eq!(w.approve(LEAD_DAVE, &id, t0()).await.response.status, 200);
    // The groups swap places: dave's group is now the second.
    w.service.policy_source().put(
        "pair",
        &PAIR.replace(
            "[{users: [dave, erin]}, {users: [frank]}]",
            "[{users: [frank]}, {users: [dave, erin]}]",
        ),
    );
    let erin = w.approve(LEAD_ERIN, &id, t0()).await;
    assert_eq!(erin.response.status, 200, "{}", erin.response.body);
    assert_eq!(
        body(&erin)["status"],
        "pending",
        "frank's group has not approved: {}",
        erin.response.body
    );
    let frank = w
        .approve("arn:aws:iam::111122223333:user/frank", &id, t0())
        .await;
    assert_eq!(
        body(&frank)["status"],
        "approved",
        "{}",
        frank.response.body
    );
}

/// Attack review F9: review notes took control characters (an ANSI escape or a forged
/// second line in `sentinel breakglass list` and the notification), unlike comments.
#[tokio::test]
async fn review_notes_are_one_line_without_control_characters() {
    let w = world();
    let opened = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 db down"}),
            t0(),
        )
        .await;
    let id = body(&opened)["BreakGlassId"].as_str().unwrap().to_owned();
    for notes in ["fine\nreviewed by: ceo", "fine \u{1b}[2J", "fine\u{7f}"] {
        let refused = w
            .call(
                SECURITY,
                "POST",
                &format!("/breakglass/{id}/review"),
                json!({ "notes": notes }),
                t0(),
            )
            .await;
        assert_eq!(code(&refused), ErrorCode::InvalidRequest, "{notes:?}");
    }
    assert_eq!(w.breakglass.events()[0].status, ReviewStatus::NeedsReview);
}

/// Attack review F9: an admin's revocation of a request logged the request's rule, not
/// the admin policy rule that allowed it, so the audit trail could not say why.
#[tokio::test]
async fn an_admin_revocation_logs_the_admin_rule_that_allowed_it() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    let revoked = w
        .call(
            SECURITY,
            "POST",
            &format!("/requests/{id}/revoke"),
            json!({"reason": "incident"}),
            t0(),
        )
        .await;
    assert_eq!(revoked.response.status, 200, "{}", revoked.response.body);
    let line: Value = serde_json::from_str(&revoked.log_lines()[0]).unwrap();
    assert_eq!(line["rule"], "security", "{line}");
    assert_eq!(line["action"], "sessions:revoke", "{line}");
}

/// Attack review 2, finding 1: credentials Sentinel vended are a role session
/// (`R/sentinel-<session id>`), so their person is `R/*`, not the person they were vended
/// to. carol, allowed to vend the Leads and Deployers roles, approved her own request
/// twice (a quorum of two) through them. Sentinel-vended sessions may not ask for,
/// answer or review anything: whoever holds one signs with their own credentials.
#[tokio::test]
async fn credentials_sentinel_vended_cannot_ask_answer_or_review() {
    let w = quorum_world();
    let vended = |role: &str| {
        format!(
            "arn:aws:sts::111122223333:assumed-role/{role}/sentinel-0123456789abcdef0123456789abcdef"
        )
    };
    let id = ask_quorum(&w, CAROL).await;
    for role in ["Leads", "Deployers"] {
        let answered = w.approve(&vended(role), &id, t0()).await;
        assert_eq!(
            code(&answered),
            ErrorCode::InvalidIdentity,
            "{}",
            answered.response.body
        );
    }
    assert!(w.approvals.requests()[0].approvals.is_empty());
    let asked = w
        .call(
            &vended("Deployers"),
            "POST",
            "/requests",
            json!({"profile": "quorum", "reason": "CHG-1 two leads"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&asked),
        ErrorCode::InvalidIdentity,
        "{}",
        asked.response.body
    );
    let opened = break_glass(&w, &vended("Oncall"), t0()).await;
    assert_eq!(
        code(&opened),
        ErrorCode::InvalidIdentity,
        "{}",
        opened.response.body
    );
    let used = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan",
        t0(),
    )
    .await;
    let event = body(&used)["BreakGlassId"].as_str().unwrap().to_owned();
    let reviewed = w
        .call(
            &vended("Security"),
            "POST",
            &format!("/breakglass/{event}/review"),
            json!({"notes": "fine"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&reviewed),
        ErrorCode::InvalidIdentity,
        "{}",
        reviewed.response.body
    );
    // A session name that only looks like one is an ordinary session.
    let lookalike = w
        .approve(
            "arn:aws:sts::111122223333:assumed-role/Leads/sentinel-alice",
            &id,
            t0(),
        )
        .await;
    assert_eq!(
        lookalike.response.status, 200,
        "{}",
        lookalike.response.body
    );
}

/// Attack review 2, finding 2: a caller whom the admin policy lets review no break-glass
/// event got 200 with an empty page and a cursor naming a hidden event (its ID, time
/// and status), and `GET /breakglass/{id}` named its profile.
#[tokio::test]
async fn someone_who_may_review_nothing_learns_nothing_of_break_glass() {
    let w = quorum_world();
    for (n, arn) in ["arn:aws:sts::111122223333:assumed-role/Oncall/dan", ONCALL]
        .into_iter()
        .enumerate()
    {
        let at = t0() + TimeDelta::minutes(i64::try_from(n).unwrap());
        let profile = if n == 0 { "quorum" } else { "prod" };
        let used = w
            .call(
                arn,
                "POST",
                "/breakglass",
                json!({"profile": profile, "reason": "INC-42 db down"}),
                at,
            )
            .await;
        assert_eq!(used.response.status, 200, "{}", used.response.body);
    }
    let mut request = signed(MALLORY, "GET", "/breakglass", Value::Null);
    request.query = Some("status=needs_review&limit=1".into());
    let listed = w.service.handle(request, t0()).await;
    assert_eq!(
        code(&listed),
        ErrorCode::AdminDeny,
        "{}",
        listed.response.body
    );
    let id = w.breakglass.events()[0].breakglass_id.to_string();
    let shown = w
        .call(
            MALLORY,
            "GET",
            &format!("/breakglass/{id}"),
            Value::Null,
            t0(),
        )
        .await;
    assert_eq!(
        code(&shown),
        ErrorCode::AdminDeny,
        "{}",
        shown.response.body
    );
    for name in ["quorum", "prod"] {
        assert!(
            !shown.response.body.contains(name),
            "{}",
            shown.response.body
        );
    }
}

/// Attack review 2, finding 6: what `users` globs match depends on
/// `SENTINEL_IDENTITY_ROLES` too, so approvals given before it changed count no more.
#[tokio::test]
async fn approvals_count_only_under_the_identity_roles_they_were_given_under() {
    const TWO: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-two
rules:
  - name: two-leads
    effect: require_approval
    conditions: {users: [carol]}
    approval:
      approvers: [{users: [dave, erin, "okta-*"]}]
      required: 2
"#;
    let w = world();
    w.service.policy_source().put("two", TWO);
    let asked = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "two", "reason": "CHG-8 two leads"}),
            t0(),
        )
        .await;
    let id = body(&asked)["request_id"].as_str().unwrap().to_owned();
    assert_eq!(w.approve(LEAD_DAVE, &id, t0()).await.response.status, 200);
    // The same stores behind a TVM that trusts another identity provider's roles.
    let settings = Settings::from_lookup(|name| match name {
        "SENTINEL_SESSION_TABLE" => Some("sessions".to_owned()),
        "SENTINEL_APPROVAL_TABLE" => Some("approvals".to_owned()),
        "SENTINEL_BREAKGLASS_TABLE" => Some("breakglass".to_owned()),
        "SENTINEL_IDENTITY_ROLES" => Some("AWSReservedSSO_*,Okta_*".to_owned()),
        _ => None,
    })
    .unwrap();
    let changed: TestService = Service::new(
        settings,
        FakePolicySource::new([("two", TWO)]),
        FakeIssuer::new(t0()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    )
    .with_gates(Gates::new(
        w.approvals.clone(),
        w.breakglass.clone(),
        Notifier::none(),
    ));
    let erin = changed
        .handle(
            signed(
                LEAD_ERIN,
                "POST",
                &format!("/requests/{id}/approve"),
                json!({}),
            ),
            t0(),
        )
        .await;
    assert_eq!(erin.response.status, 200, "{}", erin.response.body);
    assert_eq!(body(&erin)["status"], "pending", "{}", erin.response.body);
}

/// Attack review 2, findings 3b and 4: while a request's policy cannot be read, a
/// stranger's refusal named the profile; and an approver who revoked a request got the
/// requester's sessions with their source IP and user agent.
#[tokio::test]
async fn a_broken_policy_and_a_revocation_leak_nothing_of_the_requester() {
    let w = world_with(&[("SENTINEL_POLICY_CACHE_TTL", "0")]);
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    let mut vend = signed(CAROL, "GET", "/", Value::Null);
    vend.query = Some("profile=prod".into());
    vend.user_agent = Some("carols-laptop/1.0".into());
    assert_eq!(w.service.handle(vend, t0()).await.response.status, 200);

    w.service.policy_source().put("prod", "version: [");
    let shown = w
        .call(ONCALL, "GET", &format!("/requests/{id}"), Value::Null, t0())
        .await;
    assert!(shown.response.status >= 400, "{}", shown.response.body);
    assert!(
        !shown.response.body.contains("prod"),
        "{}",
        shown.response.body
    );
    w.service.policy_source().put("prod", PROD);

    let revoked = w
        .call(
            LEAD_DAVE,
            "POST",
            &format!("/requests/{id}/revoke"),
            json!({"reason": "done"}),
            t0(),
        )
        .await;
    assert_eq!(revoked.response.status, 200, "{}", revoked.response.body);
    let answer = body(&revoked);
    let row = &answer["sessions"]["revoked"][0];
    assert!(row["session_id"].is_string(), "{answer}");
    assert!(row.get("source_ip").is_none_or(Value::is_null), "{row}");
    assert!(row.get("user_agent").is_none_or(Value::is_null), "{row}");
}

/// Attack review 2, finding 5: reasons, comments and notes took bidi controls and
/// invisible characters, so what an approver read in a terminal was not what was asked.
#[tokio::test]
async fn free_text_refuses_bidi_and_invisible_characters() {
    let w = world();
    let reason = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "CHG-1234 read-only\u{202e}etirw llA"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&reason),
        ErrorCode::InvalidReason,
        "{}",
        reason.response.body
    );
    let id = w.ask(CAROL, t0()).await;
    let comment = w
        .call(
            LEAD_DAVE,
            "POST",
            &format!("/requests/{id}/approve"),
            json!({"comment": "ok\u{200b}"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&comment),
        ErrorCode::InvalidRequest,
        "{}",
        comment.response.body
    );
    let opened = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 db down"}),
            t0(),
        )
        .await;
    let event = body(&opened)["BreakGlassId"].as_str().unwrap().to_owned();
    let notes = w
        .call(
            SECURITY,
            "POST",
            &format!("/breakglass/{event}/review"),
            json!({"notes": "fine\u{2066}"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&notes),
        ErrorCode::InvalidRequest,
        "{}",
        notes.response.body
    );
}
