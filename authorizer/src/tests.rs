//! The decision table against the in-memory store, with saved API Gateway events.

use chrono::{Duration, TimeZone};
use sessions::{InMemorySessionStore, Revocation};

use super::*;

const ID: &str = "00112233445566778899aabbccddeeff";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn event(name: &str) -> Value {
    let path = format!("{}/tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn record(id: &str, expires_at: DateTime<Utc>) -> SessionRecord {
    let mut record = sessions::contract::record(1, "alice", "prod");
    record.session_id = SessionId::parse(id).unwrap();
    record.issued_at = expires_at - Duration::hours(1);
    record.expires_at = expires_at;
    record
}

async fn store_with_active() -> InMemorySessionStore {
    let store = InMemorySessionStore::default();
    store
        .put_new(&record(ID, now() + Duration::minutes(30)))
        .await
        .unwrap();
    store
}

fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    let headers = event["headers"].as_object_mut().unwrap();
    headers.retain(|k, _| !k.eq_ignore_ascii_case(SESSION_HEADER));
    headers.insert(name.into(), value.into());
    if let Some(multi) = event
        .get_mut("multiValueHeaders")
        .and_then(Value::as_object_mut)
    {
        multi.retain(|k, _| !k.eq_ignore_ascii_case(SESSION_HEADER));
    }
    event
}

#[tokio::test]
async fn active_session_is_allowed_with_context_in_both_formats() {
    let store = store_with_active().await;
    let v2 = event("http-api-v2.json");
    let decision = decide(&store, &v2, now()).await;
    assert!(matches!(decision, Decision::Allow(_)), "{decision:?}");
    assert_eq!(
        response(&v2, &decision),
        json!({"isAuthorized": true, "context": {
            "session_id": ID, "user": "alice", "profile": "prod",
            "principal_arn": "arn:aws:iam::111122223333:user/alice"}})
    );

    let rest = event("rest-request.json");
    let decision = decide(&store, &rest, now()).await;
    let body = response(&rest, &decision);
    assert_eq!(body["principalId"], "alice");
    assert_eq!(body["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(
        body["policyDocument"]["Statement"][0]["Resource"],
        "arn:aws:execute-api:us-east-1:111122223333:abc123defg/prod/GET/orders"
    );
    assert_eq!(body["context"]["session_id"], ID);
}

#[tokio::test]
async fn header_name_is_case_insensitive_and_query_parameter_works() {
    let store = store_with_active().await;
    for name in [
        "X-SENTINEL-SESSION-ID",
        "x-sentinel-session-id",
        "X-Sentinel-Session-Id",
    ] {
        let e = with_header(event("http-api-v2.json"), name, ID);
        assert!(
            matches!(decide(&store, &e, now()).await, Decision::Allow(_)),
            "{name}"
        );
    }
    let mut e = event("http-api-v2.json");
    e["headers"].as_object_mut().unwrap().remove(SESSION_HEADER);
    e["queryStringParameters"] = json!({ SESSION_QUERY: ID });
    assert!(matches!(
        decide(&store, &e, now()).await,
        Decision::Allow(_)
    ));
}

#[tokio::test]
async fn missing_malformed_and_unknown_sessions_are_denied() {
    let store = store_with_active().await;
    let mut missing = event("http-api-v2.json");
    missing["headers"]
        .as_object_mut()
        .unwrap()
        .remove(SESSION_HEADER);
    assert_eq!(
        decide(&store, &missing, now()).await,
        Decision::Deny {
            reason: "no session id"
        }
    );

    for bad in [
        "",
        "xyz",
        "00112233445566778899AABBCCDDEEFF",
        &format!("{ID}0"),
        "../../etc/passwd",
    ] {
        let e = with_header(event("http-api-v2.json"), SESSION_HEADER, bad);
        let d = decide(&store, &e, now()).await;
        assert!(matches!(d, Decision::Deny { .. }), "{bad:?}");
        assert_eq!(response(&e, &d), json!({"isAuthorized": false}));
    }
    let unknown = with_header(event("http-api-v2.json"), SESSION_HEADER, &"f".repeat(32));
    assert_eq!(
        decide(&store, &unknown, now()).await,
        Decision::Deny {
            reason: "unknown session"
        }
    );
}

#[tokio::test]
async fn expired_and_revoked_sessions_are_denied() {
    let store = store_with_active().await;
    let e = event("rest-request.json");
    let later = now() + Duration::minutes(31);
    let d = decide(&store, &e, later).await;
    assert_eq!(
        d,
        Decision::Deny {
            reason: "expired session"
        }
    );
    let body = response(&e, &d);
    assert_eq!(body["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert!(body.get("context").is_none());

    let revocation = Revocation {
        by: "arn:aws:iam::111122223333:user/admin".into(),
        reason: "laptop stolen".into(),
        at: now(),
    };
    store
        .revoke(&SessionId::parse(ID).unwrap(), &revocation)
        .await
        .unwrap();
    assert_eq!(
        decide(&store, &e, now()).await,
        Decision::Deny {
            reason: "revoked session"
        }
    );
}

#[tokio::test]
async fn store_outage_is_a_deny_not_an_error() {
    let store = store_with_active().await;
    store.set_unavailable(true);
    let e = event("http-api-v2.json");
    let d = decide(&store, &e, now()).await;
    assert_eq!(
        d,
        Decision::Deny {
            reason: "session store error"
        }
    );
    assert_eq!(response(&e, &d), json!({"isAuthorized": false}));
}

#[test]
fn garbage_events_never_panic_and_deny() {
    for e in [
        json!(null),
        json!([]),
        json!({"headers": 5}),
        json!({"headers": {"x-sentinel-session-id": 7}}),
    ] {
        assert_eq!(session_id_from(&e), None);
        let body = response(
            &e,
            &Decision::Deny {
                reason: "no session id",
            },
        );
        assert_eq!(body["policyDocument"]["Statement"][0]["Effect"], "Deny");
    }
}

#[test]
fn log_line_never_carries_more_than_public_fields() {
    let e = event("http-api-v2.json");
    let line = log_line(&e, &Decision::Allow(Box::new(record(ID, now()))), now());
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["effect"], "allow");
    assert_eq!(v["request_id"], "AuthzV2RequestId=");
    assert!(!line.contains("ASIAEXAMPLE"));
}
