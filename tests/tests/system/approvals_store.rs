#![cfg(test)]
//! The DynamoDB approval and break-glass stores against real DynamoDB engines: moto and
//! AWS's DynamoDB Local. Both contract suites (`approvals::contract`, also run on the
//! in-memory fakes) and the table layout checks run against both, so neither the adapters
//! nor the fakes lean on one engine's quirks.
//!
//! (The `#![cfg(test)]` above is always true in a test binary; it marks the module as test
//! code, where clippy.toml lets helpers unwrap and panic.)

use std::collections::HashMap;
use std::time::Duration;

use ::approvals::{
    ApprovalStore, BreakGlassStore, DynamoApprovalStore, DynamoBreakGlassStore, RequestQuery,
    StoreError, create_tables,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeyType, ProjectionType, TimeToLiveStatus,
};
use system_tests::{DynamoDbLocal, Moto, free_port, sdk_config_for};

const APPROVAL_TABLE: &str = "sentinel-approvals";
const BREAKGLASS_TABLE: &str = "sentinel-breakglass";

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

/// Starts `backend`, creates both tables and returns a client for them.
async fn tables(backend: Backend) -> (Server, Client) {
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
    create_tables(&client, APPROVAL_TABLE, BREAKGLASS_TABLE)
        .await
        .unwrap();
    (server, client)
}

/// The key schema as (attribute, key type) pairs.
fn keys(schema: &[aws_sdk_dynamodb::types::KeySchemaElement]) -> Vec<(String, KeyType)> {
    schema
        .iter()
        .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
        .collect()
}

/// Checks `table`: partition key `key`, on-demand, exactly `indexes` (name, partition)
/// sorted on `created_at` with every attribute projected, time to live on `ttl`.
async fn assert_layout(client: &Client, table: &str, key: &str, indexes: &[(&str, &str)]) {
    let description = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(
        keys(description.key_schema()),
        [(key.to_owned(), KeyType::Hash)]
    );
    assert_eq!(
        description
            .billing_mode_summary()
            .and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let mut found: Vec<_> = description
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            let projection = index
                .projection()
                .and_then(|p| p.projection_type())
                .cloned();
            (
                index.index_name().unwrap().to_owned(),
                keys(index.key_schema()),
                projection,
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let mut wanted: Vec<_> = indexes
        .iter()
        .map(|(name, partition)| {
            (
                (*name).to_owned(),
                vec![
                    ((*partition).to_owned(), KeyType::Hash),
                    ("created_at".to_owned(), KeyType::Range),
                ],
                Some(ProjectionType::All),
            )
        })
        .collect();
    wanted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(found, wanted, "indexes of `{table}`");

    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("ttl"));
}

async fn create_tables_is_idempotent_with_their_indexes_and_ttl(backend: Backend) {
    let (_server, client) = tables(backend).await;
    create_tables(&client, APPROVAL_TABLE, BREAKGLASS_TABLE)
        .await
        .unwrap();
    assert_layout(
        &client,
        APPROVAL_TABLE,
        "request_id",
        &[("by-requester", "requester")],
    )
    .await;
    assert_layout(
        &client,
        BREAKGLASS_TABLE,
        "breakglass_id",
        &[("by-status", "status"), ("by-kind", "kind")],
    )
    .await;
}

type Item = HashMap<String, AttributeValue>;

async fn raw_items(client: &Client, table: &str) -> Vec<Item> {
    client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

fn string(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        other => panic!("`{name}` is not a string attribute: {other:?}"),
    }
}

fn number(item: &Item, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap(),
        other => panic!("`{name}` is not a number attribute: {other:?}"),
    }
}

/// The rows as another tool reading the tables sees them: the documented names and
/// types, and cooldown items beside the events but outside both event indexes.
async fn stored_rows_have_the_documented_layout(backend: Backend) {
    let (_server, client) = tables(backend).await;
    let request_store = DynamoApprovalStore::new(client.clone(), APPROVAL_TABLE);
    let event_store = DynamoBreakGlassStore::new(client.clone(), BREAKGLASS_TABLE);

    let request = ::approvals::contract::request(1, "carol", "prod");
    request_store.create(&request).await.unwrap();
    let approved = request
        .approve(
            ::approvals::contract::approval(&request, "alice", 0, 5),
            1,
            1,
            str::to_owned,
        )
        .unwrap();
    request_store.replace(&approved).await.unwrap();
    let [item] = raw_items(&client, APPROVAL_TABLE).await.try_into().unwrap();
    assert_eq!(string(&item, "request_id"), request.request_id.as_str());
    assert_eq!(string(&item, "status"), "approved");
    assert_eq!(
        string(&item, "created_at"),
        "2026-11-22T13:50:01.123456789Z"
    );
    assert_eq!(number(&item, "version"), 2);
    assert_eq!(number(&item, "duration_seconds"), 3600);
    let Some(AttributeValue::L(list)) = item.get("approvals") else {
        panic!("`approvals` is not a list: {item:?}");
    };
    let Some(AttributeValue::M(first)) = list.first() else {
        panic!("approvals[0] is not a map: {list:?}");
    };
    assert_eq!(string(first, "approver"), "alice");
    assert_eq!(number(first, "group"), 0);
    let window_end = approved.approved_until.unwrap().max(approved.expires_at);
    assert_eq!(
        number(&item, "ttl"),
        window_end.timestamp() + ::approvals::RETENTION_DAYS * 86_400
    );

    let event = ::approvals::contract::event(1, "oncall-1", "prod");
    let until = event.created_at + chrono::TimeDelta::hours(4);
    event_store.begin(&event, &event.user, until).await.unwrap();
    let mut rows = raw_items(&client, BREAKGLASS_TABLE).await;
    rows.sort_by_key(|row| string(row, "breakglass_id"));
    let [stored, cooldown] = rows.try_into().unwrap();
    assert_eq!(
        string(&stored, "breakglass_id"),
        event.breakglass_id.as_str()
    );
    assert_eq!(string(&stored, "kind"), "event");
    assert_eq!(string(&stored, "status"), "needs_review");
    assert_eq!(string(&cooldown, "breakglass_id"), "cooldown#prod#oncall-1");
    assert_eq!(string(&cooldown, "until"), "2026-11-22T06:01:00.987654321Z");
    for absent in ["kind", "status", "created_at"] {
        assert!(!cooldown.contains_key(absent), "cooldown has `{absent}`");
    }
    for (index, partition, value) in [
        ("by-kind", "kind", "event"),
        ("by-status", "status", "needs_review"),
    ] {
        let out = client
            .query()
            .table_name(BREAKGLASS_TABLE)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", partition)
            .expression_attribute_values(":pk", AttributeValue::S(value.into()))
            .send()
            .await
            .unwrap();
        let ids: Vec<_> = out
            .items()
            .iter()
            .map(|row| string(row, "breakglass_id"))
            .collect();
        assert_eq!(ids, [event.breakglass_id.to_string()], "{index}");
    }
}

/// Counts the requests a client sends.
#[derive(Clone, Debug, Default)]
struct Calls(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Calls {
    fn take(&self) -> usize {
        self.0.swap(0, std::sync::atomic::Ordering::SeqCst)
    }
}

impl aws_sdk_dynamodb::config::Intercept for Calls {
    fn name(&self) -> &'static str {
        "Calls"
    }

    fn read_before_execution(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// Attack review F5: `GET /requests?profile=nonexistent&limit=1` made the store read the
/// whole table one row per request before answering. A filtered listing now reads in
/// batches, a bounded number of them per page, and answers a short (even empty) page
/// with a cursor when its budget is spent; following the cursors lists every match once.
async fn a_filtered_listing_reads_a_bounded_amount_per_page(backend: Backend) {
    let (_server, client) = tables(backend).await;
    let calls = Calls::default();
    let counted = Client::from_conf(
        client
            .config()
            .to_builder()
            .interceptor(calls.clone())
            .build(),
    );
    let writer = DynamoApprovalStore::new(client, APPROVAL_TABLE);
    for n in 1..=12 {
        let profile = if n % 4 == 0 { "match" } else { "other" };
        let request = ::approvals::contract::request(n, &format!("user-{n}"), profile);
        writer.create(&request).await.unwrap();
    }
    let nothing = RequestQuery {
        profile: Some("nonexistent".into()),
        limit: 1,
        ..RequestQuery::default()
    };
    let store = DynamoApprovalStore::new(counted.clone(), APPROVAL_TABLE);
    let page = store.list(&nothing).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(calls.take(), 1, "12 rows are one batch, not 12 reads");

    // A budget of 2 reads of 2 rows per page: 12 rows take several pages, some empty.
    let store = DynamoApprovalStore::new(counted, APPROVAL_TABLE).with_read_budget(2, 2);
    let mut query = RequestQuery {
        profile: Some("match".into()),
        limit: 5,
        ..RequestQuery::default()
    };
    let mut found = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.list(&query).await.unwrap();
        assert!(calls.take() <= 2, "at most the budget's reads per page");
        pages += 1;
        found.extend(page.items.into_iter().map(|r| r.request_id.to_string()));
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
        assert!(pages < 20, "the cursors make progress");
    }
    found.sort();
    let mut wanted: Vec<_> = [4, 8, 12]
        .into_iter()
        .map(|n| {
            ::approvals::contract::request(n, "x", "match")
                .request_id
                .to_string()
        })
        .collect();
    wanted.sort();
    assert_eq!(found, wanted, "every match once");
    assert!(pages >= 3, "{pages} pages");
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
    create_tables_is_idempotent_with_their_indexes_and_ttl,
    stored_rows_have_the_documented_layout,
    a_filtered_listing_reads_a_bounded_amount_per_page,
);

/// Fresh tables on `backend` and an approval store on them, for the contract suite.
async fn approval_store_on(backend: Backend) -> (Server, DynamoApprovalStore) {
    let (server, client) = tables(backend).await;
    (server, DynamoApprovalStore::new(client, APPROVAL_TABLE))
}

/// Fresh tables on `backend` and a break-glass store on them, for the contract suite.
async fn breakglass_store_on(backend: Backend) -> (Server, DynamoBreakGlassStore) {
    let (server, client) = tables(backend).await;
    (server, DynamoBreakGlassStore::new(client, BREAKGLASS_TABLE))
}

mod approval_contract_on_moto {
    ::approvals::approval_store_contract!(super::approval_store_on(super::Backend::Moto).await);
}

mod approval_contract_on_dynamodb_local {
    ::approvals::approval_store_contract!(
        super::approval_store_on(super::Backend::DynamoDbLocal).await
    );
}

mod breakglass_contract_on_moto {
    ::approvals::breakglass_store_contract!(super::breakglass_store_on(super::Backend::Moto).await);
}

mod breakglass_contract_on_dynamodb_local {
    ::approvals::breakglass_store_contract!(
        super::breakglass_store_on(super::Backend::DynamoDbLocal).await
    );
}

/// Stores whose endpoint does not answer fail every call with `Unavailable` naming the
/// table, promptly, instead of panicking or hanging.
#[tokio::test]
async fn stores_on_a_closed_port_are_unavailable() {
    // Bound, then released: nothing listens there.
    let config = sdk_config_for(&format!("http://127.0.0.1:{}", free_port())).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&config)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    let client = Client::from_conf(config);
    let request_store = DynamoApprovalStore::new(client.clone(), APPROVAL_TABLE);
    let event_store = DynamoBreakGlassStore::new(client.clone(), BREAKGLASS_TABLE);
    let request = ::approvals::contract::request(1, "carol", "prod");
    let event = ::approvals::contract::event(1, "oncall-1", "prod");
    let query = RequestQuery {
        limit: 10,
        ..RequestQuery::default()
    };
    let calls = async {
        let results = [
            (APPROVAL_TABLE, request_store.create(&request).await.err()),
            (
                APPROVAL_TABLE,
                request_store.get(&request.request_id).await.err(),
            ),
            (APPROVAL_TABLE, request_store.replace(&request).await.err()),
            (APPROVAL_TABLE, request_store.list(&query).await.err()),
            (
                BREAKGLASS_TABLE,
                event_store
                    .begin(&event, &event.user, event.created_at)
                    .await
                    .err(),
            ),
            (
                BREAKGLASS_TABLE,
                event_store
                    .review(
                        &event.breakglass_id,
                        &::approvals::contract::review(&event, "lead"),
                    )
                    .await
                    .err(),
            ),
            (
                BREAKGLASS_TABLE,
                event_store.list(None, 10, None).await.err(),
            ),
            (
                APPROVAL_TABLE,
                create_tables(&client, APPROVAL_TABLE, BREAKGLASS_TABLE)
                    .await
                    .err(),
            ),
        ];
        for (i, (table, result)) in results.into_iter().enumerate() {
            match result {
                Some(StoreError::Unavailable(message)) => {
                    assert!(
                        message.contains(&format!("table `{table}`")),
                        "{i}: {message}"
                    );
                }
                other => panic!("call {i}: expected Unavailable, got {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), calls)
        .await
        .expect("store calls hung");
}
