//! The DynamoDB session store against real DynamoDB engines: moto and AWS's DynamoDB
//! Local. The session-store contract (`sessions::contract`, also run on the in-memory
//! fake) and the adapter's own behaviours run against both (`sessions::moto::*`,
//! `sessions::dynamodb_local::*`), so neither the adapter nor the fake leans on one
//! engine's quirks.

// Always true in a test binary; it marks the module as test code, where clippy.toml lets
// helpers unwrap and panic.
#![cfg(test)]

use std::collections::BTreeSet;
use std::time::Duration;

use ::sessions::{
    DynamoSessionStore, ListQuery, SessionId, SessionRecord, SessionStore, StoreError, create_table,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeyType, ProjectionType, TimeToLiveStatus,
};
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

/// A record with every optional attribute set (see `sessions::contract::record`).
fn record(n: u32, user: &str, profile: &str) -> SessionRecord {
    sessions::contract::record(n, user, profile)
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

async fn create_table_is_idempotent_with_its_indexes_and_ttl(backend: Backend) {
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
            (
                "revoked-by-role".to_owned(),
                vec![
                    ("revoked_role_arn".to_owned(), KeyType::Hash),
                    ("expires_at_epoch".to_owned(), KeyType::Range)
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

async fn put_new_writes_the_spec_attributes(backend: Backend) {
    let (_server, client) = table(backend).await;
    let store = DynamoSessionStore::new(client.clone(), TABLE);

    let full = record(1, "alice", "prod");
    let mut minimal = record(2, "bob", "dev");
    minimal.source_ip = None;
    minimal.user_agent = None;
    store.put_new(&full).await.unwrap();
    store.put_new(&minimal).await.unwrap();

    // The raw row: docs/sessions.md names and types, as another tool reading the table sees them.
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
    assert_eq!(s("access_key_id"), "ASIAEXAMPLEEXAMPLE01");
    assert_eq!(s("rule"), "oncall");
    assert_eq!(s("status"), "active");
    assert_eq!(s("issued_at"), "2026-11-22T14:15:01.123456789Z");
    assert_eq!(s("expires_at"), "2026-11-22T14:30:00.000000000Z");
    assert_eq!(n("expires_at_epoch"), full.expires_at.timestamp());
    assert_eq!(s("source_ip"), "203.0.113.7");
    assert_eq!(s("user_agent"), "aws-cli/2.17 sentinel/0.1");
    assert_eq!(s("request_id"), "req-1");
    assert_eq!(s("approval_id"), format!("{:032x}", 1));
    assert_eq!(n("ttl"), full.expires_at.timestamp() + 90 * 86_400);
    assert_eq!(
        item.len(),
        18,
        "unexpected attributes: {:?}",
        item.keys().collect::<BTreeSet<_>>()
    );

    let item = raw_item(&client, &minimal.session_id).await.unwrap();
    for absent in [
        "source_ip",
        "user_agent",
        "approval_id",
        "breakglass_id",
        "revoked_at",
        "revoked_by",
        "revoked_reason",
    ] {
        assert!(
            !item.contains_key(absent),
            "`{absent}` stored for an absent value"
        );
    }
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
    create_table_is_idempotent_with_its_indexes_and_ttl,
    put_new_writes_the_spec_attributes,
);

/// A fresh table on `backend` and a store on it, for the contract suite.
async fn store_on(backend: Backend) -> (Server, DynamoSessionStore) {
    let (server, client) = table(backend).await;
    (server, DynamoSessionStore::new(client, TABLE))
}

mod contract_on_moto {
    ::sessions::session_store_contract!(super::store_on(super::Backend::Moto).await);
}

mod contract_on_dynamodb_local {
    ::sessions::session_store_contract!(super::store_on(super::Backend::DynamoDbLocal).await);
}

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
                .revoke(
                    &session.session_id,
                    &sessions::contract::revocation("admin"),
                )
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
