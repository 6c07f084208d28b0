//! The DynamoDB table plumbing Sentinel's stores share (crate `sessions`' session table,
//! crate `approvals`' approval and break-glass tables): [`Layout::create`] creates a table
//! idempotently, waits until it and its indexes are active and turns on time to live;
//! [`unavailable`] describes a failed SDK call in one line; [`Fields`] reads a stored
//! item's attributes, naming the one that does not decode. Timestamps are read in the
//! stored form of `sentinel_types::timestamp`.
//!
//! It is not a store: each crate owns its port, its item mapping and its `StoreError`,
//! into which it maps [`TableError`]. It holds no table names or layouts of its own.
//!
//! ```no_run
//! # async fn example(client: &aws_sdk_dynamodb::Client) -> Result<(), sentinel_aws_dynamodb::TableError> {
//! use sentinel_aws_dynamodb::{Index, KeyAttribute, Layout};
//!
//! let layout = Layout {
//!     table: "requests",
//!     key: "request_id",
//!     indexes: &[Index {
//!         name: "by-requester",
//!         partition: "requester",
//!         sort: KeyAttribute::String("created_at"),
//!     }],
//!     ttl: "ttl",
//! };
//! layout.create(client).await?;
//! # Ok(())
//! # }
//! ```

mod failure;
mod fields;
mod layout;

pub use failure::unavailable;
pub use fields::{Fields, Item};
pub use layout::{Index, KeyAttribute, Layout};

/// What went wrong, in the two kinds each store's own `StoreError` carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The table could not be created, described, read or written (one line, for logs
    /// and operators; SDK errors carry no credentials).
    #[error("{0}")]
    Unavailable(String),
    /// A stored item does not decode; the message names the attribute.
    #[error("{0}")]
    Corrupt(String),
}
