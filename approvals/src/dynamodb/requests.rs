//! [`DynamoApprovalStore`]: the approval table's [`ApprovalStore`], and the read budget of
//! a filtered listing page.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use sentinel_aws_dynamodb::unavailable;

#[cfg(doc)]
use super::create_tables;
use super::items::{request_from_item, request_item};
use super::pages::list;
use crate::listing::Listing;
use crate::{ApprovalStore, Page, Request, RequestId, RequestQuery, StoreError};

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
pub(super) struct ReadBudget {
    pub(super) reads: usize,
    pub(super) rows: i32,
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
