//! Layer 2 of revocation (the deny on the protected role) written by `sentinel-tvm serve`
//! against moto: when IAM cannot be reached the rows say `pending` and `reconcile`
//! applies them; past IAM's inline limit the `aws:TokenIssueTime` cut-off covers the
//! newest revoked session to the millisecond; and with moto checking signatures and
//! policies, the credentials of a revoked session are refused.

#![cfg(test)]

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{TimeDelta, Timelike, Utc};
use serde_json::Value;
use sessions::{DynamoSessionStore, SessionRecord, SessionStore};
use system_tests::{Moto, free_port};

use crate::enforcing;
use crate::tvm::{ACCOUNT, ALICE, SECURITY, TABLE, Tvm, seed, seed_with, send, vend};

const ROLE: &str = "SentinelProtected-dev";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/SentinelProtected-dev";

/// Session `n` of `user` on `role` (a name in moto's default account), issued a minute
/// ago and valid for an hour.
pub fn record_on(role: &str, n: u32, user: &str) -> SessionRecord {
    let mut record = sessions::contract::record(n, user, "dev");
    record.role_arn = format!("arn:aws:iam::{ACCOUNT}:role/{role}")
        .parse()
        .unwrap();
    record.issued_at = Utc::now() - TimeDelta::minutes(1);
    record.expires_at = record.issued_at + TimeDelta::hours(1);
    record.ttl = SessionRecord::ttl_for(record.expires_at, 90);
    record
}

/// IAM returns policy documents URL-encoded.
pub fn url_decode(raw: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex: String = bytes.by_ref().take(2).map(char::from).collect();
            out.push(u8::from_str_radix(&hex, 16).unwrap());
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).unwrap()
}

/// The session IDs a deny document names.
pub fn deny_ids(document: &str) -> Vec<String> {
    let doc: Value = serde_json::from_str(&url_decode(document)).unwrap();
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            s["Condition"]["StringEquals"]["aws:PrincipalTag/sentinel-session-id"].as_array()
        })
        .flatten()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The deny document on `role` in moto's default account (URL-decoded), if any.
pub async fn role_deny(moto: &Moto, role: &str) -> Option<String> {
    deny_of(&aws_sdk_iam::Client::new(&moto.sdk_config().await), role).await
}

/// The deny document on `role` as `iam` (any account, any credentials) reads it
/// (URL-decoded), if any.
pub async fn deny_of(iam: &aws_sdk_iam::Client, role: &str) -> Option<String> {
    iam.get_role_policy()
        .role_name(role)
        .policy_name("sentinel-revoked-sessions")
        .send()
        .await
        .ok()
        .map(|out| url_decode(&out.policy_document))
}

/// A string attribute of the session row `id` as stored (`status`, `aws_deny`).
pub async fn stored(moto: &Moto, id: &str, attribute: &str) -> Option<String> {
    let config = moto.sdk_config().await;
    let item = aws_sdk_dynamodb::Client::new(&config)
        .get_item()
        .table_name(TABLE)
        .key("session_id", AttributeValue::S(id.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item.get(attribute).map(|v| v.as_s().unwrap().clone())
}

async fn post(tvm: &Tvm, path: &str, body: &str) -> Value {
    let (status, text) = send(
        Some(&SECURITY),
        "POST",
        &format!("{}{path}", tvm.url),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// A revoke while IAM cannot be reached: layer 1 holds, the row says `pending`, the
/// answer says why; `reconcile` on a TVM that reaches IAM brings the deny and the row to
/// `applied`. (Before, the row said `failed` for an outage that a retry repairs, and the
/// SPEC's `pending` never appeared.)
#[tokio::test]
async fn a_revoke_while_iam_is_unreachable_is_pending_until_reconcile_applies_it() {
    let moto = Moto::start();
    seed(&moto).await;
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let cut_off = Tvm::start(&moto, &[("AWS_ENDPOINT_URL_IAM", nowhere.as_str())]);
    let (status, body) = vend(&cut_off, &ALICE, "dev").await;
    assert_eq!(status, 200, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["SessionId"]
        .as_str()
        .unwrap()
        .to_owned();

    let answer = post(
        &cut_off,
        &format!("/sessions/{id}/revoke"),
        r#"{"reason":"laptop lost"}"#,
    )
    .await;
    assert_eq!(answer["revoked"][0]["status"], "revoked", "{answer}");
    assert_eq!(answer["revoked"][0]["aws_deny"], "pending", "{answer}");
    assert_eq!(answer["aws_deny"][ROLE_ARN]["state"], "pending", "{answer}");
    let reason = answer["aws_deny"][ROLE_ARN]["reason"].as_str().unwrap();
    assert!(reason.contains("iam GetRolePolicy"), "{reason}");
    assert_eq!(
        stored(&moto, &id, "aws_deny").await.as_deref(),
        Some("pending")
    );
    assert_eq!(role_deny(&moto, ROLE).await, None);

    let tvm = Tvm::start(&moto, &[]);
    let answer = post(&tvm, "/sessions/reconcile", "").await;
    assert_eq!(answer["aws_deny"][ROLE_ARN]["state"], "applied", "{answer}");
    assert_eq!(
        deny_ids(&role_deny(&moto, ROLE).await.unwrap()),
        vec![id.clone()]
    );
    assert_eq!(
        stored(&moto, &id, "aws_deny").await.as_deref(),
        Some("applied")
    );
}

/// 300 sessions of one role, revoked at once: their IDs do not fit IAM's inline limit,
/// so the deny becomes the `aws:TokenIssueTime` cut-off, and the answer says so. The
/// newest session was issued on a TVM whose clock runs ahead (5 s and 9.9 ms): the
/// cut-off must not be earlier than it, to the millisecond (before, it was rounded
/// down to the second and missed it).
#[tokio::test]
async fn a_bulk_revoke_past_the_inline_limit_falls_back_to_a_cut_off_covering_the_newest() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let config = moto.sdk_config().await;
    let store = DynamoSessionStore::new(aws_sdk_dynamodb::Client::new(&config), TABLE);
    let mut newest = Utc::now();
    for n in 1..=300 {
        let mut record = record_on(ROLE, n, "alice");
        if n == 300 {
            record.issued_at = (Utc::now() + TimeDelta::seconds(5))
                .with_nanosecond(9_900_000)
                .unwrap();
            newest = record.issued_at;
        }
        store.put_new(&record).await.unwrap();
    }

    let answer = post(
        &tvm,
        "/sessions/revoke",
        r#"{"user":"alice","reason":"offboarded"}"#,
    )
    .await;
    assert_eq!(answer["revoked"].as_array().unwrap().len(), 300);
    let outcome = &answer["aws_deny"][ROLE_ARN];
    assert_eq!(outcome["state"], "applied", "{answer}");
    assert_eq!(outcome["fallback"], true, "{answer}");

    let deny: Value = serde_json::from_str(&role_deny(&moto, ROLE).await.unwrap()).unwrap();
    let statements = deny["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{deny}");
    let cut_off = statements[0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        .as_str()
        .unwrap();
    let cut_off = chrono::DateTime::parse_from_rfc3339(cut_off)
        .unwrap()
        .with_timezone(&Utc);
    assert!(cut_off >= newest, "{cut_off} < {newest}");
    assert!(cut_off - newest < TimeDelta::milliseconds(1), "{cut_off}");
}

/// With moto checking signatures and IAM policies, a vended session's credentials work
/// until an admin revokes the session through the TVM; then the role's deny refuses
/// them. moto resolves no `aws:PrincipalTag` condition key, so it applies the deny to
/// every session of the role: that it spares the other sessions is shown by the deny
/// document's unit tests (revocation/src/document.rs) and cannot be shown here.
#[tokio::test]
async fn the_credentials_of_a_revoked_session_are_refused_by_iam() {
    let aws = enforcing::start("tvm").await;
    seed_with(&aws.config, "arn:aws:iam::123456789012:user/tvm").await;
    aws_sdk_iam::Client::new(&aws.config)
        .put_role_policy()
        .role_name(ROLE)
        .policy_name("work")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:ListTables","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let tvm = Tvm::start_with_args(&aws.moto, &["--account-id", ACCOUNT], &aws.key_env());
    let (status, body) = vend(&tvm, &ALICE, "dev").await;
    assert_eq!(status, 200, "{body}");
    let vended: Value = serde_json::from_str(&body).unwrap();
    let session = enforcing::signed(
        &aws.moto,
        vended["AccessKeyId"].as_str().unwrap(),
        vended["SecretAccessKey"].as_str().unwrap(),
        vended["SessionToken"].as_str(),
    );
    let work = aws_sdk_dynamodb::Client::new(&session);
    work.list_tables()
        .send()
        .await
        .expect("the session's credentials work before the revoke");

    let id = vended["SessionId"].as_str().unwrap();
    let answer = post(
        &tvm,
        &format!("/sessions/{id}/revoke"),
        r#"{"reason":"key leaked"}"#,
    )
    .await;
    assert_eq!(answer["aws_deny"][ROLE_ARN]["state"], "applied", "{answer}");
    // The deny names exactly this session (read with the signed principal: moto in auth
    // mode refuses unsigned reads).
    let iam = aws_sdk_iam::Client::new(&aws.config);
    let deny = deny_of(&iam, ROLE).await.expect("the role's deny");
    assert_eq!(deny_ids(&deny), vec![id.to_owned()]);
    let refused = work.list_tables().send().await.unwrap_err();
    let text = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&refused));
    assert!(text.contains("AccessDenied"), "{text}");

    // Control: it is the deny that refuses, not a changed allow or broken credentials.
    iam.delete_role_policy()
        .role_name(ROLE)
        .policy_name("sentinel-revoked-sessions")
        .send()
        .await
        .unwrap();
    work.list_tables()
        .send()
        .await
        .expect("without the deny the same credentials work again");
}

/// A session whose protected role no longer exists: IAM answers NoSuchEntity, which no
/// retry repairs, so the row says `failed` with the reason (before, every answer but
/// access denied counted as an outage and left the row `pending`).
#[tokio::test]
async fn a_missing_role_is_failed_not_pending() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let config = moto.sdk_config().await;
    let store = DynamoSessionStore::new(aws_sdk_dynamodb::Client::new(&config), TABLE);
    let record = record_on("SentinelProtected-gone", 1, "alice");
    store.put_new(&record).await.unwrap();
    let id = record.session_id.to_string();

    let answer = post(
        &tvm,
        &format!("/sessions/{id}/revoke"),
        r#"{"reason":"role deleted"}"#,
    )
    .await;
    let role = record.role_arn.to_string();
    assert_eq!(answer["aws_deny"][&role]["state"], "failed", "{answer}");
    let reason = answer["aws_deny"][&role]["reason"].as_str().unwrap();
    assert!(reason.contains("NoSuchEntity"), "{reason}");
    assert_eq!(
        stored(&moto, &id, "aws_deny").await.as_deref(),
        Some("failed")
    );
    assert_eq!(
        stored(&moto, &id, "status").await.as_deref(),
        Some("revoked")
    );
}
