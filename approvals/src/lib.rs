//! Sentinel's approval requests and break-glass events (docs/approvals.md) and where they
//! are kept.
//!
//! A [`Request`] is one engineer's ask for a profile that needs approval: its status moves
//! `pending` → `approved` | `denied` | `expired`, and an approved one → `revoked`. A
//! [`BreakGlassEvent`] is one emergency use of a profile, `needs_review` until someone
//! closes it. The TVM is the only writer of both tables; every state change is one
//! conditional write ([`ApprovalStore::replace`] on the request's `version`,
//! [`BreakGlassStore::begin`] on the caller's cooldown, [`BreakGlassStore::review`] on the
//! event's status), so two approvers at once count once and nothing moves a request out
//! of a final state.
//!
//! The crate holds the records, the two ports, their DynamoDB adapters behind the
//! `dynamodb` feature and, behind `test-util`, in-memory fakes and the `contract` suites
//! every store must pass. Without features it is pure: records and ports. It decides
//! nothing about *who* may approve (that is the policy's `approvers`, crate `policy`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), approvals::StoreError> {
//! use approvals::{ApprovalStore, InMemoryApprovalStore, RequestQuery, StoreError};
//!
//! // In production: DynamoApprovalStore::new(aws_sdk_dynamodb::Client::new(&config), table).
//! let store = InMemoryApprovalStore::new();
//! let request = approvals::contract::request(1, "carol", "prod");
//! store.create(&request).await?;
//!
//! // Two approvers read version 1 and write at once: the second write is stale.
//! let approval = approvals::contract::approval(&request, "alice", 0, 5);
//! // The last argument names the person behind a principal ARN (the TVM's is
//! // `policy::identity::Caller::person`); here every ARN is its own person.
//! let approved = request.approve(approval, 1, 1, str::to_owned)?;
//! let denied = request.deny(approvals::contract::closure(&request, "bob", 5))?;
//! store.replace(&approved).await?;
//! assert!(matches!(store.replace(&denied).await, Err(StoreError::Stale(_))));
//!
//! let query = RequestQuery { requester: Some("carol".into()), limit: 10, ..RequestQuery::default() };
//! assert_eq!(store.list(&query).await?.items, [approved]);
//! # Ok(())
//! # }
//! ```

#[cfg(any(test, feature = "test-util"))]
pub mod contract;
#[cfg(feature = "dynamodb")]
mod dynamodb;
#[cfg(any(test, feature = "test-util", feature = "dynamodb"))]
mod listing;
#[cfg(any(test, feature = "test-util"))]
mod memory;
mod record;
mod store;

#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoApprovalStore, DynamoBreakGlassStore, RETENTION_DAYS, create_tables};
#[cfg(any(test, feature = "test-util"))]
pub use memory::{InMemoryApprovalStore, InMemoryBreakGlassStore};
pub use record::{
    Approval, BreakGlassEvent, Closure, Conflict, Request, RequestId, RequestStatus, Review,
    ReviewStatus, new_id,
};
pub use store::{ApprovalStore, BreakGlassStore, Page, RequestQuery, StoreError};
