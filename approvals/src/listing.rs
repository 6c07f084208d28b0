//! How a `list` call reads a table, and the cursors that continue it.
//!
//! Both stores page the same way: through an index on (`partition`, `created_at`), newest
//! first, or by scanning the table in key order. A [`Listing`] says which, with the
//! query's conditions; the DynamoDB adapter turns it into a `Query` or `Scan`, the
//! in-memory fakes into a sort, and both resume after a [`Cursor`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sentinel_types::timestamp;
use serde::{Deserialize, Serialize};

use crate::{BreakGlassEvent, Request, RequestId, RequestQuery, ReviewStatus, StoreError};

/// The index every request listing by requester reads: (`requester`, `created_at`).
pub(crate) const BY_REQUESTER: &str = "by-requester";
/// The index of events by status: (`status`, `created_at`). Cooldown items have no
/// `status`, so they are not in it.
pub(crate) const BY_STATUS: &str = "by-status";
/// The index of every event: (`kind`, `created_at`), `kind` being [`EVENT_KIND`] on events
/// and absent on cooldown items.
pub(crate) const BY_KIND: &str = "by-kind";
/// The `kind` of an event item.
pub(crate) const EVENT_KIND: &str = "event";
/// The sort key of every index.
pub(crate) const CREATED_AT: &str = "created_at";

/// An index a listing reads, with the partition it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Index {
    /// The index name.
    pub(crate) name: &'static str,
    /// Its partition key attribute.
    pub(crate) partition: &'static str,
    /// The partition read.
    pub(crate) value: String,
}

/// How one `list` call reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listing {
    /// The table's key attribute.
    pub(crate) id: &'static str,
    /// The index read newest first; `None`: the table is scanned in key order.
    pub(crate) index: Option<Index>,
    /// Every condition of the query, attribute name to stored value. Bound into cursors.
    pub(crate) conditions: BTreeMap<&'static str, String>,
    /// Page size, at least 1.
    pub(crate) limit: usize,
    /// Which table (bound into cursors, so one store's cursor means nothing to the other).
    table: &'static str,
}

impl Listing {
    /// The listing of `query`: the `by-requester` index when it names a requester, else a scan.
    pub(crate) fn of_requests(query: &RequestQuery) -> Result<Self, StoreError> {
        if query.requester.as_deref() == Some("") {
            // An index key cannot be empty; no requester is.
            return Err(StoreError::InvalidQuery("the requester is empty".into()));
        }
        let mut conditions = BTreeMap::new();
        if let Some(requester) = &query.requester {
            conditions.insert("requester", requester.clone());
        }
        if let Some(profile) = &query.profile {
            conditions.insert("profile", profile.clone());
        }
        if let Some(status) = query.status {
            conditions.insert("status", status.as_str().to_owned());
        }
        Ok(Self {
            id: "request_id",
            index: query.requester.as_ref().map(|requester| Index {
                name: BY_REQUESTER,
                partition: "requester",
                value: requester.clone(),
            }),
            conditions,
            limit: page_size(query.limit)?,
            table: "requests",
        })
    }

    /// The listing of break-glass events, newest first: the `by-status` index for one status,
    /// the `by-kind` index for all.
    pub(crate) fn of_events(
        status: Option<ReviewStatus>,
        limit: usize,
    ) -> Result<Self, StoreError> {
        let index = match status {
            Some(status) => Index {
                name: BY_STATUS,
                partition: "status",
                value: status.as_str().to_owned(),
            },
            None => Index {
                name: BY_KIND,
                partition: "kind",
                value: EVENT_KIND.to_owned(),
            },
        };
        Ok(Self {
            id: "breakglass_id",
            conditions: BTreeMap::from([(index.partition, index.value.clone())]),
            index: Some(index),
            limit: page_size(limit)?,
            table: "breakglass",
        })
    }

    /// The conditions the index key does not already impose (DynamoDB's filter).
    #[cfg(feature = "dynamodb")]
    pub(crate) fn filters(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let partition = self.index.as_ref().map(|i| i.partition);
        self.conditions
            .iter()
            .filter(move |(name, _)| Some(**name) != partition)
            .map(|(name, value)| (*name, value.as_str()))
    }

    /// Decodes `cursor`, checking that it was made by this very listing (same table, same
    /// conditions, same key attributes).
    pub(crate) fn resume(&self, cursor: Option<&str>) -> Result<Option<Cursor>, StoreError> {
        cursor.map(|text| Cursor::decode(text, self)).transpose()
    }

    fn bound(&self) -> BTreeMap<String, String> {
        let mut bound: BTreeMap<String, String> = self
            .conditions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        bound.insert("#table".to_owned(), self.table.to_owned());
        bound
    }
}

fn page_size(limit: usize) -> Result<usize, StoreError> {
    if limit == 0 {
        Err(StoreError::InvalidQuery(
            "the limit must be at least 1".into(),
        ))
    } else {
        Ok(limit)
    }
}

/// What a listing needs of the rows it lists.
pub(crate) trait Listed {
    /// The table key.
    fn id(&self) -> &RequestId;
    /// The index sort key.
    fn created_at(&self) -> DateTime<Utc>;
}

impl Listed for Request {
    fn id(&self) -> &RequestId {
        &self.request_id
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

impl Listed for BreakGlassEvent {
    fn id(&self) -> &RequestId {
        &self.breakglass_id
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Where the next page starts: the key attributes of the last row returned (table key,
/// plus the index keys when an index is read) as their stored strings, which is
/// DynamoDB's `ExclusiveStartKey`, and the conditions of the listing that made it.
/// Opaque to callers: JSON, hex encoded, so it is safe on a command line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cursor {
    listing: BTreeMap<String, String>,
    /// DynamoDB's `ExclusiveStartKey`, every value a string.
    pub(crate) key: BTreeMap<String, String>,
}

impl Cursor {
    /// The cursor that resumes `listing` after `row`.
    pub(crate) fn after(listing: &Listing, row: &impl Listed) -> Self {
        let mut key = BTreeMap::from([(listing.id.to_owned(), row.id().as_str().to_owned())]);
        if let Some(index) = &listing.index {
            key.insert(index.partition.to_owned(), index.value.clone());
            key.insert(CREATED_AT.to_owned(), timestamp::format(row.created_at()));
        }
        Self {
            listing: listing.bound(),
            key,
        }
    }

    /// The cursor that resumes `listing` after the row with `key` (DynamoDB's
    /// `LastEvaluatedKey`: a row read but perhaps filtered out).
    #[cfg(feature = "dynamodb")]
    pub(crate) fn at(listing: &Listing, key: &BTreeMap<String, String>) -> Self {
        Self {
            listing: listing.bound(),
            key: key.clone(),
        }
    }

    pub(crate) fn encode(&self) -> String {
        // Maps of strings always serialise; the fallback is never reached.
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Whether `row` comes after the cursor in `listing`'s reading order: newest first
    /// (then by key, descending) on an index, by key in a scan, as the fakes read.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn precedes(&self, listing: &Listing, row: &impl Listed) -> bool {
        let id = self.key.get(listing.id).map_or("", String::as_str);
        let created_at = self.key.get(CREATED_AT).and_then(|t| timestamp::parse(t));
        match created_at {
            Some(at) if listing.index.is_some() => (row.created_at(), row.id().as_str()) < (at, id),
            _ => row.id().as_str() > id,
        }
    }

    fn decode(text: &str, listing: &Listing) -> Result<Self, StoreError> {
        let invalid = || StoreError::InvalidQuery("the cursor is not valid for this query".into());
        let bytes = hex::decode(text).map_err(|_| invalid())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.listing != listing.bound() {
            return Err(invalid());
        }
        RequestId::parse(cursor.key.get(listing.id).ok_or_else(invalid)?).map_err(|_| invalid())?;
        match &listing.index {
            None if cursor.key.len() == 1 => {}
            Some(index) if cursor.key.len() == 3 => {
                if cursor.key.get(index.partition) != Some(&index.value) {
                    return Err(invalid());
                }
                timestamp::parse(cursor.key.get(CREATED_AT).ok_or_else(invalid)?)
                    .ok_or_else(invalid)?;
            }
            _ => return Err(invalid()),
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::contract::{event, request};

    fn requests(requester: Option<&str>) -> Listing {
        Listing::of_requests(&RequestQuery {
            requester: requester.map(Into::into),
            limit: 1,
            ..RequestQuery::default()
        })
        .unwrap()
    }

    #[test]
    fn a_cursor_resumes_its_own_listing_only() {
        let by_carol = requests(Some("carol"));
        let cursor = Cursor::after(&by_carol, &request(1, "carol", "prod")).encode();
        let resumed = by_carol.resume(Some(&cursor)).unwrap().unwrap();
        assert_eq!(
            resumed.key.get(CREATED_AT).map(String::as_str),
            Some("2026-11-22T13:50:01.123456789Z")
        );
        assert_eq!(resumed.key.len(), 3);
        let events = Listing::of_events(None, 1).unwrap();
        for other in [requests(Some("bob")), requests(None), events.clone()] {
            assert!(
                matches!(
                    other.resume(Some(&cursor)),
                    Err(StoreError::InvalidQuery(_))
                ),
                "{other:?}"
            );
        }
        let scan = Cursor::after(&requests(None), &request(1, "carol", "prod")).encode();
        assert_eq!(
            requests(None)
                .resume(Some(&scan))
                .unwrap()
                .unwrap()
                .key
                .len(),
            1
        );
        let open = Listing::of_events(Some(ReviewStatus::NeedsReview), 1).unwrap();
        let cursor = Cursor::after(&open, &event(1, "oncall", "prod")).encode();
        assert!(open.resume(Some(&cursor)).is_ok());
        assert!(events.resume(Some(&cursor)).is_err());
    }

    #[cfg(feature = "dynamodb")]
    #[test]
    fn the_index_partition_is_not_filtered_again() {
        let query = RequestQuery {
            requester: Some("carol".into()),
            profile: Some("prod".into()),
            limit: 1,
            ..RequestQuery::default()
        };
        let listing = Listing::of_requests(&query).unwrap();
        assert_eq!(listing.filters().collect::<Vec<_>>(), [("profile", "prod")]);
        let open = Listing::of_events(Some(ReviewStatus::NeedsReview), 1).unwrap();
        assert_eq!(open.filters().count(), 0);
    }
}
