//! In-memory stores for tests: the same semantics as the DynamoDB adapters (conditional
//! writes, cooldowns, newest-first pages, cursors bound to their query), plus a switch
//! that makes every call fail as an unreachable table would.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use sentinel_types::{ProfileName, SessionId};

use crate::listing::{Cursor, Listed, Listing};
use crate::{
    ApprovalStore, BreakGlassEvent, BreakGlassStore, Page, Request, RequestId, RequestQuery,
    Review, ReviewStatus, StoreError,
};

/// An [`ApprovalStore`] held in memory. Clones share the same rows, so a test can keep one
/// handle while the code under test owns another.
#[derive(Clone, Debug, Default)]
pub struct InMemoryApprovalStore {
    rows: Arc<Mutex<BTreeMap<RequestId, Request>>>,
    unavailable: Arc<AtomicBool>,
}

impl InMemoryApprovalStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// While `true`, every call fails with [`StoreError::Unavailable`], as when the table
    /// cannot be reached.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every stored request, in ID order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.rows).values().cloned().collect()
    }

    /// Stores `request` as it is, replacing any with the same ID; for arranging a test (an
    /// approved or expired request), not an [`ApprovalStore`] operation.
    pub fn insert(&self, request: Request) {
        lock(&self.rows).insert(request.request_id.clone(), request);
    }

    fn available(&self) -> Result<MutexGuard<'_, BTreeMap<RequestId, Request>>, StoreError> {
        available(&self.unavailable, &self.rows, "approval")
    }
}

impl ApprovalStore for InMemoryApprovalStore {
    async fn create(&self, request: &Request) -> Result<(), StoreError> {
        let mut rows = self.available()?;
        if rows.contains_key(&request.request_id) {
            return Err(StoreError::AlreadyExists(request.request_id.clone()));
        }
        rows.insert(request.request_id.clone(), request.clone());
        Ok(())
    }

    async fn get(&self, id: &RequestId) -> Result<Option<Request>, StoreError> {
        Ok(self.available()?.get(id).cloned())
    }

    async fn replace(&self, next: &Request) -> Result<(), StoreError> {
        let mut rows = self.available()?;
        let stored = rows
            .get_mut(&next.request_id)
            .ok_or_else(|| StoreError::NotFound(next.request_id.clone()))?;
        if next.version.checked_sub(1) != Some(stored.version) {
            return Err(StoreError::Stale(next.request_id.clone()));
        }
        *stored = next.clone();
        Ok(())
    }

    async fn list(&self, query: &RequestQuery) -> Result<Page<Request>, StoreError> {
        let listing = Listing::of_requests(query)?;
        let after = listing.resume(query.cursor.as_deref())?;
        let rows = self.available()?;
        let matching = rows.values().filter(|r| {
            query.requester.as_ref().is_none_or(|u| *u == r.requester)
                && query
                    .profile
                    .as_ref()
                    .is_none_or(|p| p == r.profile.as_str())
                && query.status.is_none_or(|s| s == r.status)
        });
        Ok(page(&listing, after.as_ref(), matching))
    }
}

/// Events by ID, and each (user, profile)'s cooldown end.
#[derive(Debug, Default)]
struct BreakGlassRows {
    events: BTreeMap<RequestId, BreakGlassEvent>,
    /// Each cooldown's end and the event that started it.
    cooldowns: BTreeMap<(String, ProfileName), (DateTime<Utc>, RequestId)>,
    cursor_key: Option<[u8; 32]>,
}

/// A [`BreakGlassStore`] held in memory. Clones share the same rows.
#[derive(Clone, Debug, Default)]
pub struct InMemoryBreakGlassStore {
    rows: Arc<Mutex<BreakGlassRows>>,
    unavailable: Arc<AtomicBool>,
}

impl InMemoryBreakGlassStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// While `true`, every call fails with [`StoreError::Unavailable`], as when the table
    /// cannot be reached.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Every stored event, in ID order.
    pub fn events(&self) -> Vec<BreakGlassEvent> {
        lock(&self.rows).events.values().cloned().collect()
    }

    /// When `user`'s cooldown for `profile` ends, if one was ever started.
    pub fn cooldown_until(&self, user: &str, profile: &ProfileName) -> Option<DateTime<Utc>> {
        lock(&self.rows)
            .cooldowns
            .get(&(user.to_owned(), profile.clone()))
            .map(|(until, _)| *until)
    }

    fn available(&self) -> Result<MutexGuard<'_, BreakGlassRows>, StoreError> {
        available(&self.unavailable, &self.rows, "break-glass")
    }
}

impl BreakGlassStore for InMemoryBreakGlassStore {
    async fn begin(
        &self,
        event: &BreakGlassEvent,
        holder: &str,
        cooldown_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut rows = self.available()?;
        let key = (holder.to_owned(), event.profile.clone());
        // The same order as DynamoDB's transaction reports: the cooldown first.
        if let Some((until, _)) = rows.cooldowns.get(&key)
            && *until > event.created_at
        {
            return Err(StoreError::Cooldown(*until));
        }
        if rows.events.contains_key(&event.breakglass_id) {
            return Err(StoreError::AlreadyExists(event.breakglass_id.clone()));
        }
        rows.cooldowns
            .insert(key, (cooldown_until, event.breakglass_id.clone()));
        rows.events
            .insert(event.breakglass_id.clone(), event.clone());
        Ok(())
    }

    async fn release(&self, event: &BreakGlassEvent, holder: &str) -> Result<(), StoreError> {
        let mut rows = self.available()?;
        let key = (holder.to_owned(), event.profile.clone());
        if rows
            .cooldowns
            .get(&key)
            .is_some_and(|(_, by)| *by == event.breakglass_id)
        {
            rows.cooldowns.remove(&key);
        }
        Ok(())
    }

    async fn get(&self, id: &RequestId) -> Result<Option<BreakGlassEvent>, StoreError> {
        Ok(self.available()?.events.get(id).cloned())
    }

    async fn attach_session(&self, id: &RequestId, session: &SessionId) -> Result<(), StoreError> {
        let mut rows = self.available()?;
        let event = rows
            .events
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(id.clone()))?;
        event.session_id = Some(session.clone());
        Ok(())
    }

    async fn review(&self, id: &RequestId, review: &Review) -> Result<BreakGlassEvent, StoreError> {
        let mut rows = self.available()?;
        let event = rows
            .events
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(id.clone()))?;
        if event.status != ReviewStatus::NeedsReview {
            return Err(StoreError::AlreadyReviewed(id.clone()));
        }
        event.status = ReviewStatus::Reviewed;
        event.review = Some(review.clone());
        Ok(event.clone())
    }

    async fn list(
        &self,
        status: Option<ReviewStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<BreakGlassEvent>, StoreError> {
        let listing = Listing::of_events(status, limit)?;
        let after = listing.resume(cursor)?;
        let rows = self.available()?;
        let matching = rows
            .events
            .values()
            .filter(|e| status.is_none_or(|s| s == e.status));
        Ok(page(&listing, after.as_ref(), matching))
    }

    async fn cursor_key(&self) -> Result<[u8; 32], StoreError> {
        let mut rows = self.available()?;
        match rows.cursor_key {
            Some(key) => Ok(key),
            None => {
                let key = crate::record::new_cursor_key()?;
                rows.cursor_key = Some(key);
                Ok(key)
            }
        }
    }
}

fn lock<T>(rows: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere in a test must not hide the rows from the assertions after it.
    rows.lock().unwrap_or_else(PoisonError::into_inner)
}

fn available<'a, T>(
    unavailable: &AtomicBool,
    rows: &'a Mutex<T>,
    what: &str,
) -> Result<MutexGuard<'a, T>, StoreError> {
    if unavailable.load(Ordering::SeqCst) {
        Err(StoreError::Unavailable(format!(
            "the in-memory {what} store is switched off"
        )))
    } else {
        Ok(lock(rows))
    }
}

/// One page of `matching` in `listing`'s reading order after `after`: newest first on an
/// index; by key on a scan (DynamoDB scans in its own hash order), each page then sorted
/// newest first as the adapter does.
fn page<'a, T: Listed + Clone + 'a>(
    listing: &Listing,
    after: Option<&Cursor>,
    matching: impl Iterator<Item = &'a T>,
) -> Page<T> {
    let mut rows: Vec<&T> = matching
        .filter(|r| after.is_none_or(|c| c.precedes(listing, *r)))
        .collect();
    if listing.index.is_some() {
        rows.sort_by(|a, b| (b.created_at(), b.id()).cmp(&(a.created_at(), a.id())));
    }
    let mut rest = rows.into_iter().peekable();
    let mut items: Vec<T> = rest.by_ref().take(listing.limit).cloned().collect();
    let next_cursor = rest
        .peek()
        .and(items.last())
        .map(|r| Cursor::after(listing, r).encode());
    if listing.index.is_none() {
        items.sort_by_key(|r| Reverse(r.created_at()));
    }
    Page { items, next_cursor }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::contract::{event, request};

    mod approvals {
        crate::approval_store_contract!(((), super::InMemoryApprovalStore::new()));
    }

    mod breakglass {
        crate::breakglass_store_contract!(((), super::InMemoryBreakGlassStore::new()));
    }

    #[tokio::test]
    async fn switched_off_stores_fail_every_call() {
        let approvals = InMemoryApprovalStore::new();
        let r = request(1, "carol", "prod");
        approvals.create(&r).await.unwrap();
        approvals.set_unavailable(true);
        let query = RequestQuery {
            limit: 10,
            ..RequestQuery::default()
        };
        assert!(matches!(
            approvals.create(&request(2, "a", "p")).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            approvals.get(&r.request_id).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            approvals.list(&query).await,
            Err(StoreError::Unavailable(_))
        ));
        approvals.set_unavailable(false);
        assert_eq!(approvals.get(&r.request_id).await.unwrap(), Some(r));

        let breakglass = InMemoryBreakGlassStore::new();
        let e = event(1, "oncall-1", "prod");
        breakglass.set_unavailable(true);
        assert!(matches!(
            breakglass.begin(&e, &e.user, e.created_at).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            breakglass.list(None, 10, None).await,
            Err(StoreError::Unavailable(_))
        ));
        breakglass.set_unavailable(false);
        assert_eq!(breakglass.get(&e.breakglass_id).await.unwrap(), None);
    }
}
