//! The DynamoDB adapter: [`DynamoSessionStore`], [`create_table`] and the item mapping of
//! docs/sessions.md. The only module of the crate that speaks to the AWS SDK.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use sentinel_aws_dynamodb::{Fields, Index, Item, KeyAttribute, Layout, TableError, unavailable};
use sentinel_types::{RoleArn, timestamp};

use crate::listing::{Access, Cursor};
use crate::{
    AwsDeny, LeaseStore, ListQuery, Page, Revocation, RevokeOutcome, SessionId, SessionRecord,
    SessionState, SessionStore, Status, StoreError,
};

/// Index on (`user`, `issued_at`).
const BY_USER: &str = "by-user";
/// Index on (`profile`, `issued_at`).
const BY_PROFILE: &str = "by-profile";
/// Sparse index on (`revoked_role_arn`, `expires_at_epoch`): revoked sessions by role.
const REVOKED_BY_ROLE: &str = "revoked-by-role";
/// Set on revoked rows only (to the row's `role_arn`), so the index holds nothing else.
const REVOKED_ROLE_ATTRIBUTE: &str = "revoked_role_arn";
/// Lease items share the table; their keys cannot be session IDs.
const LEASE_PREFIX: &str = "lease#";
/// The attribute DynamoDB's time to live reads.
const TTL_ATTRIBUTE: &str = "ttl";

/// A [`SessionStore`] on a DynamoDB table laid out as docs/sessions.md says (see [`create_table`]).
/// Cheap to clone: clones share the SDK client.
#[derive(Clone, Debug)]
pub struct DynamoSessionStore {
    client: Client,
    table: String,
}

impl DynamoSessionStore {
    /// A store on `table`. Timeouts and retries are the client's: configure them on the
    /// `SdkConfig` the client was built from.
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

    /// Runs one `Query` or `Scan` request for `query`, returning the items and DynamoDB's
    /// `LastEvaluatedKey`.
    async fn read_page(
        &self,
        query: &ListQuery,
        limit: i32,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut filters = Vec::new();
        if let Some(status) = query.status {
            names.insert("#status".to_owned(), "status".to_owned());
            values.insert(
                ":status".to_owned(),
                AttributeValue::S(status.as_str().to_owned()),
            );
            filters.push("#status = :status");
        }
        match query.access().index() {
            Some((index, attribute, value)) => {
                names.insert("#pk".to_owned(), attribute.to_owned());
                values.insert(":pk".to_owned(), AttributeValue::S(value));
                if let (Access::ByUser(_), Some(profile)) = (query.access(), &query.profile) {
                    names.insert("#profile".to_owned(), "profile".to_owned());
                    values.insert(":profile".to_owned(), AttributeValue::S(profile.clone()));
                    filters.push("#profile = :profile");
                }
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(index)
                    .key_condition_expression("#pk = :pk")
                    .set_filter_expression((!filters.is_empty()).then(|| filters.join(" AND ")))
                    .set_expression_attribute_names(Some(names))
                    .set_expression_attribute_values(Some(values))
                    .scan_index_forward(false)
                    .limit(limit)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| unavailable(&self.table, "Query", &e))?;
                Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
            }
            None => {
                // Lease items share the table and have no `issued_at`.
                names.insert("#issued".to_owned(), "issued_at".to_owned());
                filters.push("attribute_exists(#issued)");
                let out = self
                    .client
                    .scan()
                    .table_name(&self.table)
                    .filter_expression(filters.join(" AND "))
                    .set_expression_attribute_names(Some(names))
                    .set_expression_attribute_values((!values.is_empty()).then_some(values))
                    .consistent_read(true)
                    .limit(limit)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| unavailable(&self.table, "Scan", &e))?;
                Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
            }
        }
    }
}

impl SessionStore for DynamoSessionStore {
    async fn set_aws_deny(&self, id: &SessionId, state: &AwsDeny) -> Result<(), StoreError> {
        let (at, reason) = match state {
            AwsDeny::Applied { at } => (Some(timestamp::format(*at)), None),
            AwsDeny::Failed { reason } => (None, Some(reason.clone())),
            AwsDeny::Pending => (None, None),
        };
        let mut set = vec!["#deny = :deny"];
        let mut remove = Vec::new();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("session_id", AttributeValue::S(id.as_str().to_owned()))
            .condition_expression("attribute_exists(#pk) AND #status = :revoked")
            .expression_attribute_names("#pk", "session_id")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#deny", "aws_deny")
            .expression_attribute_names("#at", "aws_deny_at")
            .expression_attribute_names("#why", "aws_deny_reason")
            .expression_attribute_values(
                ":revoked",
                AttributeValue::S(Status::Revoked.as_str().to_owned()),
            )
            .expression_attribute_values(":deny", AttributeValue::S(state.as_str().to_owned()));
        match at {
            Some(at) => {
                set.push("#at = :at");
                request = request.expression_attribute_values(":at", AttributeValue::S(at));
            }
            None => remove.push("#at"),
        }
        match reason {
            Some(reason) => {
                set.push("#why = :why");
                request = request.expression_attribute_values(":why", AttributeValue::S(reason));
            }
            None => remove.push("#why"),
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        match request.update_expression(expression).send().await {
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

    async fn revoked_unexpired(
        &self,
        role: &RoleArn,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let mut records = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(REVOKED_BY_ROLE)
            .key_condition_expression("#rr = :role AND #exp > :now")
            .expression_attribute_names("#rr", REVOKED_ROLE_ATTRIBUTE)
            .expression_attribute_names("#exp", "expires_at_epoch")
            .expression_attribute_values(":role", AttributeValue::S(role.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| unavailable(&self.table, "Query", &e))?;
            for item in page.items() {
                let record = from_item(item)?;
                // expires_at_epoch is whole seconds; the row's own time decides.
                if record.expires_at > now {
                    records.push(record);
                }
            }
        }
        Ok(records)
    }

    async fn put_new(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", "session_id")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::AlreadyExists(record.session_id.clone()))
            }
            Err(e) => Err(unavailable(&self.table, "PutItem", &e).into()),
        }
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("session_id", AttributeValue::S(id.as_str().to_owned()))
            // SECURITY: a revocation must take effect on the next read, so never eventually consistent.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(&self.table, "GetItem", &e))?;
        out.item.as_ref().map(from_item).transpose()
    }

    async fn revoke(
        &self,
        id: &SessionId,
        revocation: &Revocation,
    ) -> Result<RevokeOutcome, StoreError> {
        // Only an active row is updated, so a second revocation cannot overwrite the first
        // one's audit values; `attribute_exists` keeps an unknown id from creating a row.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("session_id", AttributeValue::S(id.as_str().to_owned()))
            .condition_expression("attribute_exists(#pk) AND #status = :active")
            .update_expression(
                "SET #status = :revoked, #at = :at, #by = :by, #reason = :reason, #rr = #role, #deny = :pending",
            )
            .expression_attribute_names("#rr", REVOKED_ROLE_ATTRIBUTE)
            .expression_attribute_names("#role", "role_arn")
            .expression_attribute_names("#deny", "aws_deny")
            .expression_attribute_values(
                ":pending",
                AttributeValue::S(AwsDeny::Pending.as_str().to_owned()),
            )
            .expression_attribute_names("#pk", "session_id")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#at", "revoked_at")
            .expression_attribute_names("#by", "revoked_by")
            .expression_attribute_names("#reason", "revoked_reason")
            .expression_attribute_values(
                ":active",
                AttributeValue::S(Status::Active.as_str().to_owned()),
            )
            .expression_attribute_values(
                ":revoked",
                AttributeValue::S(Status::Revoked.as_str().to_owned()),
            )
            .expression_attribute_values(
                ":at",
                AttributeValue::S(timestamp::format(revocation.at)),
            )
            .expression_attribute_values(":by", AttributeValue::S(revocation.by.clone()))
            .expression_attribute_values(":reason", AttributeValue::S(revocation.reason.clone()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match result {
            Ok(out) => {
                let record = match out.attributes {
                    Some(item) => from_item(&item)?,
                    // Some stand-ins omit ALL_NEW; the row is revoked either way.
                    None => self
                        .get(id)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(id.clone()))?,
                };
                return Ok(RevokeOutcome::Revoked(record));
            }
            Err(e) => {
                let Some(UpdateItemError::ConditionalCheckFailedException(failed)) =
                    e.as_service_error()
                else {
                    return Err(unavailable(&self.table, "UpdateItem", &e).into());
                };
                failed.item().map(from_item).transpose()?
            }
        };
        // The condition failed: the row is missing or not active. Without ALL_OLD support
        // (some stand-ins), a consistent read tells which.
        let old = match old {
            Some(record) => Some(record),
            None => self.get(id).await?,
        };
        match old {
            None => Err(StoreError::NotFound(id.clone())),
            Some(record) if record.status() == Status::Revoked => {
                Ok(RevokeOutcome::AlreadyRevoked(record))
            }
            // Active again is impossible (nothing un-revokes); never report it as revoked.
            Some(_) => Err(StoreError::Unavailable(format!(
                "session `{id}` changed during revocation; try again"
            ))),
        }
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let limit = query.page_size()?;
        let access = query.access();
        let mut start = query.start_key()?.map(|Cursor(key)| {
            key.into_iter()
                .map(|(k, v)| (k, AttributeValue::S(v)))
                .collect::<Item>()
        });
        // DynamoDB's Limit counts rows read before the filter, so a filtered page may need
        // several requests; each reads at most `limit` rows, and the cursor is built from the
        // last record returned, so no row is skipped or repeated.
        let request_limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let mut records = Vec::new();
        let next_cursor = loop {
            let (items, last_key) = self.read_page(query, request_limit, start.take()).await?;
            let mut items = items.into_iter();
            for item in items.by_ref() {
                records.push(from_item(&item)?);
                if records.len() == limit {
                    break;
                }
            }
            let more = items.next().is_some() || last_key.is_some();
            if records.len() == limit {
                break more
                    .then(|| records.last().map(|r| Cursor::after(r, access).encode()))
                    .flatten();
            }
            match last_key {
                Some(key) => start = Some(key),
                None => break None,
            }
        };
        if access == Access::Scan {
            records.sort_by_key(|r| std::cmp::Reverse(r.issued_at));
        }
        Ok(Page {
            records,
            next_cursor,
        })
    }
}

impl LeaseStore for DynamoSessionStore {
    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(
                "session_id",
                AttributeValue::S(format!("{LEASE_PREFIX}{name}")),
            )
            .item("lease_owner", AttributeValue::S(owner.to_owned()))
            .item(
                "lease_until",
                AttributeValue::N(until.timestamp_millis().to_string()),
            )
            // A lease outlives its use by a day at most, then DynamoDB may delete it.
            .item(
                TTL_ATTRIBUTE,
                AttributeValue::N((until.timestamp() + 86_400).to_string()),
            )
            .condition_expression("attribute_not_exists(#pk) OR #owner = :owner OR #until < :now")
            .expression_attribute_names("#pk", "session_id")
            .expression_attribute_names("#owner", "lease_owner")
            .expression_attribute_names("#until", "lease_until")
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(&self.table, "PutItem", &e).into()),
        }
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(
                "session_id",
                AttributeValue::S(format!("{LEASE_PREFIX}{name}")),
            )
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "lease_owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
            .send()
            .await;
        match result {
            // Someone else took it over after it expired: not ours to delete.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(&self.table, "DeleteItem", &e).into()),
            Ok(_) => Ok(()),
        }
    }
}

/// Creates the session table as docs/sessions.md lays it out: on-demand billing, partition key
/// `session_id` (S), indexes `by-user` (`user`, `issued_at`) and `by-profile` (`profile`,
/// `issued_at`) projecting every attribute, and time to live on `ttl`. Idempotent: an
/// existing table is accepted if it has both indexes. Returns once the table and its indexes
/// are active.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let by_issued_at = |name, partition| Index {
        name,
        partition,
        sort: KeyAttribute::String("issued_at"),
    };
    let layout = Layout {
        table,
        key: "session_id",
        indexes: &[
            by_issued_at(BY_USER, "user"),
            by_issued_at(BY_PROFILE, "profile"),
            Index {
                name: REVOKED_BY_ROLE,
                partition: REVOKED_ROLE_ATTRIBUTE,
                sort: KeyAttribute::Number("expires_at_epoch"),
            },
        ],
        ttl: TTL_ATTRIBUTE,
    };
    Ok(layout.create(client).await?)
}

impl From<TableError> for StoreError {
    fn from(e: TableError) -> Self {
        match e {
            TableError::Unavailable(message) => Self::Unavailable(message),
            TableError::Corrupt(message) => Self::Corrupt(message),
        }
    }
}

/// The stored item for `record`: every attribute of docs/sessions.md, absent options omitted.
pub(crate) fn to_item(record: &SessionRecord) -> Item {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let mut item = Item::from([
        ("session_id".to_owned(), s(record.session_id.as_str())),
        ("principal_arn".to_owned(), s(&record.principal_arn)),
        ("account_id".to_owned(), s(record.account_id.as_str())),
        ("user".to_owned(), s(&record.user)),
        ("profile".to_owned(), s(record.profile.as_str())),
        ("role_arn".to_owned(), s(record.role_arn.as_str())),
        (
            "source_identity".to_owned(),
            s(record.source_identity.as_str()),
        ),
        ("access_key_id".to_owned(), s(&record.access_key_id)),
        ("rule".to_owned(), s(&record.rule)),
        ("status".to_owned(), s(record.status().as_str())),
        (
            "issued_at".to_owned(),
            s(&timestamp::format(record.issued_at)),
        ),
        (
            "expires_at".to_owned(),
            s(&timestamp::format(record.expires_at)),
        ),
        (
            "expires_at_epoch".to_owned(),
            AttributeValue::N(record.expires_at.timestamp().to_string()),
        ),
        ("request_id".to_owned(), s(&record.request_id)),
        ("ttl".to_owned(), AttributeValue::N(record.ttl.to_string())),
    ]);
    let revocation = record.revocation();
    let deny = record.aws_deny();
    let optional = [
        ("source_ip", record.source_ip.clone()),
        ("user_agent", record.user_agent.clone()),
        ("approval_id", record.approval_id.clone()),
        ("breakglass_id", record.breakglass_id.clone()),
        ("revoked_at", revocation.map(|r| timestamp::format(r.at))),
        ("revoked_by", revocation.map(|r| r.by.clone())),
        ("revoked_reason", revocation.map(|r| r.reason.clone())),
        // The sparse index of revoked sessions by role (layer 2 rebuilds from it).
        (
            REVOKED_ROLE_ATTRIBUTE,
            revocation.map(|_| record.role_arn.to_string()),
        ),
        ("aws_deny", deny.map(|d| d.as_str().to_owned())),
        (
            "aws_deny_at",
            match deny {
                Some(AwsDeny::Applied { at }) => Some(timestamp::format(*at)),
                _ => None,
            },
        ),
        (
            "aws_deny_reason",
            match deny {
                Some(AwsDeny::Failed { reason }) => Some(reason.clone()),
                _ => None,
            },
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.to_owned(), AttributeValue::S(value));
        }
    }
    item
}

/// Decodes a stored item; any attribute that is missing or of the wrong shape is
/// [`StoreError::Corrupt`] naming it. `expires_at_epoch` is derived, so it is not read back.
pub(crate) fn from_item(item: &Item) -> Result<SessionRecord, StoreError> {
    // Messages name the session when its id is readable, and nothing otherwise.
    let row = Fields::new(
        item,
        match item.get("session_id").and_then(|v| v.as_s().ok()) {
            Some(id) => format!("session `{id}`: "),
            None => String::new(),
        },
    );
    let session_id = SessionId::parse(&row.string("session_id")?)
        .map_err(|_| row.corrupt("session_id", "is not a session id"))?;
    let status = row
        .string("status")?
        .parse::<Status>()
        .map_err(|_| row.corrupt("status", "is not `active` or `revoked`"))?;
    let revoked_at = row.optional_time("revoked_at")?;
    let aws_deny = row.optional_string("aws_deny")?;
    let deny = AwsDeny::from_parts(
        aws_deny.as_deref(),
        row.optional_time("aws_deny_at")?,
        row.optional_string("aws_deny_reason")?,
    )
    .map_err(|problem| row.corrupt("aws_deny", &problem))?;
    let state = SessionState::from_parts(
        status,
        revoked_at,
        row.optional_string("revoked_by")?,
        row.optional_string("revoked_reason")?,
        aws_deny.is_some().then_some(deny),
    )
    .map_err(|problem| row.corrupt("status", &format!("does not fit the row: {problem}")))?;
    Ok(SessionRecord {
        principal_arn: row.string("principal_arn")?,
        account_id: row.parsed("account_id")?,
        user: row.string("user")?,
        profile: row.parsed("profile")?,
        role_arn: row.parsed("role_arn")?,
        source_identity: row.parsed("source_identity")?,
        access_key_id: row.string("access_key_id")?,
        rule: row.string("rule")?,
        state,
        issued_at: row.time("issued_at")?,
        expires_at: row.time("expires_at")?,
        source_ip: row.optional_string("source_ip")?,
        user_agent: row.optional_string("user_agent")?,
        approval_id: row.optional_string("approval_id")?,
        breakglass_id: row.optional_string("breakglass_id")?,
        request_id: row.string("request_id")?,
        ttl: row
            .number_text("ttl")?
            .parse()
            .map_err(|_| row.corrupt("ttl", "is not an integer"))?,
        session_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::sample_record;

    #[test]
    fn item_round_trips_a_full_record() {
        let record = sample_record();
        assert_eq!(from_item(&to_item(&record)).unwrap(), record);
    }

    #[test]
    fn item_has_the_spec_attribute_names_and_types() {
        let item = to_item(&sample_record());
        let s = |name: &str| item.get(name).unwrap().as_s().unwrap().clone();
        for name in [
            "session_id",
            "principal_arn",
            "account_id",
            "user",
            "profile",
            "role_arn",
            "source_identity",
            "access_key_id",
            "rule",
            "status",
            "issued_at",
            "expires_at",
            "source_ip",
            "user_agent",
            "request_id",
            "approval_id",
            "breakglass_id",
            "revoked_at",
            "revoked_by",
            "revoked_reason",
            "revoked_role_arn",
            "aws_deny",
        ] {
            assert!(item.get(name).unwrap().is_s(), "{name} is not S");
        }
        assert_eq!(item.len(), 24);
        assert_eq!(s("status"), "revoked");
        assert_eq!(s("aws_deny"), "pending");
        assert_eq!(
            s("revoked_role_arn"),
            s("role_arn"),
            "the sparse index of revoked sessions by role"
        );
        assert_eq!(s("issued_at"), "2026-11-22T14:15:00.123456789Z");
        assert_eq!(s("expires_at"), "2026-11-22T14:30:00.000000000Z");
        assert_eq!(s("revoked_at"), "2026-11-22T14:20:00.123456789Z");
        let n = |name: &str| item.get(name).unwrap().as_n().unwrap().clone();
        assert_eq!(n("expires_at_epoch"), "1795357800");
        assert_eq!(n("ttl"), (1_795_357_800_i64 + 90 * 86_400).to_string());
    }

    #[test]
    fn absent_options_are_omitted_not_null() {
        let mut record = sample_record();
        record.state = SessionState::Active;
        record.source_ip = None;
        record.user_agent = None;
        record.approval_id = None;
        record.breakglass_id = None;
        let item = to_item(&record);
        for name in [
            "source_ip",
            "user_agent",
            "approval_id",
            "breakglass_id",
            "revoked_at",
            "revoked_by",
            "revoked_reason",
        ] {
            assert!(!item.contains_key(name), "{name} is present");
        }
        assert_eq!(item.len(), 15);
        assert_eq!(from_item(&item).unwrap(), record);
    }

    #[test]
    fn undecodable_rows_are_corrupt_and_name_the_attribute() {
        let good = to_item(&sample_record());
        let cases: [(&str, Option<AttributeValue>, &str); 7] = [
            ("user", None, "attribute `user` is missing"),
            (
                "issued_at",
                Some(AttributeValue::S("noon".into())),
                "attribute `issued_at` is not an RFC 3339",
            ),
            (
                "status",
                Some(AttributeValue::S("expired".into())),
                "attribute `status` is not `active`",
            ),
            (
                "ttl",
                Some(AttributeValue::S("1".into())),
                "attribute `ttl` is not a number",
            ),
            (
                "ttl",
                Some(AttributeValue::N("1.5".into())),
                "attribute `ttl` is not an integer",
            ),
            (
                "source_ip",
                Some(AttributeValue::N("1".into())),
                "attribute `source_ip` is not a string",
            ),
            (
                "session_id",
                Some(AttributeValue::S("x".into())),
                "attribute `session_id` is not a session id",
            ),
        ];
        for (attribute, value, expected) in cases {
            let mut item = good.clone();
            match value {
                Some(v) => item.insert(attribute.to_owned(), v),
                None => item.remove(attribute),
            };
            match from_item(&item) {
                Err(StoreError::Corrupt(message)) => {
                    assert!(message.contains(expected), "{message}")
                }
                other => panic!("{attribute}: expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn timestamps_written_by_other_tools_are_read_as_utc() {
        let mut item = to_item(&sample_record());
        item.insert(
            "expires_at".into(),
            AttributeValue::S("2026-11-22T15:30:00+01:00".into()),
        );
        assert_eq!(
            from_item(&item).unwrap().expires_at,
            sample_record().expires_at
        );
    }
}
