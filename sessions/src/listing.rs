//! How the stores serve a [`ListQuery`]: its page size, the index it reads
//! ([`Access`]) and its cursor ([`Cursor`]). Only the stores use it, so a build of the
//! crate without one (the CLI's: record types only) leaves it out.

use std::collections::BTreeMap;

use sentinel_types::timestamp;
use serde::{Deserialize, Serialize};

use crate::{ListQuery, SessionId, SessionRecord, StoreError};

impl ListQuery {
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

    /// Decodes `cursor`, if any, checking that it belongs to this query.
    pub(crate) fn start_key(&self) -> Result<Option<Cursor>, StoreError> {
        self.cursor
            .as_deref()
            .map(|c| Cursor::decode(c, self.access()))
            .transpose()
    }
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
    use crate::Status;
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
