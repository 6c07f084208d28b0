//! The two ports, their queries and their errors.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::record::Conflict;
use crate::{BreakGlassEvent, Request, RequestId, RequestStatus, Review, ReviewStatus};

/// Where approval requests live (`SENTINEL_APPROVAL_TABLE`). Only the TVM writes it.
pub trait ApprovalStore: Send + Sync {
    /// Stores a new request. Never overwrites: an existing ID is
    /// [`StoreError::AlreadyExists`].
    fn create(&self, request: &Request) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads one request with a strongly consistent read.
    fn get(
        &self,
        id: &RequestId,
    ) -> impl Future<Output = Result<Option<Request>, StoreError>> + Send;

    /// Writes `next` over the stored request only if the stored one's `version` is
    /// `next.version - 1` (one conditional write): otherwise [`StoreError::Stale`] and
    /// nothing changes. An unknown ID is [`StoreError::NotFound`].
    fn replace(&self, next: &Request) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Lists requests matching `query`, newest first within a requester's, one page at
    /// a time.
    fn list(
        &self,
        query: &RequestQuery,
    ) -> impl Future<Output = Result<Page<Request>, StoreError>> + Send;
}

/// Where break-glass events live (`SENTINEL_BREAKGLASS_TABLE`), with each user's
/// cooldown per profile. Only the TVM writes it.
pub trait BreakGlassStore: Send + Sync {
    /// Starts the cooldown of (`holder`, `event.profile`) until `cooldown_until`,
    /// unless one runs past `event.created_at` ([`StoreError::Cooldown`] with its end:
    /// one conditional write), then stores the event. `holder` is the person behind
    /// `event.user` (`policy::identity::Caller::person`): every session of one role
    /// shares a cooldown.
    fn begin(
        &self,
        event: &BreakGlassEvent,
        holder: &str,
        cooldown_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Ends the cooldown of (`holder`, `event.profile`) if `event` started it (one
    /// conditional delete): a use that vended nothing does not hold the door shut. A
    /// cooldown another event started, or none, is left as it is (`Ok`).
    fn release(
        &self,
        event: &BreakGlassEvent,
        holder: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads one event with a strongly consistent read.
    fn get(
        &self,
        id: &RequestId,
    ) -> impl Future<Output = Result<Option<BreakGlassEvent>, StoreError>> + Send;

    /// Records the session vended under the event.
    fn attach_session(
        &self,
        id: &RequestId,
        session: &sentinel_types::SessionId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Closes an event that needs review (one conditional write on its status): a
    /// reviewed one is [`StoreError::AlreadyReviewed`], an unknown one
    /// [`StoreError::NotFound`]. Returns the event as stored.
    fn review(
        &self,
        id: &RequestId,
        review: &Review,
    ) -> impl Future<Output = Result<BreakGlassEvent, StoreError>> + Send;

    /// Lists events, newest first, optionally only those with `status`.
    fn list(
        &self,
        status: Option<ReviewStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<BreakGlassEvent>, StoreError>> + Send;

    /// The deployment's cursor key: 32 random bytes that the first caller creates (one
    /// conditional write) and every later caller, on any instance, reads back unchanged.
    /// The TVM seals the listing cursors it hands out with it, so that a cursor tells its
    /// holder nothing about the row it stops at (docs/api.md). It lives in this table
    /// because only the TVM reads or writes it.
    fn cursor_key(&self) -> impl Future<Output = Result<[u8; 32], StoreError>> + Send;
}

/// Which requests to list. Every field present must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestQuery {
    /// Only this requester's (served by the `by-requester` index, newest first).
    pub requester: Option<String>,
    /// Only this profile's.
    pub profile: Option<String>,
    /// Only those whose *stored* status is this one (a pending request past its expiry
    /// is stored `pending`; callers read [`Request::status_at`]).
    pub status: Option<RequestStatus>,
    /// Page size (at least 1).
    pub limit: usize,
    /// The `next_cursor` of the previous page of the same query.
    pub cursor: Option<String>,
}

/// One page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// At most the query's limit.
    pub items: Vec<T>,
    /// Pass back for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// Why a store call failed. Messages carry IDs and attribute names only.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `create` found the ID taken.
    #[error("`{0}` already exists")]
    AlreadyExists(RequestId),
    /// No request or event with this ID.
    #[error("`{0}` does not exist")]
    NotFound(RequestId),
    /// `replace` lost a race: the stored request changed since it was read.
    #[error("request `{0}` changed since it was read")]
    Stale(RequestId),
    /// A pure transition refused.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// `begin` found the user's cooldown for the profile running until this instant.
    #[error("break-glass is cooling down until {0}")]
    Cooldown(DateTime<Utc>),
    /// `review` found the event already reviewed.
    #[error("break-glass event `{0}` is already reviewed")]
    AlreadyReviewed(RequestId),
    /// The query or its cursor is not acceptable.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The backing service could not be reached or refused the call.
    #[error("the approval store is unavailable: {0}")]
    Unavailable(String),
    /// A stored row could not be decoded; the message names the attribute.
    #[error("a stored row is corrupt: {0}")]
    Corrupt(String),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random(#[source] getrandom::Error),
}
