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
    break_glass_on(w, arn, "quorum", at).await
}

/// `POST /breakglass` on `profile` by `arn` at `at`, with a reason both profiles accept.
async fn break_glass_on(w: &World, arn: &str, profile: &str, at: DateTime<Utc>) -> Handled {
    w.call(
        arn,
        "POST",
        "/breakglass",
        json!({"profile": profile, "reason": "INC-42 db down"}),
        at,
    )
    .await
}

/// Break-glass on prod at t0 (by ONCALL), on quorum a minute later (by an `Oncall` role
/// session), which a prod reviewer may not review, and on prod again a minute after that
/// (by another on-call user): the three event IDs, oldest first.
async fn prod_quorum_prod_events(w: &World) -> [String; 3] {
    let prod = |arn: &'static str, at| break_glass_on(w, arn, "prod", at);
    let first = prod(ONCALL, t0()).await;
    let quorum = break_glass(
        w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan",
        t0() + TimeDelta::minutes(1),
    )
    .await;
    let last = prod(
        "arn:aws:iam::111122223333:user/oncall-eve",
        t0() + TimeDelta::minutes(2),
    )
    .await;
    [first, quorum, last].map(|handled| {
        assert_eq!(handled.response.status, 200, "{}", handled.response.body);
        body(&handled)["BreakGlassId"].as_str().unwrap().to_owned()
    })
}

mod breakglass;
mod cursors;
mod persons;
mod requests;
