//! An in-memory [`SessionStore`] for tests: the same semantics as the DynamoDB adapter
//! (conditional writes, idempotent revocation, newest-first pages, cursors), plus a switch
//! that makes every call fail as an unreachable table would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::listing::{Access, Cursor};
use sentinel_types::{RoleArn, timestamp};

use crate::{
    AwsDeny, LeaseStore, ListQuery, Page, Revocation, RevokeOutcome, SessionId, SessionRecord,
    SessionState, SessionStore, Status, StoreError,
};

/// Lease name -> (owner, until).
type Leases = BTreeMap<String, (String, DateTime<Utc>)>;

/// A [`SessionStore`] held in memory. Clones share the same rows, so a test can keep one
/// handle while the code under test owns another.
#[derive(Clone, Debug, Default)]
pub struct InMemorySessionStore {
    rows: Arc<Mutex<BTreeMap<SessionId, SessionRecord>>>,
    leases: Arc<Mutex<Leases>>,
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
    async fn set_aws_deny(&self, id: &SessionId, state: &AwsDeny) -> Result<(), StoreError> {
        let mut rows = self.available()?;
        match rows.get_mut(id).map(|r| &mut r.state) {
            Some(SessionState::Revoked(_, deny)) => {
                *deny = state.clone();
                Ok(())
            }
            _ => Err(StoreError::NotFound(id.clone())),
        }
    }

    async fn revoked_unexpired(
        &self,
        role: &RoleArn,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        Ok(self
            .available()?
            .values()
            .filter(|r| r.status() == Status::Revoked && r.role_arn == *role && r.expires_at > now)
            .cloned()
            .collect())
    }

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
        if record.status() == Status::Revoked {
            return Ok(RevokeOutcome::AlreadyRevoked(record.clone()));
        }
        record.state = SessionState::Revoked(revocation.clone(), AwsDeny::Pending);
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
            issued_at: key.get("issued_at").and_then(|t| timestamp::parse(t)),
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

impl LeaseStore for InMemorySessionStore {
    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        drop(self.available()?);
        let mut leases = self.leases.lock().unwrap_or_else(PoisonError::into_inner);
        let free = leases
            .get(name)
            .is_none_or(|(holder, held_until)| holder == owner || *held_until < now);
        if free {
            leases.insert(name.to_owned(), (owner.to_owned(), until));
        }
        Ok(free)
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        drop(self.available()?);
        let mut leases = self.leases.lock().unwrap_or_else(PoisonError::into_inner);
        if leases.get(name).is_some_and(|(holder, _)| holder == owner) {
            leases.remove(name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{record, revocation};

    crate::session_store_contract!(((), InMemorySessionStore::new()));

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
