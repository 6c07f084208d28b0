//! [`DynamoBreakGlassStore`]: the break-glass table's [`BreakGlassStore`], and the keys and
//! `until` of its cooldown items.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, Utc};
use sentinel_aws_dynamodb::{Fields, Item, unavailable};
use sentinel_types::{ProfileName, SessionId, timestamp};

#[cfg(doc)]
use super::create_tables;
use super::cursor_key;
use super::items::{TTL_ATTRIBUTE, event_from_item, event_item, review_value, ttl};
use super::pages::list;
use super::requests::ReadBudget;
use crate::listing::Listing;
use crate::{BreakGlassEvent, BreakGlassStore, Page, RequestId, Review, ReviewStatus, StoreError};

/// Cooldown items share the break-glass table; their keys cannot be event IDs (hex).
const COOLDOWN_PREFIX: &str = "cooldown#";
/// A cooldown item is useless once its `until` has passed; DynamoDB may delete it a day later.
const COOLDOWN_RETENTION_DAYS: i64 = 1;

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

/// The key of `user`'s cooldown item for `profile` (see the module documentation).
pub(super) fn cooldown_key(user: &str, profile: &ProfileName) -> String {
    format!("{COOLDOWN_PREFIX}{profile}#{user}")
}

/// The `until` of a stored cooldown item.
fn cooldown_until(item: &Item) -> Result<DateTime<Utc>, StoreError> {
    Ok(Fields::row(item, "cooldown", "breakglass_id").time("until")?)
}
