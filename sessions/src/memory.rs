//! An in-memory [`SessionStore`] for tests: the same semantics as the DynamoDB adapter
//! (conditional writes, idempotent revocation, newest-first pages, cursors), plus a switch
//! that makes every call fail as an unreachable table would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::store::{Access, Cursor};
use crate::{
    ListQuery, Page, Revocation, RevokeOutcome, SessionId, SessionRecord, SessionStore, Status,
    StoreError,
};

/// A [`SessionStore`] held in memory. Clones share the same rows, so a test can keep one
/// handle while the code under test owns another.
#[derive(Clone, Debug, Default)]
pub struct InMemorySessionStore {
    rows: Arc<Mutex<BTreeMap<SessionId, SessionRecord>>>,
    unavailable: Arc<AtomicBool>,
}

impl InMemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// While `true`, every call fails with [`StoreError::Unavailable`], as when the table
    /// cannot be reached.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Number of stored records.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Every stored record, in id order.
    pub fn records(&self) -> Vec<SessionRecord> {
        self.lock().values().cloned().collect()
    }

    /// Stores `record` as it is, replacing any row with the same id; for arranging a test
    /// (an expired or already revoked session), not a [`SessionStore`] operation.
    pub fn insert(&self, record: SessionRecord) {
        self.lock().insert(record.session_id.clone(), record);
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<SessionId, SessionRecord>> {
        // A panic elsewhere in a test must not hide the rows from the assertions after it.
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn available(&self) -> Result<MutexGuard<'_, BTreeMap<SessionId, SessionRecord>>, StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable(
                "the in-memory session store is switched off".into(),
            ))
        } else {
            Ok(self.lock())
        }
    }
}

impl SessionStore for InMemorySessionStore {
    async fn put_new(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let mut rows = self.available()?;
        if rows.contains_key(&record.session_id) {
            return Err(StoreError::AlreadyExists(record.session_id.clone()));
        }
        rows.insert(record.session_id.clone(), record.clone());
        Ok(())
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.available()?.get(id).cloned())
    }

    async fn revoke(
        &self,
        id: &SessionId,
        revocation: &Revocation,
    ) -> Result<RevokeOutcome, StoreError> {
        let mut rows = self.available()?;
        let record = rows
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(id.clone()))?;
        if record.status == Status::Revoked {
            return Ok(RevokeOutcome::AlreadyRevoked(record.clone()));
        }
        record.status = Status::Revoked;
        record.revoked_at = Some(revocation.at);
        record.revoked_by = Some(revocation.by.clone());
        record.revoked_reason = Some(revocation.reason.clone());
        Ok(RevokeOutcome::Revoked(record.clone()))
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let limit = query.page_size()?;
        let access = query.access();
        let after = query.start_key()?.map(|Cursor(key)| Position::of(&key));
        let rows = self.available()?;
        let mut matching: Vec<&SessionRecord> =
            rows.values().filter(|r| query.matches(r)).collect();
        // Index queries read newest first; a scan reads in key order, as DynamoDB's does in
        // its own (hash) order.
        if access != Access::Scan {
            matching
                .sort_by(|a, b| (b.issued_at, &b.session_id).cmp(&(a.issued_at, &a.session_id)));
        }
        let mut rest = matching
            .into_iter()
            .filter(|r| after.as_ref().is_none_or(|p| p.is_before(r, access)))
            .peekable();
        let mut records: Vec<SessionRecord> = rest.by_ref().take(limit).cloned().collect();
        let next_cursor = rest
            .peek()
            .and(records.last())
            .map(|r| Cursor::after(r, access).encode());
        if access == Access::Scan {
            records.sort_by_key(|r| std::cmp::Reverse(r.issued_at));
        }
        Ok(Page {
            records,
            next_cursor,
        })
    }
}

/// Where a decoded cursor points.
struct Position {
    session_id: String,
    issued_at: Option<DateTime<Utc>>,
}

impl Position {
    fn of(key: &BTreeMap<String, String>) -> Self {
        Self {
            session_id: key.get("session_id").cloned().unwrap_or_default(),
            issued_at: key.get("issued_at").and_then(|t| crate::time::parse(t)),
        }
    }

    /// Whether `record` comes after this position in `access`'s reading order.
    fn is_before(&self, record: &SessionRecord, access: Access<'_>) -> bool {
        match (access, self.issued_at) {
            (Access::Scan, _) | (_, None) => record.session_id.as_str() > self.session_id.as_str(),
            (_, Some(issued_at)) => {
                (record.issued_at, record.session_id.as_str())
                    < (issued_at, self.session_id.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::record::tests::sample_record;

    fn record(n: u32, user: &str, profile: &str) -> SessionRecord {
        let mut r = sample_record();
        r.session_id = SessionId::parse(&format!("{n:032x}")).unwrap();
        r.user = user.into();
        r.profile = profile.into();
        r.status = Status::Active;
        r.issued_at += TimeDelta::seconds(i64::from(n));
        r.revoked_at = None;
        r.revoked_by = None;
        r.revoked_reason = None;
        r
    }

    fn revocation(by: &str) -> Revocation {
        Revocation {
            by: by.into(),
            reason: "test".into(),
            at: sample_record().expires_at,
        }
    }

    async fn all_pages(store: &InMemorySessionStore, mut query: ListQuery) -> Vec<Vec<u32>> {
        let mut pages = Vec::new();
        loop {
            let page = store.list(&query).await.unwrap();
            pages.push(
                page.records
                    .iter()
                    .map(|r| u32::from_str_radix(r.session_id.as_str(), 16).unwrap())
                    .collect(),
            );
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => return pages,
            }
        }
    }

    #[tokio::test]
    async fn put_new_never_overwrites() {
        let store = InMemorySessionStore::new();
        let first = record(1, "alice", "prod");
        store.put_new(&first).await.unwrap();
        let mut second = first.clone();
        second.user = "mallory".into();
        assert!(
            matches!(store.put_new(&second).await, Err(StoreError::AlreadyExists(id)) if id == first.session_id)
        );
        assert_eq!(store.get(&first.session_id).await.unwrap(), Some(first));
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn revoke_is_idempotent_and_keeps_the_first_revocation() {
        let store = InMemorySessionStore::new();
        let r = record(1, "alice", "prod");
        store.put_new(&r).await.unwrap();
        let first = store
            .revoke(&r.session_id, &revocation("admin-1"))
            .await
            .unwrap();
        let RevokeOutcome::Revoked(revoked) = first else {
            panic!("{first:?}")
        };
        assert_eq!(revoked.status, Status::Revoked);
        assert_eq!(revoked.revoked_by.as_deref(), Some("admin-1"));
        let again = store
            .revoke(&r.session_id, &revocation("admin-2"))
            .await
            .unwrap();
        assert_eq!(again, RevokeOutcome::AlreadyRevoked(revoked.clone()));
        assert_eq!(store.get(&r.session_id).await.unwrap(), Some(revoked));
    }

    #[tokio::test]
    async fn revoking_an_unknown_session_is_not_found_and_creates_nothing() {
        let store = InMemorySessionStore::new();
        let id = SessionId::random().unwrap();
        assert!(matches!(
            store.revoke(&id, &revocation("admin")).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn pages_by_user_are_newest_first_and_cover_every_row_once() {
        let store = InMemorySessionStore::new();
        for n in 1..=5 {
            store.put_new(&record(n, "alice", "prod")).await.unwrap();
        }
        store.put_new(&record(6, "bob", "prod")).await.unwrap();
        let query = ListQuery {
            user: Some("alice".into()),
            limit: Some(2),
            ..ListQuery::default()
        };
        assert_eq!(
            all_pages(&store, query).await,
            vec![vec![5, 4], vec![3, 2], vec![1]]
        );
        let by_profile = ListQuery {
            profile: Some("prod".into()),
            limit: Some(4),
            ..ListQuery::default()
        };
        assert_eq!(
            all_pages(&store, by_profile).await,
            vec![vec![6, 5, 4, 3], vec![2, 1]]
        );
    }

    #[tokio::test]
    async fn filters_combine_and_scan_pages_cover_everything() {
        let store = InMemorySessionStore::new();
        for n in 1..=4 {
            store
                .put_new(&record(n, "alice", if n % 2 == 0 { "prod" } else { "dev" }))
                .await
                .unwrap();
        }
        store
            .revoke(&record(4, "alice", "prod").session_id, &revocation("admin"))
            .await
            .unwrap();
        let active_prod = ListQuery {
            user: Some("alice".into()),
            profile: Some("prod".into()),
            status: Some(Status::Active),
            ..ListQuery::default()
        };
        assert_eq!(all_pages(&store, active_prod).await, vec![vec![2]]);
        let revoked = ListQuery {
            status: Some(Status::Revoked),
            ..ListQuery::default()
        };
        assert_eq!(all_pages(&store, revoked).await, vec![vec![4]]);
        let mut seen: Vec<u32> = all_pages(
            &store,
            ListQuery {
                limit: Some(3),
                ..ListQuery::default()
            },
        )
        .await
        .into_iter()
        .flatten()
        .collect();
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_cursor_from_another_query_is_refused() {
        let store = InMemorySessionStore::new();
        for n in 1..=3 {
            store.put_new(&record(n, "alice", "prod")).await.unwrap();
        }
        let page = store
            .list(&ListQuery {
                user: Some("alice".into()),
                limit: Some(1),
                ..ListQuery::default()
            })
            .await
            .unwrap();
        let cursor = page.next_cursor.unwrap();
        let other = ListQuery {
            user: Some("bob".into()),
            cursor: Some(cursor),
            ..ListQuery::default()
        };
        assert!(matches!(
            store.list(&other).await,
            Err(StoreError::InvalidQuery(_))
        ));
    }

    #[tokio::test]
    async fn switched_off_store_fails_every_call() {
        let store = InMemorySessionStore::new();
        let r = record(1, "alice", "prod");
        store.put_new(&r).await.unwrap();
        store.set_unavailable(true);
        assert!(matches!(
            store.put_new(&record(2, "a", "p")).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            store.get(&r.session_id).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            store.revoke(&r.session_id, &revocation("a")).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            store.list(&ListQuery::default()).await,
            Err(StoreError::Unavailable(_))
        ));
        store.set_unavailable(false);
        assert_eq!(store.get(&r.session_id).await.unwrap(), Some(r));
    }
}
