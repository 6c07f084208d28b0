//! Sentinel's session records and where they are kept.
//!
//! Every set of credentials the TVM vends gets a [`SessionRecord`]: who asked, for which
//! profile, under which rule, and until when. The TVM writes it before returning the
//! credentials, the authorizer reads it to refuse revoked sessions, and the CLI lists and
//! revokes sessions. Rows outlive the credentials (their `ttl` adds a retention period), so
//! the table doubles as an audit trail.
//!
//! The crate holds the record, the [`SessionStore`] port, its DynamoDB adapter behind the
//! `dynamodb` feature (`DynamoSessionStore`, with `create_table` for the layout of docs/sessions.md)
//! and, behind the `test-util` feature, `InMemorySessionStore`, a fake with the same
//! semantics, and `contract`, the behaviour every store must show. Without features the
//! crate is pure: the record types and the port.
//!
//! It is not a policy engine, does not decide whether a session may be used beyond
//! [`SessionRecord::is_active_at`], and does not read configuration: the caller builds the
//! SDK client and names the table.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sessions::StoreError> {
//! use chrono::{TimeDelta, Utc};
//! use sessions::{InMemorySessionStore, ListQuery, Revocation, RevokeOutcome, SessionRecord, SessionState, SessionStore};
//!
//! // In production: DynamoSessionStore::new(aws_sdk_dynamodb::Client::new(&config), table).
//! let store = InMemorySessionStore::new();
//! let now = Utc::now();
//! let expires_at = now + TimeDelta::minutes(15);
//! let record = SessionRecord {
//!     session_id: sessions::new_session_id()?,
//!     principal_arn: "arn:aws:iam::111122223333:user/alice".into(),
//!     account_id: "111122223333".parse().unwrap(),
//!     user: "alice".into(),
//!     profile: "prod".parse().unwrap(),
//!     role_arn: "arn:aws:iam::111122223333:role/SentinelProtected-prod".parse().unwrap(),
//!     source_identity: "sentinel=alice".parse().unwrap(),
//!     access_key_id: "ASIAEXAMPLE".into(),
//!     rule: "oncall".into(),
//!     state: SessionState::Active,
//!     issued_at: now,
//!     expires_at,
//!     source_ip: None,
//!     approval_id: None,
//!     breakglass_id: None,
//!     user_agent: None,
//!     request_id: "req-1".into(),
//!     ttl: SessionRecord::ttl_for(expires_at, 90),
//! };
//! store.put_new(&record).await?;
//!
//! let revocation = Revocation { by: "admin".into(), reason: "laptop lost".into(), at: now };
//! let outcome = store.revoke(&record.session_id, &revocation).await?;
//! assert!(matches!(outcome, RevokeOutcome::Revoked(_)));
//! assert!(!store.get(&record.session_id).await?.is_some_and(|r| r.is_active_at(now)));
//!
//! let page = store.list(&ListQuery { user: Some("alice".into()), ..ListQuery::default() }).await?;
//! assert_eq!(page.records.len(), 1);
//! # Ok(())
//! # }
//! ```

#[cfg(any(test, feature = "test-util"))]
pub mod contract;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod id;
#[cfg(any(test, feature = "dynamodb", feature = "test-util"))]
mod listing;
#[cfg(any(test, feature = "test-util"))]
mod memory;
mod record;
mod store;

#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoSessionStore, create_table};
pub use id::new_session_id;
#[cfg(any(test, feature = "test-util"))]
pub use memory::InMemorySessionStore;
pub use record::{
    AwsDeny, InvalidStatus, Revocation, RevokeOutcome, SessionRecord, SessionState, Status,
};
pub use sentinel_types::SessionId;
pub use store::{LeaseStore, ListQuery, Page, SessionStore, StoreError};
