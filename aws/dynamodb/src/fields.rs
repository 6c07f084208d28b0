//! Reading a stored item's attributes, naming the one that does not decode.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use sentinel_types::InvalidValue;

use crate::TableError;

/// A stored item, or a map inside one.
pub type Item = HashMap<String, AttributeValue>;

/// A stored item (or a map inside one) being decoded. Every problem is a
/// [`TableError::Corrupt`] that says which row and names the attribute by its path
/// (`approvals[0].at`). `NULL` reads as absent; absent options are never an error.
#[derive(Debug)]
pub struct Fields<'a> {
    map: &'a Item,
    /// What every message starts with: `request `…`: `, or empty.
    row: String,
    /// `approvals[0].` inside a list, `closure.` inside a map, else empty.
    path: String,
}

impl<'a> Fields<'a> {
    /// The top-level `item`, every message starting with `row` (e.g. `session `…`: `).
    pub fn new(item: &'a Item, row: String) -> Self {
        Self {
            map: item,
            row,
            path: String::new(),
        }
    }

    /// The top-level `item` of a `what`, named in messages by its `key` attribute if
    /// readable (`request `…`: `, else `request: `).
    pub fn row(item: &'a Item, what: &str, key: &str) -> Self {
        let row = match item.get(key).and_then(|v| v.as_s().ok()) {
            Some(id) => format!("{what} `{id}`: "),
            None => format!("{what}: "),
        };
        Self::new(item, row)
    }

    /// `attribute` (under this map's path) is corrupt: it `problem`.
    pub fn corrupt(&self, attribute: &str, problem: &str) -> TableError {
        TableError::Corrupt(format!(
            "{}attribute `{}{attribute}` {problem}",
            self.row, self.path
        ))
    }

    /// A string attribute, if present.
    pub fn optional_string(&self, attribute: &str) -> Result<Option<String>, TableError> {
        match self.map.get(attribute) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.corrupt(attribute, "is not a string")),
        }
    }

    /// A string attribute.
    pub fn string(&self, attribute: &str) -> Result<String, TableError> {
        self.optional_string(attribute)?
            .ok_or_else(|| self.corrupt(attribute, "is missing"))
    }

    /// A string attribute that must parse as one of the validated types.
    pub fn parsed<T>(&self, attribute: &str) -> Result<T, TableError>
    where
        T: FromStr<Err = InvalidValue>,
    {
        self.string(attribute)?
            .parse()
            .map_err(|e: InvalidValue| self.corrupt(attribute, e.message()))
    }

    /// A timestamp attribute (`sentinel_types::timestamp`), if present.
    pub fn optional_time(&self, attribute: &str) -> Result<Option<DateTime<Utc>>, TableError> {
        self.optional_string(attribute)?
            .map(|text| {
                sentinel_types::timestamp::parse(&text)
                    .ok_or_else(|| self.corrupt(attribute, "is not an RFC 3339 timestamp"))
            })
            .transpose()
    }

    /// A timestamp attribute.
    pub fn time(&self, attribute: &str) -> Result<DateTime<Utc>, TableError> {
        self.optional_time(attribute)?
            .ok_or_else(|| self.corrupt(attribute, "is missing"))
    }

    /// A number attribute's text, for a caller that parses it itself.
    pub fn number_text(&self, attribute: &str) -> Result<&'a str, TableError> {
        match self.map.get(attribute) {
            None => Err(self.corrupt(attribute, "is missing")),
            Some(AttributeValue::N(n)) => Ok(n),
            Some(_) => Err(self.corrupt(attribute, "is not a number")),
        }
    }

    /// A number attribute that fits `T`.
    pub fn number<T: FromStr>(&self, attribute: &str) -> Result<T, TableError> {
        self.number_text(attribute)?
            .parse()
            .map_err(|_| self.corrupt(attribute, "is not a whole number in range"))
    }

    /// A list of maps, each read under the path `attribute[i].`.
    pub fn list(&self, attribute: &str) -> Result<Vec<Self>, TableError> {
        let Some(value) = self.map.get(attribute) else {
            return Err(self.corrupt(attribute, "is missing"));
        };
        let AttributeValue::L(values) = value else {
            return Err(self.corrupt(attribute, "is not a list"));
        };
        values
            .iter()
            .enumerate()
            .map(|(i, value)| match value {
                AttributeValue::M(map) => {
                    Ok(self.inner(map, format!("{}{attribute}[{i}].", self.path)))
                }
                _ => Err(self.corrupt(&format!("{attribute}[{i}]"), "is not a map")),
            })
            .collect()
    }

    /// A map, if present, read under the path `attribute.`.
    pub fn optional_map(&self, attribute: &str) -> Result<Option<Self>, TableError> {
        match self.map.get(attribute) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::M(map)) => {
                Ok(Some(self.inner(map, format!("{}{attribute}.", self.path))))
            }
            Some(_) => Err(self.corrupt(attribute, "is not a map")),
        }
    }

    fn inner(&self, map: &'a Item, path: String) -> Self {
        Self {
            map,
            row: self.row.clone(),
            path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(value: &str) -> AttributeValue {
        AttributeValue::S(value.to_owned())
    }

    fn corrupt(result: Result<impl std::fmt::Debug, TableError>) -> String {
        match result {
            Err(TableError::Corrupt(message)) => message,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn messages_name_the_row_and_the_attribute_path() {
        let item = Item::from([
            ("id".to_owned(), s("r1")),
            (
                "approvals".to_owned(),
                AttributeValue::L(vec![AttributeValue::M(Item::from([(
                    "at".to_owned(),
                    s("noon"),
                )]))]),
            ),
            ("closure".to_owned(), AttributeValue::M(Item::new())),
            ("count".to_owned(), AttributeValue::N("-1".to_owned())),
            ("profile".to_owned(), s("a/b")),
        ]);
        let row = Fields::row(&item, "request", "id");
        let approvals = row.list("approvals").unwrap();
        assert_eq!(
            corrupt(approvals.first().unwrap().time("at")),
            "request `r1`: attribute `approvals[0].at` is not an RFC 3339 timestamp"
        );
        assert_eq!(
            corrupt(row.optional_map("closure").unwrap().unwrap().string("by")),
            "request `r1`: attribute `closure.by` is missing"
        );
        assert_eq!(
            corrupt(row.number::<u32>("count")),
            "request `r1`: attribute `count` is not a whole number in range"
        );
        assert_eq!(row.number::<i64>("count").unwrap(), -1);
        assert_eq!(
            corrupt(row.string("count")),
            "request `r1`: attribute `count` is not a string"
        );
        assert!(
            corrupt(row.parsed::<sentinel_types::ProfileName>("profile"))
                .starts_with("request `r1`: attribute `profile` ")
        );
        assert_eq!(
            corrupt(Fields::row(&item, "request", "missing").string("approvals")),
            "request: attribute `approvals` is not a string"
        );
        assert_eq!(
            corrupt(Fields::new(&item, String::new()).number_text("id")),
            "attribute `id` is not a number"
        );
    }

    #[test]
    fn null_and_absent_options_read_as_none() {
        let item = Item::from([("gone".to_owned(), AttributeValue::Null(true))]);
        let row = Fields::new(&item, String::new());
        for attribute in ["gone", "never"] {
            assert_eq!(row.optional_string(attribute).unwrap(), None);
            assert_eq!(row.optional_time(attribute).unwrap(), None);
            assert!(row.optional_map(attribute).unwrap().is_none());
        }
    }
}
