//! The DynamoDB adapters: [`DynamoApprovalStore`], [`DynamoBreakGlassStore`] and
//! [`create_tables`]. The only module of the crate that speaks to the AWS SDK.
//!
//! Times are stored as fixed-width RFC 3339 strings in UTC with nine fractional digits
//! (`2026-11-22T13:50:00.123456789Z`), so the indexes sort them in time order, a
//! cooldown's `until` compares as a string, and every instant round-trips exactly.
//! Nested records are maps and lists of maps, so the rows read plainly in the console
//! and in PartiQL (`approvals[0].approver`). Absent options are omitted, never `NULL`.
//!
//! # The approval table
//!
//! Partition key `request_id` (S); index `by-requester` on (`requester`, `created_at`),
//! every attribute projected: a requester's requests, newest first.
//!
//! | attribute | type | |
//! | --- | --- | --- |
//! | `request_id`, `profile`, `requester`, `principal_arn`, `reason`, `rule`, `status` | S | as in [`Request`] |
//! | `duration_seconds`, `version` | N | |
//! | `created_at`, `expires_at`, `approved_until` (once approved) | S | times |
//! | `approvals` | L of M | `approver`, `principal_arn` (S), `group` (N), `at` (S), `comment` (S, if any), `approvers_digest` (S, if any) |
//! | `closure` (once denied or revoked) | M | `by`, `principal_arn`, `reason`, `at` (S) |
//! | `ttl` | N | epoch seconds of the later of `expires_at` and `approved_until`, plus [`RETENTION_DAYS`] |
//!
//! [`ApprovalStore::replace`] is one `PutItem` conditioned on the stored `version` being
//! the one before the new request's.
//!
//! # The break-glass table
//!
//! Partition key `breakglass_id` (S). It holds two kinds of item:
//!
//! - Events, keyed by their ID: `breakglass_id`, `kind` (= `event`), `profile`, `user`,
//!   `principal_arn`, `reason`, `rule`, `status` (S), `duration_seconds` (N),
//!   `created_at` (S), `session_id` (S, once attached), `review` (M: `by`,
//!   `principal_arn`, `notes`, `at`, once reviewed), `ttl` (N: the end of the access plus
//!   [`RETENTION_DAYS`]).
//! - Cooldowns, one per (person, profile), keyed `cooldown#<profile>#<person>` (the
//!   person behind the derived user: every session of one role shares it): `user`,
//!   `profile`, `until` (S), `event` (the event that started it, so that only that
//!   event's failed vend releases it) and `ttl` (a day after `until`). Profile names cannot contain
//!   `#` (`ProfileName`), so the first `#` after the prefix ends the profile and no two
//!   pairs share a key whatever the user name holds; event IDs are hex, never `cooldown#…`.
//!   Derived user names are IAM names (at most 129 characters), far below DynamoDB's
//!   2048-byte key limit; a longer one fails the write (closed).
//!
//! - The cursor key, keyed `cursor-key#1`: `key` (B, 32 random bytes; `cursor_key`).
//!
//! Two sparse indexes on events only (cooldowns carry neither `status` nor `kind`), both
//! sorted on `created_at` and projecting every attribute: `by-status` on `status` (one
//! status's events, newest first: what awaits review) and `by-kind` on `kind` (every
//! event, newest first; one partition is fine for break-glass, which is rare by design).
//!
//! [`BreakGlassStore::begin`] writes the cooldown (conditioned on there being none, or on
//! its `until` having passed the event's `created_at`) and the event (conditioned on its
//! ID being free) in one transaction: a refused event never starts a cooldown, and a
//! started cooldown always has its event.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

mod cursor_key;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, TimeDelta, Utc};
use sentinel_aws_dynamodb::{Fields, Index, Item, KeyAttribute, Layout, TableError, unavailable};
use sentinel_types::{ProfileName, SessionId, timestamp};

use crate::listing::{
    BY_KIND, BY_REQUESTER, BY_STATUS, CREATED_AT, Cursor, EVENT_KIND, Listed, Listing,
};
use crate::{
    Approval, ApprovalStore, BreakGlassEvent, BreakGlassStore, Closure, Page, Request, RequestId,
    RequestQuery, RequestStatus, Review, ReviewStatus, StoreError,
};

/// How long rows outlive what they record before DynamoDB's time to live may delete
/// them: a request its expiry or access window, an event its access. Long enough that a
/// yearly audit still finds the whole previous year.
pub const RETENTION_DAYS: i64 = 400;
/// Cooldown items share the break-glass table; their keys cannot be event IDs (hex).
const COOLDOWN_PREFIX: &str = "cooldown#";
/// A cooldown item is useless once its `until` has passed; DynamoDB may delete it a day later.
const COOLDOWN_RETENTION_DAYS: i64 = 1;
/// The attribute DynamoDB's time to live reads.
const TTL_ATTRIBUTE: &str = "ttl";

/// An [`ApprovalStore`] on a DynamoDB table laid out as the module documentation says
/// (see [`create_tables`]). Cheap to clone: clones share the SDK client.
#[derive(Clone, Debug)]
pub struct DynamoApprovalStore {
    client: Client,
    table: String,
    budget: ReadBudget,
}

/// How much one filtered `list` call may read before it answers: at most `reads`
/// requests of at most `rows` rows each (DynamoDB's `Limit` counts rows read before the
/// filter). A page the budget ends early is short, possibly empty, with a cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReadBudget {
    reads: usize,
    rows: i32,
}

impl Default for ReadBudget {
    /// 5 reads of 100 rows: a page never costs more than 500 rows read, whatever the
    /// filter (SECURITY: a listing that matches nothing cannot make one call read the
    /// whole table).
    fn default() -> Self {
        Self {
            reads: 5,
            rows: 100,
        }
    }
}

impl DynamoApprovalStore {
    /// A store on `table`. Timeouts and retries are the client's: configure them on the
    /// `SdkConfig` the client was built from.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            budget: ReadBudget::default(),
        }
    }

    /// The same store with another read budget per filtered `list` page: at most `reads`
    /// requests of `rows` rows (both at least 1; the default is 5 of 100), for tests
    /// that page through a few rows.
    #[must_use]
    pub fn with_read_budget(mut self, reads: usize, rows: i32) -> Self {
        self.budget = ReadBudget {
            reads: reads.max(1),
            rows: rows.max(1),
        };
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// After a refused `replace`: `Stale` if the request exists (`exists`, when the
    /// engine returned the old item, else a consistent read), `NotFound` otherwise.
    async fn stale_or_missing(&self, id: &RequestId, exists: bool) -> StoreError {
        if exists {
            return StoreError::Stale(id.clone());
        }
        match self.get(id).await {
            Ok(Some(_)) => StoreError::Stale(id.clone()),
            Ok(None) => StoreError::NotFound(id.clone()),
            Err(e) => e,
        }
    }
}

impl ApprovalStore for DynamoApprovalStore {
    async fn create(&self, request: &Request) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(request_item(request)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", "request_id")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::AlreadyExists(request.request_id.clone()))
            }
            Err(e) => Err(unavailable(&self.table, "PutItem", &e).into()),
        }
    }

    async fn get(&self, id: &RequestId) -> Result<Option<Request>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("request_id", AttributeValue::S(id.as_str().to_owned()))
            // SECURITY: a denial or revocation must take effect on the next read.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(&self.table, "GetItem", &e))?;
        out.item.as_ref().map(request_from_item).transpose()
    }

    async fn replace(&self, next: &Request) -> Result<(), StoreError> {
        let id = &next.request_id;
        // Version 0 has no version before it: nothing stored can match.
        let Some(previous) = next.version.checked_sub(1) else {
            return Err(self.stale_or_missing(id, false).await);
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(request_item(next)))
            .condition_expression("attribute_exists(#pk) AND #version = :previous")
            .expression_attribute_names("#pk", "request_id")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":previous", AttributeValue::N(previous.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    // Engines without ALL_OLD support return no item either way; the
                    // fallback read tells.
                    Err(self.stale_or_missing(id, failed.item().is_some()).await)
                }
                _ => Err(unavailable(&self.table, "PutItem", &e).into()),
            },
        }
    }

    async fn list(&self, query: &RequestQuery) -> Result<Page<Request>, StoreError> {
        let listing = Listing::of_requests(query)?;
        list(
            &self.client,
            &self.table,
            &listing,
            query.cursor.as_deref(),
            self.budget,
            request_from_item,
        )
        .await
    }
}

/// A [`BreakGlassStore`] on a DynamoDB table laid out as the module documentation says
/// (see [`create_tables`]). Cheap to clone: clones share the SDK client.
#[derive(Clone, Debug)]
pub struct DynamoBreakGlassStore {
    client: Client,
    table: String,
}

impl DynamoBreakGlassStore {
    /// A store on `table`. Timeouts and retries are the client's.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The `until` of the cooldown item `key`, read consistently.
    async fn cooldown_until(&self, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("breakglass_id", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(&self.table, "GetItem", &e))?;
        out.item.as_ref().map(cooldown_until).transpose()
    }

    /// Why `begin`'s transaction was refused: the cooldown (the engine's cancellation
    /// reasons say so, or a consistent read finds it running) before a taken ID.
    async fn refusal(
        &self,
        event: &BreakGlassEvent,
        key: &str,
        reasons: &[aws_sdk_dynamodb::types::CancellationReason],
    ) -> Result<StoreError, StoreError> {
        let failed = |i: usize| {
            reasons
                .get(i)
                .and_then(|r| r.code())
                .is_some_and(|code| code == "ConditionalCheckFailed")
        };
        let reported = reasons.first().and_then(|r| r.item());
        let until = match reported {
            Some(item) if failed(0) => Some(cooldown_until(item)?),
            _ if failed(0) || reasons.is_empty() => self.cooldown_until(key).await?,
            _ => None,
        };
        if let Some(until) = until.filter(|until| *until > event.created_at) {
            return Ok(StoreError::Cooldown(until));
        }
        if failed(1) || (reasons.is_empty() && self.get(&event.breakglass_id).await?.is_some()) {
            return Ok(StoreError::AlreadyExists(event.breakglass_id.clone()));
        }
        Err(StoreError::Unavailable(format!(
            "TransactWriteItems on table `{}` was cancelled for another reason ({}); try again",
            self.table,
            reasons
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

impl BreakGlassStore for DynamoBreakGlassStore {
    async fn begin(
        &self,
        event: &BreakGlassEvent,
        holder: &str,
        cooldown_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let built = |e: BuildError| {
            StoreError::Unavailable(format!(
                "TransactWriteItems request for `{}` is invalid: {e}",
                self.table
            ))
        };
        let key = cooldown_key(holder, &event.profile);
        let cooldown = Put::builder()
            .table_name(&self.table)
            .item("breakglass_id", AttributeValue::S(key.clone()))
            .item("user", AttributeValue::S(holder.to_owned()))
            .item("event", AttributeValue::S(event.breakglass_id.to_string()))
            .item("profile", AttributeValue::S(event.profile.to_string()))
            .item(
                "until",
                AttributeValue::S(timestamp::format(cooldown_until)),
            )
            .item(
                TTL_ATTRIBUTE,
                AttributeValue::N(ttl(cooldown_until, COOLDOWN_RETENTION_DAYS).to_string()),
            )
            .condition_expression("attribute_not_exists(#pk) OR #until <= :now")
            .expression_attribute_names("#pk", "breakglass_id")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(
                ":now",
                AttributeValue::S(timestamp::format(event.created_at)),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(built)?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(event_item(event)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", "breakglass_id")
            .build()
            .map_err(built)?;
        // The SDK fills in the idempotency token, so its retries of a write that did
        // commit succeed instead of finding their own cooldown.
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(cooldown).build())
            .transact_items(TransactWriteItem::builder().put(record).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Err(self
                    .refusal(event, &key, cancelled.cancellation_reasons())
                    .await?),
                _ => Err(unavailable(&self.table, "TransactWriteItems", &e).into()),
            },
        }
    }

    async fn release(&self, event: &BreakGlassEvent, holder: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(
                "breakglass_id",
                AttributeValue::S(cooldown_key(holder, &event.profile)),
            )
            .condition_expression("#event = :event")
            .expression_attribute_names("#event", "event")
            .expression_attribute_values(
                ":event",
                AttributeValue::S(event.breakglass_id.to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Another event's cooldown, or none: nothing of this event's to end.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(&self.table, "DeleteItem", &e).into()),
        }
    }

    async fn get(&self, id: &RequestId) -> Result<Option<BreakGlassEvent>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("breakglass_id", AttributeValue::S(id.as_str().to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(&self.table, "GetItem", &e))?;
        out.item.as_ref().map(event_from_item).transpose()
    }

    async fn attach_session(&self, id: &RequestId, session: &SessionId) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("breakglass_id", AttributeValue::S(id.as_str().to_owned()))
            .condition_expression("attribute_exists(#pk)")
            .update_expression("SET #session = :session")
            .expression_attribute_names("#pk", "breakglass_id")
            .expression_attribute_names("#session", "session_id")
            .expression_attribute_values(":session", AttributeValue::S(session.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::NotFound(id.clone()))
            }
            Err(e) => Err(unavailable(&self.table, "UpdateItem", &e).into()),
        }
    }

    async fn review(&self, id: &RequestId, review: &Review) -> Result<BreakGlassEvent, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("breakglass_id", AttributeValue::S(id.as_str().to_owned()))
            // Only an open event is updated, so a second review cannot overwrite the first.
            .condition_expression("attribute_exists(#pk) AND #status = :open")
            .update_expression("SET #status = :reviewed, #review = :review")
            .expression_attribute_names("#pk", "breakglass_id")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#review", "review")
            .expression_attribute_values(
                ":open",
                AttributeValue::S(ReviewStatus::NeedsReview.as_str().to_owned()),
            )
            .expression_attribute_values(
                ":reviewed",
                AttributeValue::S(ReviewStatus::Reviewed.as_str().to_owned()),
            )
            .expression_attribute_values(":review", review_value(review))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match result {
            Ok(out) => {
                return match out.attributes {
                    Some(item) => event_from_item(&item),
                    // Some stand-ins omit ALL_NEW; the event is reviewed either way.
                    None => self
                        .get(id)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(id.clone())),
                };
            }
            Err(e) => {
                let Some(UpdateItemError::ConditionalCheckFailedException(failed)) =
                    e.as_service_error()
                else {
                    return Err(unavailable(&self.table, "UpdateItem", &e).into());
                };
                failed.item().map(event_from_item).transpose()?
            }
        };
        // Without ALL_OLD support (some stand-ins), a consistent read tells which.
        let old = match old {
            Some(event) => Some(event),
            None => self.get(id).await?,
        };
        match old {
            None => Err(StoreError::NotFound(id.clone())),
            Some(event) if event.status == ReviewStatus::Reviewed => {
                Err(StoreError::AlreadyReviewed(id.clone()))
            }
            // Open again is impossible (nothing reopens an event); never report it reviewed.
            Some(_) => Err(StoreError::Unavailable(format!(
                "break-glass event `{id}` changed during its review; try again"
            ))),
        }
    }

    async fn list(
        &self,
        status: Option<ReviewStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<BreakGlassEvent>, StoreError> {
        let listing = Listing::of_events(status, limit)?;
        let budget = ReadBudget::default();
        list(
            &self.client,
            &self.table,
            &listing,
            cursor,
            budget,
            event_from_item,
        )
        .await
    }

    async fn cursor_key(&self) -> Result<[u8; 32], StoreError> {
        cursor_key::get_or_create(&self.client, &self.table).await
    }
}

/// One page of `listing`. DynamoDB's `Limit` counts rows read before the filter, so a
/// filtered page may take several requests: each reads `budget.rows` rows (an unfiltered
/// one exactly `limit`), at most `budget.reads` of them, and a page the budget ends
/// before it is full is short, with a cursor at the last row read. Otherwise the cursor
/// is built from the last row returned, so no row is skipped or repeated.
async fn list<T: Listed>(
    client: &Client,
    table: &str,
    listing: &Listing,
    cursor: Option<&str>,
    budget: ReadBudget,
    decode: fn(&Item) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let mut start = listing.resume(cursor)?.map(|cursor| {
        cursor
            .key
            .into_iter()
            .map(|(k, v)| (k, AttributeValue::S(v)))
            .collect::<Item>()
    });
    let page_limit = i32::try_from(listing.limit).unwrap_or(i32::MAX);
    let request_limit = if listing.filters().next().is_some() {
        budget.rows
    } else {
        page_limit
    };
    let mut items = Vec::new();
    let mut reads = 0;
    let next_cursor = loop {
        let (rows, last_key) =
            read_page(client, table, listing, request_limit, start.take()).await?;
        reads += 1;
        let mut rows = rows.into_iter();
        for row in rows.by_ref() {
            items.push(decode(&row)?);
            if items.len() == listing.limit {
                break;
            }
        }
        let more = rows.next().is_some() || last_key.is_some();
        if items.len() == listing.limit {
            break more
                .then(|| items.last().map(|r| Cursor::after(listing, r).encode()))
                .flatten();
        }
        match last_key {
            Some(key) if reads >= budget.reads => {
                break Some(Cursor::at(listing, &strings(&key)?).encode());
            }
            Some(key) => start = Some(key),
            None => break None,
        }
    };
    if listing.index.is_none() {
        items.sort_by_key(|r| Reverse(r.created_at()));
    }
    Ok(Page { items, next_cursor })
}

/// A key of string attributes (every key of these tables) as its strings.
fn strings(key: &Item) -> Result<BTreeMap<String, String>, StoreError> {
    key.iter()
        .map(|(name, value)| match value {
            AttributeValue::S(text) => Ok((name.clone(), text.clone())),
            _ => Err(StoreError::Corrupt(format!(
                "key attribute `{name}` is not a string"
            ))),
        })
        .collect()
}

/// Runs one `Query` (newest first) or `Scan` request for `listing`, returning the items
/// and DynamoDB's `LastEvaluatedKey`.
async fn read_page(
    client: &Client,
    table: &str,
    listing: &Listing,
    limit: i32,
    start: Option<Item>,
) -> Result<(Vec<Item>, Option<Item>), StoreError> {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut filters = Vec::new();
    for (i, (name, value)) in listing.filters().enumerate() {
        names.insert(format!("#f{i}"), name.to_owned());
        values.insert(format!(":f{i}"), AttributeValue::S(value.to_owned()));
        filters.push(format!("#f{i} = :f{i}"));
    }
    let filter = (!filters.is_empty()).then(|| filters.join(" AND "));
    match &listing.index {
        Some(index) => {
            names.insert("#pk".to_owned(), index.partition.to_owned());
            values.insert(":pk".to_owned(), AttributeValue::S(index.value.clone()));
            let out = client
                .query()
                .table_name(table)
                .index_name(index.name)
                .key_condition_expression("#pk = :pk")
                .set_filter_expression(filter)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .scan_index_forward(false)
                .limit(limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable(table, "Query", &e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        }
        None => {
            let out = client
                .scan()
                .table_name(table)
                .set_filter_expression(filter)
                .set_expression_attribute_names((!names.is_empty()).then_some(names))
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .consistent_read(true)
                .limit(limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable(table, "Scan", &e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        }
    }
}

/// Creates both tables as the module documentation lays them out, each with on-demand
/// billing, its indexes (every attribute projected) and time to live on `ttl`.
/// Idempotent: an existing table is accepted if it has its indexes. Returns once both
/// tables and their indexes are active.
pub async fn create_tables(
    client: &Client,
    approval_table: &str,
    breakglass_table: &str,
) -> Result<(), StoreError> {
    let by_created_at = |name, partition| Index {
        name,
        partition,
        sort: KeyAttribute::String(CREATED_AT),
    };
    let tables = [
        Layout {
            table: approval_table,
            key: "request_id",
            indexes: &[by_created_at(BY_REQUESTER, "requester")],
            ttl: TTL_ATTRIBUTE,
        },
        Layout {
            table: breakglass_table,
            key: "breakglass_id",
            indexes: &[
                by_created_at(BY_STATUS, "status"),
                by_created_at(BY_KIND, "kind"),
            ],
            ttl: TTL_ATTRIBUTE,
        },
    ];
    for layout in tables {
        layout.create(client).await?;
    }
    Ok(())
}

impl From<TableError> for StoreError {
    fn from(e: TableError) -> Self {
        match e {
            TableError::Unavailable(message) => Self::Unavailable(message),
            TableError::Corrupt(message) => Self::Corrupt(message),
        }
    }
}

/// Epoch seconds of `end` plus `days`.
fn ttl(end: DateTime<Utc>, days: i64) -> i64 {
    end.checked_add_signed(TimeDelta::days(days))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        .timestamp()
}

/// The key of `user`'s cooldown item for `profile` (see the module documentation).
fn cooldown_key(user: &str, profile: &ProfileName) -> String {
    format!("{COOLDOWN_PREFIX}{profile}#{user}")
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn time(t: DateTime<Utc>) -> AttributeValue {
    AttributeValue::S(timestamp::format(t))
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The stored item for `request` (module documentation).
fn request_item(request: &Request) -> Item {
    let end = request
        .approved_until
        .map_or(request.expires_at, |until| until.max(request.expires_at));
    let mut item = Item::from([
        ("request_id".to_owned(), s(request.request_id.as_str())),
        ("profile".to_owned(), s(request.profile.as_str())),
        ("requester".to_owned(), s(&request.requester)),
        ("principal_arn".to_owned(), s(&request.principal_arn)),
        ("reason".to_owned(), s(&request.reason)),
        ("duration_seconds".to_owned(), n(request.duration_seconds)),
        ("status".to_owned(), s(request.status.as_str())),
        (
            "approvals".to_owned(),
            AttributeValue::L(request.approvals.iter().map(approval_value).collect()),
        ),
        (CREATED_AT.to_owned(), time(request.created_at)),
        ("expires_at".to_owned(), time(request.expires_at)),
        ("rule".to_owned(), s(&request.rule)),
        ("version".to_owned(), n(request.version)),
        (TTL_ATTRIBUTE.to_owned(), n(ttl(end, RETENTION_DAYS))),
    ]);
    if let Some(until) = request.approved_until {
        item.insert("approved_until".to_owned(), time(until));
    }
    if let Some(closure) = &request.closure {
        item.insert("closure".to_owned(), closure_value(closure));
    }
    item
}

fn approval_value(approval: &Approval) -> AttributeValue {
    let mut map = Item::from([
        ("approver".to_owned(), s(&approval.approver)),
        ("principal_arn".to_owned(), s(&approval.principal_arn)),
        ("group".to_owned(), n(approval.group)),
        ("at".to_owned(), time(approval.at)),
    ]);
    if let Some(comment) = &approval.comment {
        map.insert("comment".to_owned(), s(comment));
    }
    if let Some(digest) = &approval.approvers_digest {
        map.insert("approvers_digest".to_owned(), s(digest));
    }
    AttributeValue::M(map)
}

fn closure_value(closure: &Closure) -> AttributeValue {
    AttributeValue::M(Item::from([
        ("by".to_owned(), s(&closure.by)),
        ("principal_arn".to_owned(), s(&closure.principal_arn)),
        ("reason".to_owned(), s(&closure.reason)),
        ("at".to_owned(), time(closure.at)),
    ]))
}

fn review_value(review: &Review) -> AttributeValue {
    AttributeValue::M(Item::from([
        ("by".to_owned(), s(&review.by)),
        ("principal_arn".to_owned(), s(&review.principal_arn)),
        ("notes".to_owned(), s(&review.notes)),
        ("at".to_owned(), time(review.at)),
    ]))
}

/// The stored item for `event` (module documentation).
fn event_item(event: &BreakGlassEvent) -> Item {
    let end = event
        .created_at
        .checked_add_signed(TimeDelta::seconds(i64::from(event.duration_seconds)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut item = Item::from([
        ("breakglass_id".to_owned(), s(event.breakglass_id.as_str())),
        ("kind".to_owned(), s(EVENT_KIND)),
        ("profile".to_owned(), s(event.profile.as_str())),
        ("user".to_owned(), s(&event.user)),
        ("principal_arn".to_owned(), s(&event.principal_arn)),
        ("reason".to_owned(), s(&event.reason)),
        ("rule".to_owned(), s(&event.rule)),
        ("duration_seconds".to_owned(), n(event.duration_seconds)),
        (CREATED_AT.to_owned(), time(event.created_at)),
        ("status".to_owned(), s(event.status.as_str())),
        (TTL_ATTRIBUTE.to_owned(), n(ttl(end, RETENTION_DAYS))),
    ]);
    if let Some(session) = &event.session_id {
        item.insert("session_id".to_owned(), s(session.as_str()));
    }
    if let Some(review) = &event.review {
        item.insert("review".to_owned(), review_value(review));
    }
    item
}

/// Decodes a stored request; any attribute missing or of the wrong shape is
/// [`StoreError::Corrupt`] naming it. `ttl` is derived, so it is not read back.
fn request_from_item(item: &Item) -> Result<Request, StoreError> {
    let row = Fields::row(item, "request", "request_id");
    let approvals = row
        .list("approvals")?
        .iter()
        .map(|a| {
            Ok(Approval {
                approver: a.string("approver")?,
                principal_arn: a.string("principal_arn")?,
                group: a.number("group")?,
                approvers_digest: a.optional_string("approvers_digest")?,
                at: a.time("at")?,
                comment: a.optional_string("comment")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let closure = row
        .optional_map("closure")?
        .map(|c| {
            Ok::<_, StoreError>(Closure {
                by: c.string("by")?,
                principal_arn: c.string("principal_arn")?,
                reason: c.string("reason")?,
                at: c.time("at")?,
            })
        })
        .transpose()?;
    Ok(Request {
        request_id: id(&row, "request_id")?,
        profile: row.parsed("profile")?,
        requester: row.string("requester")?,
        principal_arn: row.string("principal_arn")?,
        reason: row.string("reason")?,
        duration_seconds: row.number("duration_seconds")?,
        status: RequestStatus::parse(&row.string("status")?)
            .ok_or_else(|| row.corrupt("status", "is not a request status"))?,
        approvals,
        created_at: row.time(CREATED_AT)?,
        expires_at: row.time("expires_at")?,
        approved_until: row.optional_time("approved_until")?,
        rule: row.string("rule")?,
        closure,
        version: row.number("version")?,
    })
}

/// Decodes a stored event, as [`request_from_item`] does a request.
fn event_from_item(item: &Item) -> Result<BreakGlassEvent, StoreError> {
    let row = Fields::row(item, "break-glass event", "breakglass_id");
    let review = row
        .optional_map("review")?
        .map(|r| {
            Ok::<_, StoreError>(Review {
                by: r.string("by")?,
                principal_arn: r.string("principal_arn")?,
                notes: r.string("notes")?,
                at: r.time("at")?,
            })
        })
        .transpose()?;
    let session_id = row
        .optional_string("session_id")?
        .map(|id| {
            SessionId::parse(&id).map_err(|_| row.corrupt("session_id", "is not a session id"))
        })
        .transpose()?;
    Ok(BreakGlassEvent {
        breakglass_id: id(&row, "breakglass_id")?,
        profile: row.parsed("profile")?,
        user: row.string("user")?,
        principal_arn: row.string("principal_arn")?,
        reason: row.string("reason")?,
        rule: row.string("rule")?,
        duration_seconds: row.number("duration_seconds")?,
        created_at: row.time(CREATED_AT)?,
        session_id,
        status: ReviewStatus::parse(&row.string("status")?)
            .ok_or_else(|| row.corrupt("status", "is not a review status"))?,
        review,
    })
}

/// A stored request or event ID.
fn id(row: &Fields<'_>, attribute: &str) -> Result<RequestId, StoreError> {
    Ok(RequestId::parse(&row.string(attribute)?)
        .map_err(|_| row.corrupt(attribute, "is not 32 lowercase hex characters"))?)
}

/// The `until` of a stored cooldown item.
fn cooldown_until(item: &Item) -> Result<DateTime<Utc>, StoreError> {
    Ok(Fields::row(item, "cooldown", "breakglass_id").time("until")?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
    use super::*;
    use crate::contract::{approval, closure, event, request, review};

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
}
