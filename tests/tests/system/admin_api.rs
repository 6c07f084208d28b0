//! The admin API through `sentinel-tvm serve` against moto: the admin policy in SSM
//! decides, the TVM revokes in the table and writes the protected role's deny.

#![cfg(test)]

use serde_json::Value;
use system_tests::Moto;

use crate::revocation::{role_deny, stored};
use crate::tvm::{ALICE, SECURITY, Tvm, error_code, seed, send, vend};

const ROLE: &str = "SentinelProtected-dev";

#[tokio::test]
async fn an_admin_allowed_by_the_admin_policy_revokes_and_an_engineer_is_refused() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let (status, body) = vend(&tvm, &ALICE, "dev").await;
    assert_eq!(status, 200, "{body}");
    let vended: Value = serde_json::from_str(&body).unwrap();
    let id = vended["SessionId"].as_str().unwrap().to_owned();
    let revoke = format!("{}/sessions/{id}/revoke", tvm.url);

    // An engineer is refused by the admin policy's deny rule, and nothing changes.
    let (status, body) = send(Some(&ALICE), "POST", &revoke, br#"{"reason":"mine"}"#).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(error_code(&body), "ADMIN_DENY");
    assert!(body.contains("engineers-may-not"), "{body}");
    assert_eq!(
        stored(&moto, &id, "status").await.as_deref(),
        Some("active")
    );
    assert_eq!(role_deny(&moto, ROLE).await, None);

    // The security team may.
    let (status, body) = send(
        Some(&SECURITY),
        "POST",
        &revoke,
        br#"{"reason":"laptop lost"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["revoked"][0]["revoked_by"], SECURITY.arn);
    assert_eq!(answer["revoked"][0]["aws_deny"], "applied", "{body}");
    let role_arn = "arn:aws:iam::123456789012:role/SentinelProtected-dev";
    assert_eq!(answer["aws_deny"][role_arn]["state"], "applied", "{body}");
    assert_eq!(
        stored(&moto, &id, "status").await.as_deref(),
        Some("revoked")
    );
    let deny = role_deny(&moto, ROLE).await.expect("the role's deny");
    assert!(deny.contains(&id), "{deny}");

    // The admin sees it; the list is newest first and paginated.
    let (status, body) = send(
        Some(&SECURITY),
        "GET",
        &format!("{}/sessions/{id}", tvm.url),
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let shown: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["status"], "revoked");
    let (status, body) = send(
        Some(&SECURITY),
        "GET",
        &format!("{}/sessions?user=alice&limit=10", tvm.url),
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed["sessions"][0]["session_id"], id.as_str());
    assert!(listed["next"].is_null());

    let (status, body) = send(
        Some(&SECURITY),
        "POST",
        &format!("{}/sessions/reconcile", tvm.url),
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reconciled: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        reconciled["aws_deny"][role_arn]["state"], "applied",
        "{body}"
    );
}
