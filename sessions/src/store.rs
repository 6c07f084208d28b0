//! The `SessionStore` port, its queries and its errors.

use std::future::Future;

use chrono::{DateTime, Utc};
use sentinel_types::RoleArn;

use crate::{AwsDeny, Revocation, RevokeOutcome, SessionId, SessionRecord, Status};

/// Where session records live. The TVM writes them, the authorizer reads them and the CLI
/// lists and revokes them. Implementations: [`DynamoSessionStore`](crate::DynamoSessionStore)
/// and, with the `test-util` feature, `InMemorySessionStore`.
pub trait SessionStore: Send + Sync {
    /// Stores a new record. Never overwrites: a record with the same id already stored is
    /// [`StoreError::AlreadyExists`].
    fn put_new(
        &self,
        record: &SessionRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads one record with a strongly consistent read, so a revocation is seen at once.
    fn get(
        &self,
        id: &SessionId,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// Revokes a session. Idempotent: an already revoked session keeps its first
    /// `revoked_*` values and comes back as [`RevokeOutcome::AlreadyRevoked`]. An unknown id
    /// is [`StoreError::NotFound`].
    fn revoke(
        &self,
        id: &SessionId,
        revocation: &Revocation,
    ) -> impl Future<Output = Result<RevokeOutcome, StoreError>> + Send;

    /// Lists records matching `query`, one page at a time.
    fn list(&self, query: &ListQuery) -> impl Future<Output = Result<Page, StoreError>> + Send;

    /// Records where revocation layer 2 stands for a revoked session. An unknown or
    /// active session is [`StoreError::NotFound`] (only revoked rows carry the state).
    fn set_aws_deny(
        &self,
        id: &SessionId,
        state: &AwsDeny,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every revoked session of `role` whose credentials expire after `now` (all pages):
    /// what the role's deny must hold. Served by an index, so it may lag a revocation
    /// made an instant ago; callers add the sessions they know of.
    fn revoked_unexpired(
        &self,
        role: &RoleArn,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<SessionRecord>, StoreError>> + Send;
}

/// Short exclusive leases (one per protected role) so that only one writer rebuilds a
/// role's deny at a time. IAM has no conditional write; the lease is one.
pub trait LeaseStore: Send + Sync {
    /// Takes the lease `name` for `owner` until `until`, when it is free, expired (its
    /// holder's `until` is before `now`) or already `owner`'s. `false`: someone else holds it.
    fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Gives the lease back, if `owner` still holds it.
    fn release_lease(
        &self,
        name: &str,
        owner: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Which sessions to list. Every field present must match; all absent lists everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only sessions of this user (served by the `by-user` index).
    pub user: Option<String>,
    /// Only sessions for this profile (served by the `by-profile` index unless `user` is
    /// also set, in which case it filters the user's sessions).
    pub profile: Option<String>,
    /// Only sessions with this status.
    pub status: Option<Status>,
    /// Page size; [`ListQuery::DEFAULT_LIMIT`] when absent. Zero is refused.
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page of the same query.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// Page size when `limit` is absent.
    pub const DEFAULT_LIMIT: usize = 100;

    /// Whether `record` satisfies every condition of the query (DynamoDB evaluates the
    /// same conditions server side).
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn matches(&self, record: &SessionRecord) -> bool {
        self.user.as_ref().is_none_or(|u| *u == record.user)
            && self
                .profile
                .as_ref()
                .is_none_or(|p| p == record.profile.as_str())
            && self.status.is_none_or(|s| s == record.status())
    }
}

/// One page of records. Pages of a user or profile query are newest first, and so are the
/// records within any page; a full listing without either visits the table in its own
/// order, page by page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The records of this page, at most the query's limit.
    pub records: Vec<SessionRecord>,
    /// Pass back as [`ListQuery::cursor`] (with the same query) for the next page; `None`
    /// on the last page.
    pub next_cursor: Option<String>,
}

/// Why a store call failed. Messages carry ids and attribute names, never credentials.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `put_new` found a record with the same id.
    #[error("session `{0}` already exists")]
    AlreadyExists(SessionId),
    /// `revoke` found no record with this id.
    #[error("session `{0}` does not exist")]
    NotFound(SessionId),
    /// The query or its cursor is not acceptable.
    #[error("invalid session query: {0}")]
    InvalidQuery(String),
    /// The backing service could not be reached or refused the call.
    #[error("the session store is unavailable: {0}")]
    Unavailable(String),
    /// A stored row could not be decoded; the message names the attribute.
    #[error("a stored session is corrupt: {0}")]
    Corrupt(String),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random(#[source] getrandom::Error),
}
