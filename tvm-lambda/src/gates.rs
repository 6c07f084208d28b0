//! What approvals and break-glass need beyond the vend path (docs/approvals.md): the
//! two tables and the notifier, as one optional part of the [`crate::Service`].
//!
//! The stores' ports (crate `approvals`) return `impl Future`; the service holds them as
//! trait objects (boxed futures, one allocation per call) so that its type does not grow
//! two more parameters.

use std::future::Future;
use std::pin::Pin;

use approvals::{
    ApprovalStore, BreakGlassEvent, BreakGlassStore, Page, Request, RequestId, RequestQuery,
    Review, ReviewStatus, StoreError,
};
use chrono::{DateTime, Utc};
use sentinel_types::SessionId;

use crate::cursor::{CursorError, CursorSeal, Holder};
use crate::notify::Notifier;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// [`ApprovalStore`] as a trait object.
pub trait Approvals: Send + Sync {
    fn create<'a>(&'a self, request: &'a Request) -> Boxed<'a, ()>;
    fn get<'a>(&'a self, id: &'a RequestId) -> Boxed<'a, Option<Request>>;
    fn replace<'a>(&'a self, next: &'a Request) -> Boxed<'a, ()>;
    fn list<'a>(&'a self, query: &'a RequestQuery) -> Boxed<'a, Page<Request>>;
}

impl<T: ApprovalStore> Approvals for T {
    fn create<'a>(&'a self, request: &'a Request) -> Boxed<'a, ()> {
        Box::pin(ApprovalStore::create(self, request))
    }
    fn get<'a>(&'a self, id: &'a RequestId) -> Boxed<'a, Option<Request>> {
        Box::pin(ApprovalStore::get(self, id))
    }
    fn replace<'a>(&'a self, next: &'a Request) -> Boxed<'a, ()> {
        Box::pin(ApprovalStore::replace(self, next))
    }
    fn list<'a>(&'a self, query: &'a RequestQuery) -> Boxed<'a, Page<Request>> {
        Box::pin(ApprovalStore::list(self, query))
    }
}

/// [`BreakGlassStore`] as a trait object.
pub trait BreakGlasses: Send + Sync {
    fn begin<'a>(
        &'a self,
        event: &'a BreakGlassEvent,
        holder: &'a str,
        cooldown_until: DateTime<Utc>,
    ) -> Boxed<'a, ()>;
    fn release<'a>(&'a self, event: &'a BreakGlassEvent, holder: &'a str) -> Boxed<'a, ()>;
    fn get<'a>(&'a self, id: &'a RequestId) -> Boxed<'a, Option<BreakGlassEvent>>;
    fn attach_session<'a>(&'a self, id: &'a RequestId, session: &'a SessionId) -> Boxed<'a, ()>;
    fn review<'a>(&'a self, id: &'a RequestId, review: &'a Review) -> Boxed<'a, BreakGlassEvent>;
    fn list<'a>(
        &'a self,
        status: Option<ReviewStatus>,
        limit: usize,
        cursor: Option<&'a str>,
    ) -> Boxed<'a, Page<BreakGlassEvent>>;
    fn cursor_key(&self) -> Boxed<'_, [u8; 32]>;
}

impl<T: BreakGlassStore> BreakGlasses for T {
    fn begin<'a>(
        &'a self,
        event: &'a BreakGlassEvent,
        holder: &'a str,
        cooldown_until: DateTime<Utc>,
    ) -> Boxed<'a, ()> {
        Box::pin(BreakGlassStore::begin(self, event, holder, cooldown_until))
    }
    fn release<'a>(&'a self, event: &'a BreakGlassEvent, holder: &'a str) -> Boxed<'a, ()> {
        Box::pin(BreakGlassStore::release(self, event, holder))
    }
    fn get<'a>(&'a self, id: &'a RequestId) -> Boxed<'a, Option<BreakGlassEvent>> {
        Box::pin(BreakGlassStore::get(self, id))
    }
    fn attach_session<'a>(&'a self, id: &'a RequestId, session: &'a SessionId) -> Boxed<'a, ()> {
        Box::pin(BreakGlassStore::attach_session(self, id, session))
    }
    fn review<'a>(&'a self, id: &'a RequestId, review: &'a Review) -> Boxed<'a, BreakGlassEvent> {
        Box::pin(BreakGlassStore::review(self, id, review))
    }
    fn list<'a>(
        &'a self,
        status: Option<ReviewStatus>,
        limit: usize,
        cursor: Option<&'a str>,
    ) -> Boxed<'a, Page<BreakGlassEvent>> {
        Box::pin(BreakGlassStore::list(self, status, limit, cursor))
    }
    fn cursor_key(&self) -> Boxed<'_, [u8; 32]> {
        Box::pin(BreakGlassStore::cursor_key(self))
    }
}

/// The approval table, the break-glass table and who is told of their transitions.
pub struct Gates {
    pub(crate) approvals: Box<dyn Approvals>,
    pub(crate) breakglass: Box<dyn BreakGlasses>,
    pub(crate) notifier: Notifier,
    /// Seals the listing cursors handed out (`crate::cursor`).
    pub(crate) cursors: CursorSeal,
}

impl Gates {
    /// Both tables (`SENTINEL_APPROVAL_TABLE`, `SENTINEL_BREAKGLASS_TABLE`) and the notifier.
    pub fn new(
        approvals: impl ApprovalStore + 'static,
        breakglass: impl BreakGlassStore + 'static,
        notifier: Notifier,
    ) -> Self {
        Self {
            approvals: Box::new(approvals),
            breakglass: Box::new(breakglass),
            notifier,
            cursors: CursorSeal::default(),
        }
    }

    /// The store's cursor of a listing in `sealed`, a `next` this TVM gave `holder`.
    pub(crate) async fn open_cursor(
        &self,
        holder: &Holder<'_>,
        sealed: Option<String>,
    ) -> Result<Option<String>, CursorError> {
        self.cursors.open(&*self.breakglass, holder, sealed).await
    }

    /// A store's `cursor`, sealed for `holder`, as `next`.
    pub(crate) async fn seal_cursor(
        &self,
        holder: &Holder<'_>,
        cursor: Option<String>,
    ) -> Result<Option<String>, CursorError> {
        self.cursors.seal(&*self.breakglass, holder, cursor).await
    }
}
