//! The item conversions and cooldown keys, checked without a table.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::TimeDelta;
use sentinel_aws_dynamodb::Item;
use sentinel_types::SessionId;

use super::RETENTION_DAYS;
use super::breakglass::cooldown_key;
use super::items::{event_from_item, event_item, n, request_from_item, request_item, s};
use crate::contract::{approval, closure, event, request, review};
use crate::{BreakGlassEvent, Request, RequestId, RequestStatus, ReviewStatus, StoreError};

fn full_request() -> Request {
    let mut r = request(1, "carol", "prod");
    let mut first = approval(&r, "alice", 0, 5);
    first.comment = Some("ok".into());
    r.approvals = vec![first, approval(&r, "bob", 1, 7)];
    r.status = RequestStatus::Revoked;
    r.approved_until = Some(r.created_at + TimeDelta::days(3));
    r.closure = Some(closure(&r, "alice", 30));
    r.version = 4;
    r
}

fn full_event() -> BreakGlassEvent {
    let mut e = event(1, "oncall-1", "prod");
    e.session_id = Some(SessionId::parse(&"ab".repeat(16)).unwrap());
    e.status = ReviewStatus::Reviewed;
    e.review = Some(review(&e, "lead"));
    e
}

#[test]
fn items_round_trip_full_and_bare_records() {
    for r in [full_request(), request(2, "deployer/build-42", "dev")] {
        assert_eq!(request_from_item(&request_item(&r)).unwrap(), r);
    }
    for e in [full_event(), event(2, "a#b:c", "dev")] {
        assert_eq!(event_from_item(&event_item(&e)).unwrap(), e);
    }
}

#[test]
fn request_item_has_the_documented_names_types_and_ttl() {
    let r = full_request();
    let item = request_item(&r);
    let mut names: Vec<_> = item.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "approvals",
            "approved_until",
            "closure",
            "created_at",
            "duration_seconds",
            "expires_at",
            "principal_arn",
            "profile",
            "reason",
            "request_id",
            "requester",
            "rule",
            "status",
            "ttl",
            "version",
        ]
    );
    assert_eq!(
        item["created_at"].as_s().unwrap(),
        "2026-11-22T13:50:01.123456789Z"
    );
    assert_eq!(item["version"].as_n().unwrap(), "4");
    let first = item["approvals"].as_l().unwrap()[0].as_m().unwrap();
    assert_eq!(first["group"].as_n().unwrap(), "0");
    assert_eq!(first["comment"].as_s().unwrap(), "ok");
    assert!(
        !item["approvals"].as_l().unwrap()[1]
            .as_m()
            .unwrap()
            .contains_key("comment")
    );
    assert_eq!(
        item["closure"].as_m().unwrap()["by"].as_s().unwrap(),
        "alice"
    );
    // The window ends after the expiry here: the later of the two plus the retention.
    let end = r.approved_until.unwrap().timestamp();
    assert_eq!(
        item["ttl"].as_n().unwrap(),
        &(end + RETENTION_DAYS * 86_400).to_string()
    );

    let bare = request_item(&request(2, "carol", "prod"));
    for absent in ["approved_until", "closure"] {
        assert!(!bare.contains_key(absent), "{absent}");
    }
    assert_eq!(bare["approvals"], AttributeValue::L(Vec::new()));
    let expires = request(2, "carol", "prod").expires_at.timestamp();
    assert_eq!(
        bare["ttl"].as_n().unwrap(),
        &(expires + RETENTION_DAYS * 86_400).to_string()
    );
}

#[test]
fn event_item_is_an_indexed_event_and_a_cooldown_key_is_not_an_id() {
    let item = event_item(&full_event());
    assert_eq!(item["kind"].as_s().unwrap(), "event");
    assert_eq!(item["status"].as_s().unwrap(), "reviewed");
    assert_eq!(item["review"].as_m().unwrap()["by"].as_s().unwrap(), "lead");
    let bare = event_item(&event(2, "oncall", "prod"));
    for absent in ["session_id", "review"] {
        assert!(!bare.contains_key(absent), "{absent}");
    }
    let key = cooldown_key("oncall", &"prod".parse().unwrap());
    assert_eq!(key, "cooldown#prod#oncall");
    assert!(RequestId::parse(&key).is_err());
}

#[test]
fn cooldown_keys_are_distinct_for_distinct_pairs() {
    let pairs = [
        ("a#b", "c"),
        ("a", "b"),
        ("b#a", "c"),
        ("c#a#b", "x"),
        ("a", "c"),
        ("a:b", "c"),
        ("", "a"),
        ("a#", "b"),
    ];
    let keys: std::collections::BTreeSet<_> = pairs
        .iter()
        .map(|(user, profile)| cooldown_key(user, &profile.parse().unwrap()))
        .collect();
    assert_eq!(keys.len(), pairs.len(), "{keys:?}");
}

#[test]
fn undecodable_rows_are_corrupt_and_name_the_attribute() {
    let good = request_item(&full_request());
    let mut bad_approval = good.clone();
    bad_approval.insert(
        "approvals".into(),
        AttributeValue::L(vec![AttributeValue::M(Item::from([(
            "approver".to_owned(),
            s("alice"),
        )]))]),
    );
    let cases: [(&str, Option<AttributeValue>, &str); 8] = [
        ("requester", None, "attribute `requester` is missing"),
        (
            "created_at",
            Some(s("noon")),
            "attribute `created_at` is not an RFC 3339",
        ),
        (
            "status",
            Some(s("open")),
            "attribute `status` is not a request status",
        ),
        (
            "version",
            Some(n("-1")),
            "attribute `version` is not a whole number",
        ),
        (
            "version",
            Some(s("1")),
            "attribute `version` is not a number",
        ),
        (
            "approvals",
            Some(s("[]")),
            "attribute `approvals` is not a list",
        ),
        ("closure", Some(s("{}")), "attribute `closure` is not a map"),
        ("profile", Some(s("a/b")), "attribute `profile`"),
    ];
    for (attribute, value, expected) in cases {
        let mut item = good.clone();
        match value {
            Some(v) => item.insert(attribute.to_owned(), v),
            None => item.remove(attribute),
        };
        match request_from_item(&item) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains(expected), "{message}");
                assert!(
                    message.starts_with("request `00000000000000000000000000000001`"),
                    "{message}"
                );
            }
            other => panic!("{attribute}: expected Corrupt, got {other:?}"),
        }
    }
    match request_from_item(&bad_approval) {
        Err(StoreError::Corrupt(message)) => {
            assert!(
                message.contains("attribute `approvals[0].principal_arn` is missing"),
                "{message}"
            )
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let mut event = event_item(&full_event());
    event.insert("session_id".into(), s("nope"));
    assert!(matches!(
        event_from_item(&event),
        Err(StoreError::Corrupt(m)) if m.contains("`session_id` is not a session id")
    ));
}
