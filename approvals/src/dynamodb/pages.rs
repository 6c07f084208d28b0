//! One page of a listing: the `Query` or `Scan` requests behind it, within a read budget.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use sentinel_aws_dynamodb::{Item, unavailable};

use super::requests::ReadBudget;
use crate::listing::{Cursor, Listed, Listing};
use crate::{Page, StoreError};

/// One page of `listing`. DynamoDB's `Limit` counts rows read before the filter, so a
/// filtered page may take several requests: each reads `budget.rows` rows (an unfiltered
/// one exactly `limit`), at most `budget.reads` of them, and a page the budget ends
/// before it is full is short, with a cursor at the last row read. Otherwise the cursor
/// is built from the last row returned, so no row is skipped or repeated.
pub(super) async fn list<T: Listed>(
    client: &Client,
    table: &str,
    listing: &Listing,
    cursor: Option<&str>,
    budget: ReadBudget,
    decode: fn(&Item) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let mut start = listing.resume(cursor)?.map(|cursor| {
        cursor
            .key
            .into_iter()
            .map(|(k, v)| (k, AttributeValue::S(v)))
            .collect::<Item>()
    });
    let page_limit = i32::try_from(listing.limit).unwrap_or(i32::MAX);
    let request_limit = if listing.filters().next().is_some() {
        budget.rows
    } else {
        page_limit
    };
    let mut items = Vec::new();
    let mut reads = 0;
    let next_cursor = loop {
        let (rows, last_key) =
            read_page(client, table, listing, request_limit, start.take()).await?;
        reads += 1;
        let mut rows = rows.into_iter();
        for row in rows.by_ref() {
            items.push(decode(&row)?);
            if items.len() == listing.limit {
                break;
            }
        }
        let more = rows.next().is_some() || last_key.is_some();
        if items.len() == listing.limit {
            break more
                .then(|| items.last().map(|r| Cursor::after(listing, r).encode()))
                .flatten();
        }
        match last_key {
            Some(key) if reads >= budget.reads => {
                break Some(Cursor::at(listing, &strings(&key)?).encode());
            }
            Some(key) => start = Some(key),
            None => break None,
        }
    };
    if listing.index.is_none() {
        items.sort_by_key(|r| Reverse(r.created_at()));
    }
    Ok(Page { items, next_cursor })
}

/// A key of string attributes (every key of these tables) as its strings.
fn strings(key: &Item) -> Result<BTreeMap<String, String>, StoreError> {
    key.iter()
        .map(|(name, value)| match value {
            AttributeValue::S(text) => Ok((name.clone(), text.clone())),
            _ => Err(StoreError::Corrupt(format!(
                "key attribute `{name}` is not a string"
            ))),
        })
        .collect()
}

/// Runs one `Query` (newest first) or `Scan` request for `listing`, returning the items
/// and DynamoDB's `LastEvaluatedKey`.
async fn read_page(
    client: &Client,
    table: &str,
    listing: &Listing,
    limit: i32,
    start: Option<Item>,
) -> Result<(Vec<Item>, Option<Item>), StoreError> {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut filters = Vec::new();
    for (i, (name, value)) in listing.filters().enumerate() {
        names.insert(format!("#f{i}"), name.to_owned());
        values.insert(format!(":f{i}"), AttributeValue::S(value.to_owned()));
        filters.push(format!("#f{i} = :f{i}"));
    }
    let filter = (!filters.is_empty()).then(|| filters.join(" AND "));
    match &listing.index {
        Some(index) => {
            names.insert("#pk".to_owned(), index.partition.to_owned());
            values.insert(":pk".to_owned(), AttributeValue::S(index.value.clone()));
            let out = client
                .query()
                .table_name(table)
                .index_name(index.name)
                .key_condition_expression("#pk = :pk")
                .set_filter_expression(filter)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .scan_index_forward(false)
                .limit(limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable(table, "Query", &e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        }
        None => {
            let out = client
                .scan()
                .table_name(table)
                .set_filter_expression(filter)
                .set_expression_attribute_names((!names.is_empty()).then_some(names))
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .consistent_read(true)
                .limit(limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable(table, "Scan", &e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        }
    }
}
