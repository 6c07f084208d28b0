//! Creating a table as the stores lay them out, idempotently.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};

use crate::{TableError, unavailable};

/// How long [`Layout::create`] waits for a table and its indexes to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
/// How often [`Layout::create`] asks whether they are.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A table as Sentinel's stores lay them out: on-demand billing, a string partition key,
/// global secondary indexes that project every attribute, and time to live on one
/// attribute.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'a> {
    /// The table name.
    pub table: &'a str,
    /// The partition key, a string.
    pub key: &'a str,
    /// The global secondary indexes.
    pub indexes: &'a [Index<'a>],
    /// The attribute DynamoDB's time to live reads.
    pub ttl: &'a str,
}

/// A global secondary index projecting every attribute.
#[derive(Clone, Copy, Debug)]
pub struct Index<'a> {
    /// The index name.
    pub name: &'a str,
    /// The partition key, a string.
    pub partition: &'a str,
    /// The sort key.
    pub sort: KeyAttribute<'a>,
}

/// A key attribute with its type.
#[derive(Clone, Copy, Debug)]
pub enum KeyAttribute<'a> {
    /// A string (`S`).
    String(&'a str),
    /// A number (`N`).
    Number(&'a str),
}

impl Layout<'_> {
    /// Creates the table; an existing table of that name is accepted if it has every
    /// index. Returns once the table and its indexes are active (it waits five minutes at
    /// most) and time to live is on (or turning on) for [`Layout::ttl`].
    pub async fn create(&self, client: &Client) -> Result<(), TableError> {
        let table = self.table;
        let mut request = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(self.key_element(self.key, KeyType::Hash)?);
        for definition in self.attribute_definitions()? {
            request = request.attribute_definitions(definition);
        }
        for index in self.indexes {
            let index = GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(self.key_element(index.partition, KeyType::Hash)?)
                .key_schema(self.key_element(index.sort.name(), KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(|e| self.invalid(e))?;
            request = request.global_secondary_indexes(index);
        }
        match request.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => return Err(unavailable(table, "CreateTable", &e)),
        }
        self.wait_until_active(client).await?;
        self.enable_ttl(client).await
    }

    /// Every key attribute once, with its type: the table's key, then each index's.
    fn attribute_definitions(&self) -> Result<Vec<AttributeDefinition>, TableError> {
        let keys = std::iter::once(KeyAttribute::String(self.key)).chain(
            self.indexes
                .iter()
                .flat_map(|i| [KeyAttribute::String(i.partition), i.sort]),
        );
        let mut definitions: Vec<AttributeDefinition> = Vec::new();
        for key in keys {
            if definitions.iter().any(|d| d.attribute_name() == key.name()) {
                continue;
            }
            let definition = AttributeDefinition::builder()
                .attribute_name(key.name())
                .attribute_type(key.scalar_type())
                .build()
                .map_err(|e| self.invalid(e))?;
            definitions.push(definition);
        }
        Ok(definitions)
    }

    fn key_element(&self, name: &str, key_type: KeyType) -> Result<KeySchemaElement, TableError> {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(|e| self.invalid(e))
    }

    fn invalid(&self, e: BuildError) -> TableError {
        TableError::Unavailable(format!(
            "CreateTable request for `{}` is invalid: {e}",
            self.table
        ))
    }

    async fn wait_until_active(&self, client: &Client) -> Result<(), TableError> {
        let table = self.table;
        let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
        loop {
            let out = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| unavailable(table, "DescribeTable", &e))?;
            let description = out.table.ok_or_else(|| {
                TableError::Unavailable(format!("DescribeTable for `{table}` returned no table"))
            })?;
            let indexes = description.global_secondary_indexes();
            for wanted in self.indexes {
                if !indexes.iter().any(|i| i.index_name() == Some(wanted.name)) {
                    return Err(TableError::Unavailable(format!(
                        "table `{table}` exists without index `{}`",
                        wanted.name
                    )));
                }
            }
            let active = description.table_status() == Some(&TableStatus::Active)
                && indexes
                    .iter()
                    .all(|i| i.index_status().is_none_or(|s| *s == IndexStatus::Active));
            if active {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(TableError::Unavailable(format!(
                    "table `{table}` did not become active within {} s",
                    ACTIVE_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Turns on time to live for [`Layout::ttl`]; already on for it is fine, on for
    /// another attribute is refused.
    async fn enable_ttl(&self, client: &Client) -> Result<(), TableError> {
        let (table, wanted) = (self.table, self.ttl);
        let out = client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| unavailable(table, "DescribeTimeToLive", &e))?;
        let current = out.time_to_live_description;
        let status = current.as_ref().and_then(|d| d.time_to_live_status());
        if matches!(
            status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        ) {
            let attribute = current
                .as_ref()
                .and_then(|d| d.attribute_name())
                .unwrap_or_default();
            return if attribute == wanted {
                Ok(())
            } else {
                Err(TableError::Unavailable(format!(
                    "table `{table}` has time to live on `{attribute}`, expected `{wanted}`"
                )))
            };
        }
        let specification = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(wanted)
            .build()
            .map_err(|e| {
                TableError::Unavailable(format!(
                    "UpdateTimeToLive request for `{table}` is invalid: {e}"
                ))
            })?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(specification)
            .send()
            .await
            .map_err(|e| unavailable(table, "UpdateTimeToLive", &e))?;
        Ok(())
    }
}

impl KeyAttribute<'_> {
    fn name(&self) -> &str {
        match self {
            Self::String(name) | Self::Number(name) => name,
        }
    }

    fn scalar_type(&self) -> ScalarAttributeType {
        match self {
            Self::String(_) => ScalarAttributeType::S,
            Self::Number(_) => ScalarAttributeType::N,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_attribute_is_defined_once_with_its_type() {
        let layout = Layout {
            table: "t",
            key: "id",
            indexes: &[
                Index {
                    name: "by-user",
                    partition: "user",
                    sort: KeyAttribute::String("at"),
                },
                Index {
                    name: "by-profile",
                    partition: "profile",
                    sort: KeyAttribute::String("at"),
                },
                Index {
                    name: "by-role",
                    partition: "role",
                    sort: KeyAttribute::Number("epoch"),
                },
            ],
            ttl: "ttl",
        };
        let definitions: Vec<_> = layout
            .attribute_definitions()
            .unwrap()
            .iter()
            .map(|d| (d.attribute_name().to_owned(), d.attribute_type().clone()))
            .collect();
        let s = |name: &str| (name.to_owned(), ScalarAttributeType::S);
        assert_eq!(
            definitions,
            [
                s("id"),
                s("user"),
                s("at"),
                s("profile"),
                s("role"),
                ("epoch".to_owned(), ScalarAttributeType::N),
            ]
        );
    }
}
