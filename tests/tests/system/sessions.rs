//! The DynamoDB session store against real DynamoDB engines: moto and AWS's DynamoDB
//! Local. Every behaviour runs against both (`sessions::moto::*`,
//! `sessions::dynamodb_local::*`), so the adapter does not lean on one emulator's quirks.

// Always true in a test binary; it marks the module as test code, where clippy.toml lets
// helpers unwrap and panic.
#![cfg(test)]

use std::collections::BTreeSet;
use std::time::Duration;

use ::sessions::{
    DynamoSessionStore, ListQuery, Revocation, RevokeOutcome, SessionId, SessionRecord,
    SessionStore, Status, StoreError, create_table,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeyType, ProjectionType, TimeToLiveStatus,
};
use chrono::{DateTime, TimeDelta, Utc};
use system_tests::{DynamoDbLocal, Moto, free_port, sdk_config_for};

const TABLE: &str = "sentinel-sessions";

#[derive(Clone, Copy, Debug)]
enum Backend {
    Moto,
    DynamoDbLocal,
}

/// Keeps the server alive for the test's duration.
#[expect(
    dead_code,
    reason = "held only so that the server lives as long as the test"
)]
enum Server {
    Moto(Moto),
    DynamoDbLocal(DynamoDbLocal),
}

/// Starts `backend`, creates the session table and returns a client for it.
async fn table(backend: Backend) -> (Server, Client) {
    let (server, config) = match backend {
        Backend::Moto => {
            let moto = Moto::start();
            let config = moto.sdk_config().await;
            (Server::Moto(moto), config)
        }
        Backend::DynamoDbLocal => {
            let local = DynamoDbLocal::start();
            let config = local.sdk_config().await;
            (Server::DynamoDbLocal(local), config)
        }
    };
    let client = Client::new(&config);
    create_table(&client, TABLE).await.unwrap();
    (server, client)
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A record with every optional attribute set; `n` orders `issued_at` and names the request.
fn record(n: u32, user: &str, profile: &str) -> SessionRecord {
    let issued_at = at("2026-11-22T14:15:00.123456789Z") + TimeDelta::seconds(i64::from(n));
    let expires_at = at("2026-11-22T15:15:00Z") + TimeDelta::seconds(i64::from(n));
    SessionRecord {
        session_id: SessionId::random().unwrap(),
        principal_arn: format!("arn:aws:iam::111122223333:user/{user}"),
        account_id: "111122223333".into(),
        user: user.into(),
        profile: profile.into(),
        role_arn: format!("arn:aws:iam::111122223333:role/SentinelProtected-{profile}"),
        source_identity: format!("sentinel={user}"),
        access_key_id: format!("ASIAEXAMPLE{n:09}"),
        rule: "oncall".into(),
        status: Status::Active,
        issued_at,
        expires_at,
        source_ip: Some("203.0.113.7".into()),
        user_agent: Some("aws-cli/2.17 sentinel/0.1".into()),
        request_id: format!("req-{n}"),
        revoked_at: None,
        revoked_by: None,
        revoked_reason: None,
        ttl: SessionRecord::ttl_for(expires_at, 90),
    }
}

fn revocation(by: &str, minute: i64) -> Revocation {
    Revocation {
        by: by.into(),
        reason: format!("revoked by {by}"),
        at: at("2026-11-22T14:30:00.5Z") + TimeDelta::minutes(minute),
    }
}

async fn raw_item(
    client: &Client,
    id: &SessionId,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    client
        .get_item()
        .table_name(TABLE)
        .key("session_id", AttributeValue::S(id.as_str().into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

async fn create_table_is_idempotent_with_both_indexes_and_ttl(backend: Backend) {
    let (_server, client) = table(backend).await;
    create_table(&client, TABLE).await.unwrap();

    let description = client
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<_> = description
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
        .collect();
    assert_eq!(keys, [("session_id".to_owned(), KeyType::Hash)]);
    assert_eq!(
        description
            .billing_mode_summary()
            .and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let mut indexes: Vec<_> = description
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            let keys: Vec<_> = index
                .key_schema()
                .iter()
                .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
                .collect();
            let projection = index
                .projection()
                .and_then(|p| p.projection_type())
                .cloned();
            (index.index_name().unwrap().to_owned(), keys, projection)
        })
        .collect();
    indexes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        indexes,
        [
            (
                "by-profile".to_owned(),
                vec![
                    ("profile".to_owned(), KeyType::Hash),
                    ("issued_at".to_owned(), KeyType::Range)
                ],
                Some(ProjectionType::All)
            ),
            (
                "by-user".to_owned(),
                vec![
                    ("user".to_owned(), KeyType::Hash),
                    ("issued_at".to_owned(), KeyType::Range)
                ],
                Some(ProjectionType::All)
            ),
        ]
    );

    let ttl = client
        .describe_time_to_live()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("ttl"));
}

async fn put_new_then_get_round_trips_every_attribute(backend: Backend) {
    let (_server, client) = table(backend).await;
    let store = DynamoSessionStore::new(client.clone(), TABLE);

    let full = record(1, "alice", "prod");
    let mut minimal = record(2, "bob", "dev");
    minimal.source_ip = None;
    minimal.user_agent = None;
    store.put_new(&full).await.unwrap();
    store.put_new(&minimal).await.unwrap();
    assert_eq!(
        store.get(&full.session_id).await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        store.get(&minimal.session_id).await.unwrap(),
        Some(minimal.clone())
    );
    assert_eq!(
        store.get(&SessionId::random().unwrap()).await.unwrap(),
        None
    );

    // The raw row: SPEC §6 names and types, as another tool reading the table sees them.
    let item = raw_item(&client, &full.session_id).await.unwrap();
    let s = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        other => panic!("`{name}` is not a string attribute: {other:?}"),
    };
    let n = |name: &str| match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse::<i64>().unwrap(),
        other => panic!("`{name}` is not a number attribute: {other:?}"),
    };
    assert_eq!(s("session_id"), full.session_id.as_str());
    assert_eq!(s("principal_arn"), "arn:aws:iam::111122223333:user/alice");
    assert_eq!(s("account_id"), "111122223333");
    assert_eq!(s("user"), "alice");
    assert_eq!(s("profile"), "prod");
    assert_eq!(
        s("role_arn"),
        "arn:aws:iam::111122223333:role/SentinelProtected-prod"
    );
    assert_eq!(s("source_identity"), "sentinel=alice");
    assert_eq!(s("access_key_id"), "ASIAEXAMPLE000000001");
    assert_eq!(s("rule"), "oncall");
    assert_eq!(s("status"), "active");
    assert_eq!(s("issued_at"), "2026-11-22T14:15:01.123456789Z");
    assert_eq!(s("expires_at"), "2026-11-22T15:15:01.000000000Z");
    assert_eq!(n("expires_at_epoch"), full.expires_at.timestamp());
    assert_eq!(s("source_ip"), "203.0.113.7");
    assert_eq!(s("user_agent"), "aws-cli/2.17 sentinel/0.1");
    assert_eq!(s("request_id"), "req-1");
    assert_eq!(n("ttl"), full.expires_at.timestamp() + 90 * 86_400);
    assert_eq!(
        item.len(),
        17,
        "unexpected attributes: {:?}",
        item.keys().collect::<BTreeSet<_>>()
    );

    let item = raw_item(&client, &minimal.session_id).await.unwrap();
    for absent in [
        "source_ip",
        "user_agent",
        "revoked_at",
        "revoked_by",
        "revoked_reason",
    ] {
        assert!(
            !item.contains_key(absent),
            "`{absent}` stored for an absent value"
        );
    }

    // A second write with the same id is refused and changes nothing.
    let mut duplicate = record(3, "mallory", "prod");
    duplicate.session_id = full.session_id.clone();
    match store.put_new(&duplicate).await {
        Err(StoreError::AlreadyExists(id)) => assert_eq!(id, full.session_id),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(store.get(&full.session_id).await.unwrap(), Some(full));
}

async fn revoke_is_idempotent_and_keeps_the_first_revocation(backend: Backend) {
    let (_server, client) = table(backend).await;
    let store = DynamoSessionStore::new(client.clone(), TABLE);
    let session = record(1, "alice", "prod");
    store.put_new(&session).await.unwrap();

    let first = revocation("arn:aws:iam::111122223333:user/admin", 0);
    let revoked = match store.revoke(&session.session_id, &first).await.unwrap() {
        RevokeOutcome::Revoked(record) => record,
        other => panic!("expected Revoked, got {other:?}"),
    };
    let expected = SessionRecord {
        status: Status::Revoked,
        revoked_at: Some(first.at),
        revoked_by: Some(first.by.clone()),
        revoked_reason: Some(first.reason.clone()),
        ..session.clone()
    };
    assert_eq!(revoked, expected);
    assert_eq!(
        store.get(&session.session_id).await.unwrap(),
        Some(expected.clone())
    );
    assert!(!expected.is_active_at(session.issued_at));

    let item = raw_item(&client, &session.session_id).await.unwrap();
    assert_eq!(
        item.get("status"),
        Some(&AttributeValue::S("revoked".into()))
    );
    assert_eq!(
        item.get("revoked_at"),
        Some(&AttributeValue::S("2026-11-22T14:30:00.500000000Z".into()))
    );
    assert_eq!(
        item.get("revoked_by"),
        Some(&AttributeValue::S(first.by.clone()))
    );

    let second = revocation("arn:aws:iam::111122223333:user/other-admin", 10);
    assert_eq!(
        store.revoke(&session.session_id, &second).await.unwrap(),
        RevokeOutcome::AlreadyRevoked(expected.clone())
    );
    assert_eq!(
        store.get(&session.session_id).await.unwrap(),
        Some(expected)
    );

    let unknown = SessionId::random().unwrap();
    match store.revoke(&unknown, &first).await {
        Err(StoreError::NotFound(id)) => assert_eq!(id, unknown),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(
        raw_item(&client, &unknown).await.is_none(),
        "revoking an unknown id created a row"
    );
}

/// Every page of `query`, as the request numbers of their records.
async fn pages(store: &DynamoSessionStore, mut query: ListQuery) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    for _ in 0..20 {
        let page = store.list(&query).await.unwrap();
        assert!(page.records.len() <= query.limit.unwrap_or(ListQuery::DEFAULT_LIMIT));
        pages.push(
            page.records
                .iter()
                .map(|r| r.request_id.trim_start_matches("req-").to_owned())
                .collect(),
        );
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return pages,
        }
    }
    panic!("more than 20 pages: {pages:?}");
}

fn flat(pages: Vec<Vec<String>>) -> Vec<String> {
    pages.into_iter().flatten().collect()
}

fn numbers(ns: &[u32]) -> Vec<String> {
    ns.iter().map(ToString::to_string).collect()
}

async fn list_pages_through_every_match_newest_first(backend: Backend) {
    let (_server, client) = table(backend).await;
    let store = DynamoSessionStore::new(client, TABLE);
    // alice: 1..=5 alternating prod/dev; bob: 6 on prod. 3 is revoked.
    for n in 1..=5 {
        store
            .put_new(&record(n, "alice", if n % 2 == 1 { "prod" } else { "dev" }))
            .await
            .unwrap();
    }
    store.put_new(&record(6, "bob", "prod")).await.unwrap();
    let third = store
        .list(&ListQuery {
            user: Some("alice".into()),
            ..ListQuery::default()
        })
        .await
        .unwrap()
        .records
        .into_iter()
        .find(|r| r.request_id == "req-3")
        .unwrap();
    store
        .revoke(&third.session_id, &revocation("admin", 0))
        .await
        .unwrap();

    let by_user = ListQuery {
        user: Some("alice".into()),
        limit: Some(2),
        ..ListQuery::default()
    };
    let user_pages = pages(&store, by_user.clone()).await;
    assert!(user_pages.len() >= 3, "{user_pages:?}");
    assert_eq!(flat(user_pages), numbers(&[5, 4, 3, 2, 1]));

    let by_profile = ListQuery {
        profile: Some("prod".into()),
        limit: Some(2),
        ..ListQuery::default()
    };
    assert_eq!(
        flat(pages(&store, by_profile).await),
        numbers(&[6, 5, 3, 1])
    );

    let revoked = ListQuery {
        status: Some(Status::Revoked),
        ..by_user.clone()
    };
    assert_eq!(flat(pages(&store, revoked).await), numbers(&[3]));
    let active = ListQuery {
        status: Some(Status::Active),
        ..by_user.clone()
    };
    assert_eq!(flat(pages(&store, active).await), numbers(&[5, 4, 2, 1]));
    let user_and_profile = ListQuery {
        profile: Some("dev".into()),
        ..by_user.clone()
    };
    assert_eq!(
        flat(pages(&store, user_and_profile).await),
        numbers(&[4, 2])
    );

    // Without user or profile the whole table is scanned, still page by page.
    let everything = ListQuery {
        limit: Some(2),
        ..ListQuery::default()
    };
    let mut all = flat(pages(&store, everything.clone()).await);
    all.sort();
    assert_eq!(all, numbers(&[1, 2, 3, 4, 5, 6]));
    let mut active_everywhere = flat(
        pages(
            &store,
            ListQuery {
                status: Some(Status::Active),
                ..everything
            },
        )
        .await,
    );
    active_everywhere.sort();
    assert_eq!(active_everywhere, numbers(&[1, 2, 4, 5, 6]));

    // A cursor only continues the query that produced it.
    let cursor = store.list(&by_user).await.unwrap().next_cursor.unwrap();
    let foreign = ListQuery {
        user: Some("bob".into()),
        cursor: Some(cursor),
        ..ListQuery::default()
    };
    assert!(matches!(
        store.list(&foreign).await,
        Err(StoreError::InvalidQuery(_))
    ));
}

/// Generates one test per backend for each behaviour above.
macro_rules! against_every_backend {
    ($($behaviour:ident),* $(,)?) => {
        mod moto {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    super::$behaviour(super::Backend::Moto).await;
                }
            )*
        }
        mod dynamodb_local {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    super::$behaviour(super::Backend::DynamoDbLocal).await;
                }
            )*
        }
    };
}

against_every_backend!(
    create_table_is_idempotent_with_both_indexes_and_ttl,
    put_new_then_get_round_trips_every_attribute,
    revoke_is_idempotent_and_keeps_the_first_revocation,
    list_pages_through_every_match_newest_first,
);

/// A store whose endpoint never answers properly fails every call with `Unavailable`,
/// promptly, instead of panicking or hanging.
async fn assert_every_call_is_unavailable(endpoint: &str) {
    let config = sdk_config_for(endpoint).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&config)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(1))
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    let client = Client::from_conf(config);
    let store = DynamoSessionStore::new(client.clone(), TABLE);
    let session = record(1, "alice", "prod");
    let calls = async {
        let results = [
            store.put_new(&session).await.err(),
            store.get(&session.session_id).await.err(),
            store
                .revoke(&session.session_id, &revocation("admin", 0))
                .await
                .err(),
            store.list(&ListQuery::default()).await.err(),
            create_table(&client, TABLE).await.err(),
        ];
        for (call, result) in ["put_new", "get", "revoke", "list", "create_table"]
            .into_iter()
            .zip(results)
        {
            match result {
                Some(StoreError::Unavailable(message)) => {
                    assert!(
                        message.contains(&format!("table `{TABLE}`")),
                        "{call}: {message}"
                    );
                }
                other => panic!("{call}: expected Unavailable, got {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), calls)
        .await
        .expect("store calls hung");
}

#[tokio::test]
async fn store_on_a_closed_port_is_unavailable() {
    // Bound, then released: nothing listens there.
    assert_every_call_is_unavailable(&format!("http://127.0.0.1:{}", free_port())).await;
}

#[tokio::test]
async fn store_on_a_silent_server_is_unavailable() {
    // Accepts connections (the kernel queues them) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    assert_every_call_is_unavailable(&endpoint).await;
    drop(silent);
}

#[tokio::test]
async fn the_table_is_visible_to_the_aws_cli_and_gone_after_a_moto_reset() {
    let moto = Moto::start();
    let client = Client::new(&moto.sdk_config().await);
    create_table(&client, TABLE).await.unwrap();

    // The environment the harness gives child processes is all the AWS CLI needs.
    let aws = system_tests::Venv::ensure().join("aws");
    let list_tables = || {
        let output = std::process::Command::new(&aws)
            .args(["dynamodb", "list-tables", "--output", "json"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(moto.env())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        body["TableNames"].clone()
    };
    assert_eq!(list_tables(), serde_json::json!([TABLE]));

    moto.reset();
    assert_eq!(list_tables(), serde_json::json!([]));
}
