#![cfg(test)]
//! Approvals and break-glass through `sentinel-tvm serve` (SPEC §9): the policy in SSM,
//! STS and IAM on moto, the three tables on moto or on DynamoDB Local (the SDK's
//! `AWS_ENDPOINT_URL_DYNAMODB` sends only DynamoDB there), and a local webhook receiver
//! recording the notifications.
//!
//! Windows and request lifetimes are hours long; the tests do not wait for them. They
//! move the stored `approved_until` / `expires_at` into the past with a direct
//! `UpdateItem` (what time passing does to the row) and check that the TVM then refuses.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use system_tests::{DynamoDbLocal, Moto};

use crate::notify::Receiver;
use crate::tvm::{ALICE, ALICE_SSO, LEAD, MALLORY, SECURITY, TABLE, Tvm, error_code, seed, send};

pub const APPROVALS: &str = "sentinel-approvals";
pub const BREAKGLASS: &str = "sentinel-breakglass";

/// alice needs an approval from a lead, the security team or an engineer of the
/// Identity Center `Eng` set, which alice's own Identity Center session is: only the
/// requester rule keeps it from approving her request. mallory may break glass once an
/// hour. (The CLI's system tests use the same world.)
pub const PROD: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev
  max_duration: 1h
rules:
  - name: changes
    effect: require_approval
    conditions: {users: [alice]}
    approval:
      approvers: [{principals: ["arn:aws:iam::123456789012:user/leads/*", "arn:aws:iam::123456789012:user/security/*", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Eng_*"]}]
      required: 1
      reason: {pattern: "^CHG-[0-9]+"}
      max_duration: 1h
      request_ttl: 4h
  - name: emergency
    effect: break_glass
    conditions: {users: [mallory]}
    max_duration: 15m
    break_glass: {cooldown: 1h, reason: {min_length: 6}}
"#;

pub const ADMIN: &str = r#"version: "1"
rules:
  - name: security-team
    effect: allow
    conditions:
      principals: ["arn:aws:iam::123456789012:user/security/*"]
      actions: ["sessions:*", "breakglass:review"]
"#;

/// Where DynamoDB lives for one run.
enum Tables {
    Moto,
    Local(DynamoDbLocal),
}

struct World {
    moto: Moto,
    _local: Option<DynamoDbLocal>,
    dynamodb: aws_sdk_dynamodb::Client,
    receiver: Receiver,
    tvm: Tvm,
}

/// moto seeded as for every TVM test, plus [`PROD`] and [`ADMIN`] in SSM.
pub async fn seed_approvals(moto: &Moto) {
    seed(moto).await;
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    for (name, value) in [("prod", PROD), ("_admin", ADMIN)] {
        ssm.put_parameter()
            .name(format!("/sentinel/policies/{name}"))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }
}

async fn world(tables: Tables) -> World {
    let moto = Moto::start();
    seed_approvals(&moto).await;
    let config = moto.sdk_config().await;
    let receiver = Receiver::start().await;
    let webhook = receiver.url("/hook");
    let mut extra = vec![
        ("SENTINEL_APPROVAL_TABLE".to_owned(), APPROVALS.to_owned()),
        (
            "SENTINEL_BREAKGLASS_TABLE".to_owned(),
            BREAKGLASS.to_owned(),
        ),
        ("SENTINEL_NOTIFY_WEBHOOK_URL".to_owned(), webhook),
    ];
    let (dynamodb, local) = match tables {
        Tables::Moto => (aws_sdk_dynamodb::Client::new(&config), None),
        Tables::Local(local) => {
            let client = aws_sdk_dynamodb::Client::new(&local.sdk_config().await);
            sessions::create_table(&client, TABLE).await.unwrap();
            extra.push(("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), local.endpoint()));
            (client, Some(local))
        }
    };
    approvals::create_tables(&dynamodb, APPROVALS, BREAKGLASS)
        .await
        .unwrap();
    let extra: Vec<(&str, &str)> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let tvm = Tvm::start(&moto, &extra);
    World {
        moto,
        _local: local,
        dynamodb,
        receiver,
        tvm,
    }
}

impl World {
    async fn call(
        &self,
        key: &crate::tvm::Key,
        method: &str,
        path: &str,
        body: Value,
    ) -> (u16, String) {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        send(Some(key), method, &format!("{}{path}", self.tvm.url), &body).await
    }

    async fn vend(&self, key: &crate::tvm::Key) -> (u16, String) {
        self.call(key, "GET", "/?profile=prod", Value::Null).await
    }

    async fn ask(&self) -> String {
        let (status, body) = self
            .call(
                &ALICE,
                "POST",
                "/requests",
                json!({"profile": "prod", "reason": "CHG-7 deploy"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let created: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(created["status"], "pending");
        assert_eq!(created["requester"], "alice");
        created["request_id"].as_str().unwrap().to_owned()
    }

    async fn approve(&self, key: &crate::tvm::Key, id: &str) -> (u16, String) {
        self.call(
            key,
            "POST",
            &format!("/requests/{id}/approve"),
            json!({"comment": "go"}),
        )
        .await
    }

    /// Moves a request's time attribute into the past, as time passing would.
    async fn age(&self, id: &str, attribute: &str) {
        self.dynamodb
            .update_item()
            .table_name(APPROVALS)
            .key("request_id", AttributeValue::S(id.to_owned()))
            .update_expression("SET #a = :past")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(
                ":past",
                AttributeValue::S("2020-01-01T00:00:00.000000000Z".to_owned()),
            )
            .send()
            .await
            .unwrap();
    }

    async fn stored_request(&self, id: &str) -> Value {
        let (status, body) = self
            .call(&ALICE, "GET", &format!("/requests/{id}"), Value::Null)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn session_attribute(&self, session: &str, attribute: &str) -> Option<String> {
        let item = self
            .dynamodb
            .get_item()
            .table_name(TABLE)
            .key("session_id", AttributeValue::S(session.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item?;
        item.get(attribute).and_then(|v| v.as_s().ok()).cloned()
    }

    fn notified(&self) -> Vec<Value> {
        self.receiver
            .at("/hook")
            .into_iter()
            .map(|s| s.body["sentinel"].clone())
            .collect()
    }
}

async fn journey(tables: Tables) {
    let w = world(tables).await;

    // No approved request: 403 with the command to run.
    let (status, body) = w.vend(&ALICE).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "APPROVAL_REQUIRED"),
        "{body}"
    );
    assert!(body.contains("sentinel request --profile prod"), "{body}");
    // A reason that breaks the rule.
    let (status, body) = w
        .call(
            &ALICE,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "deploy"}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "INVALID_REASON"),
        "{body}"
    );

    let id = w.ask().await;
    // Self-approval through another principal of the same user, and a non-approver.
    let (status, body) = w.approve(&ALICE_SSO, &id).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "APPROVAL_DENY"),
        "{body}"
    );
    let (status, body) = w.approve(&MALLORY, &id).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "APPROVAL_DENY"),
        "{body}"
    );
    // Two approvers at once on `required: 1`: one approval is recorded.
    let (a, b) = tokio::join!(w.approve(&LEAD, &id), w.approve(&SECURITY, &id));
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let stored = w.stored_request(&id).await;
    assert_eq!(stored["status"], "approved");
    assert_eq!(stored["approvals"].as_array().unwrap().len(), 1, "{stored}");

    // The vend under the approval names it in the session row.
    let (status, body) = w.vend(&ALICE).await;
    assert_eq!(status, 200, "{body}");
    let vended: Value = serde_json::from_str(&body).unwrap();
    let session = vended["SessionId"].as_str().unwrap();
    assert_eq!(
        w.session_attribute(session, "approval_id").await.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(
        w.session_attribute(session, "rule").await.as_deref(),
        Some("changes")
    );
    // The window ends: no more vends.
    w.age(&id, "approved_until").await;
    let (status, body) = w.vend(&ALICE).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "APPROVAL_REQUIRED"),
        "{body}"
    );
    assert_eq!(w.stored_request(&id).await["status"], "expired");

    // A denied request never vends, and cannot be approved after.
    let denied = w.ask().await;
    let (status, body) = w
        .call(
            &LEAD,
            "POST",
            &format!("/requests/{denied}/deny"),
            json!({"reason": "not today"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w.approve(&SECURITY, &denied).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (409, "REQUEST_CONFLICT"),
        "{body}"
    );
    let (status, body) = w.vend(&ALICE).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "APPROVAL_REQUIRED"),
        "{body}"
    );

    // An approval after the request expired is refused.
    let late = w.ask().await;
    w.age(&late, "expires_at").await;
    let (status, body) = w.approve(&LEAD, &late).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (409, "REQUEST_CONFLICT"),
        "{body}"
    );

    // A listing one row a page: each `next` is sealed for its caller with the key the TVM
    // keeps in the break-glass table, names no row, and resumes no one else's listing.
    let mut seen = Vec::new();
    let mut cursors = Vec::new();
    for _ in 0..10 {
        let path = match cursors.last() {
            Some(next) => format!("/requests?limit=1&next={next}"),
            None => "/requests?limit=1".to_owned(),
        };
        let (status, body) = w.call(&LEAD, "GET", &path, Value::Null).await;
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        for request in page["requests"].as_array().unwrap() {
            seen.push(request["request_id"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => cursors.push(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    let mut asked = vec![id.clone(), denied.clone(), late.clone()];
    asked.sort();
    assert_eq!(seen, asked);
    for next in &cursors {
        assert!(!asked.iter().any(|id| next.contains(id.as_str())), "{next}");
    }
    let (status, body) = w
        .call(
            &SECURITY,
            "GET",
            &format!("/requests?limit=1&next={}", cursors[0]),
            Value::Null,
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "INVALID_REQUEST"),
        "{body}"
    );
    let key = w
        .dynamodb
        .get_item()
        .table_name(BREAKGLASS)
        .key("breakglass_id", AttributeValue::S("cursor-key#1".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(key["key"].as_b().unwrap().as_ref().len(), 32);

    // Break-glass: vends, notifies, needs review, cools down.
    let (status, body) = w
        .call(
            &MALLORY,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-9 outage"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let opened: Value = serde_json::from_str(&body).unwrap();
    let event = opened["BreakGlassId"].as_str().unwrap().to_owned();
    assert!(opened["AccessKeyId"].is_string());
    let session = opened["SessionId"].as_str().unwrap();
    assert_eq!(
        w.session_attribute(session, "breakglass_id")
            .await
            .as_deref(),
        Some(event.as_str())
    );
    let (status, body) = w
        .call(
            &MALLORY,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-9 again"}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (429, "COOLDOWN"),
        "{body}"
    );
    let (status, body) = w
        .call(
            &SECURITY,
            "GET",
            "/breakglass?status=needs_review",
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        listed["events"][0]["breakglass_id"],
        event.as_str(),
        "{body}"
    );
    assert_eq!(listed["events"][0]["status"], "needs_review");
    let (status, body) = w
        .call(
            &SECURITY,
            "POST",
            &format!("/breakglass/{event}/review"),
            json!({"notes": "checked CloudTrail"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = w
        .call(
            &SECURITY,
            "GET",
            "/breakglass?status=needs_review",
            Value::Null,
        )
        .await;
    let listed: Value = serde_json::from_str(&body).unwrap();
    assert!(listed["events"].as_array().unwrap().is_empty(), "{body}");

    // The webhook heard every transition, as JSON.
    let kinds: Vec<String> = w
        .notified()
        .iter()
        .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    for kind in [
        "request_created",
        "request_approved",
        "request_denied",
        "break_glass_used",
        "break_glass_reviewed",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    let used = w
        .notified()
        .into_iter()
        .find(|n| n["kind"] == "break_glass_used")
        .unwrap();
    assert_eq!(used["profile"], "prod");
    assert_eq!(used["user"], "mallory");
    assert_eq!(used["reason"], "INC-9 outage");
    let _ = &w.moto;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_and_break_glass_on_moto() {
    journey(Tables::Moto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_and_break_glass_with_tables_on_dynamodb_local() {
    journey(Tables::Local(DynamoDbLocal::start())).await;
}
