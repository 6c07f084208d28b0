//! The `SessionStore` port, its queries and its errors.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};
use sentinel_types::{RoleArn, timestamp};

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

    /// The effective page size.
    pub(crate) fn page_size(&self) -> Result<usize, StoreError> {
        match self.limit {
            Some(0) => Err(StoreError::InvalidQuery(
                "the limit must be at least 1".into(),
            )),
            Some(n) => Ok(n),
            None => Ok(Self::DEFAULT_LIMIT),
        }
    }

    /// How the query is served: an index when the query names a user or a profile.
    pub(crate) fn access(&self) -> Access<'_> {
        match (&self.user, &self.profile) {
            (Some(user), _) => Access::ByUser(user),
            (None, Some(profile)) => Access::ByProfile(profile),
            (None, None) => Access::Scan,
        }
    }

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

    /// Decodes `cursor`, if any, checking that it belongs to this query.
    pub(crate) fn start_key(&self) -> Result<Option<Cursor>, StoreError> {
        self.cursor
            .as_deref()
            .map(|c| Cursor::decode(c, self.access()))
            .transpose()
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

/// How a list query is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access<'a> {
    /// The `by-user` index, newest first.
    ByUser(&'a str),
    /// The `by-profile` index, newest first.
    ByProfile(&'a str),
    /// The whole table.
    Scan,
}

impl Access<'_> {
    /// The index name and its partition key attribute and value, if any.
    pub(crate) fn index(self) -> Option<(&'static str, &'static str, String)> {
        match self {
            Self::ByUser(user) => Some(("by-user", "user", user.to_owned())),
            Self::ByProfile(profile) => Some(("by-profile", "profile", profile.to_owned())),
            Self::Scan => None,
        }
    }
}

/// The position after which the next page starts: the key attributes (table key plus
/// index keys) of the last record returned, as their stored strings. Opaque to callers:
/// JSON, hex encoded, so it is safe on a command line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Cursor(pub(crate) BTreeMap<String, String>);

impl Cursor {
    /// The cursor that resumes `access` after `record`.
    pub(crate) fn after(record: &SessionRecord, access: Access<'_>) -> Self {
        let mut key = BTreeMap::new();
        key.insert(
            "session_id".to_owned(),
            record.session_id.as_str().to_owned(),
        );
        if let Some((_, attribute, _)) = access.index() {
            let partition = match access {
                Access::ByUser(_) => record.user.clone(),
                _ => record.profile.to_string(),
            };
            key.insert(attribute.to_owned(), partition);
            key.insert("issued_at".to_owned(), timestamp::format(record.issued_at));
        }
        Self(key)
    }

    pub(crate) fn encode(&self) -> String {
        // A map of strings always serialises; the fallback is never reached.
        hex::encode(serde_json::to_vec(&self.0).unwrap_or_default())
    }

    /// Decodes a cursor and checks it was made for `access`: same key attributes, same
    /// user or profile. A cursor from another query would silently skip or repeat rows.
    fn decode(text: &str, access: Access<'_>) -> Result<Self, StoreError> {
        let invalid = || StoreError::InvalidQuery("the cursor is not valid for this query".into());
        let bytes = hex::decode(text).map_err(|_| invalid())?;
        let Cursor(key) = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        SessionId::parse(key.get("session_id").ok_or_else(invalid)?).map_err(|_| invalid())?;
        match access.index() {
            None if key.len() == 1 => {}
            Some((_, attribute, value)) if key.len() == 3 => {
                if key.get(attribute) != Some(&value) {
                    return Err(invalid());
                }
                timestamp::parse(key.get("issued_at").ok_or_else(invalid)?).ok_or_else(invalid)?;
            }
            _ => return Err(invalid()),
        }
        Ok(Self(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::sample_record;

    fn query(user: Option<&str>, profile: Option<&str>) -> ListQuery {
        ListQuery {
            user: user.map(Into::into),
            profile: profile.map(Into::into),
            ..ListQuery::default()
        }
    }

    #[test]
    fn user_takes_the_index_and_profile_filters() {
        assert_eq!(
            query(Some("alice"), Some("prod")).access(),
            Access::ByUser("alice")
        );
        assert_eq!(
            query(None, Some("prod")).access(),
            Access::ByProfile("prod")
        );
        assert_eq!(query(None, None).access(), Access::Scan);
        let record = sample_record();
        assert!(query(Some("alice"), Some("prod")).matches(&record));
        assert!(!query(Some("alice"), Some("dev")).matches(&record));
        let by_status = ListQuery {
            status: Some(Status::Active),
            ..ListQuery::default()
        };
        assert!(!by_status.matches(&record));
    }

    #[test]
    fn zero_limit_is_refused_and_absent_limit_is_the_default() {
        let zero = ListQuery {
            limit: Some(0),
            ..ListQuery::default()
        };
        assert!(matches!(zero.page_size(), Err(StoreError::InvalidQuery(_))));
        assert_eq!(
            ListQuery::default().page_size().unwrap(),
            ListQuery::DEFAULT_LIMIT
        );
    }

    #[test]
    fn cursor_round_trips_for_its_own_query_only() {
        let record = sample_record();
        let by_user = query(Some("alice"), None);
        let cursor = Cursor::after(&record, by_user.access()).encode();
        assert!(cursor.bytes().all(|b| b.is_ascii_hexdigit()));
        let decoded = ListQuery {
            cursor: Some(cursor.clone()),
            ..by_user
        }
        .start_key()
        .unwrap()
        .unwrap();
        assert_eq!(decoded.0.get("user").map(String::as_str), Some("alice"));
        assert_eq!(
            decoded.0.get("issued_at").map(String::as_str),
            Some("2026-11-22T14:15:00.123456789Z")
        );

        for other in [
            query(Some("bob"), None),
            query(None, Some("alice")),
            query(None, None),
        ] {
            let other = ListQuery {
                cursor: Some(cursor.clone()),
                ..other
            };
            assert!(
                matches!(other.start_key(), Err(StoreError::InvalidQuery(_))),
                "{other:?}"
            );
        }
        for garbage in ["", "zz", "7b7d", &hex::encode(r#"{"session_id":"nope"}"#)] {
            let q = ListQuery {
                cursor: Some(garbage.into()),
                ..ListQuery::default()
            };
            assert!(
                matches!(q.start_key(), Err(StoreError::InvalidQuery(_))),
                "{garbage:?}"
            );
        }
    }
}
