//! Creating the two tables, and their errors as the stores' errors.

use aws_sdk_dynamodb::Client;
use sentinel_aws_dynamodb::{Index, KeyAttribute, Layout, TableError};

use super::items::TTL_ATTRIBUTE;
use crate::StoreError;
use crate::listing::{BY_KIND, BY_REQUESTER, BY_STATUS, CREATED_AT};

/// Creates both tables as the module documentation lays them out, each with on-demand
/// billing, its indexes (every attribute projected) and time to live on `ttl`.
/// Idempotent: an existing table is accepted if it has its indexes. Returns once both
/// tables and their indexes are active.
pub async fn create_tables(
    client: &Client,
    approval_table: &str,
    breakglass_table: &str,
) -> Result<(), StoreError> {
    let by_created_at = |name, partition| Index {
        name,
        partition,
        sort: KeyAttribute::String(CREATED_AT),
    };
    let tables = [
        Layout {
            table: approval_table,
            key: "request_id",
            indexes: &[by_created_at(BY_REQUESTER, "requester")],
            ttl: TTL_ATTRIBUTE,
        },
        Layout {
            table: breakglass_table,
            key: "breakglass_id",
            indexes: &[
                by_created_at(BY_STATUS, "status"),
                by_created_at(BY_KIND, "kind"),
            ],
            ttl: TTL_ATTRIBUTE,
        },
    ];
    for layout in tables {
        layout.create(client).await?;
    }
    Ok(())
}

impl From<TableError> for StoreError {
    fn from(e: TableError) -> Self {
        match e {
            TableError::Unavailable(message) => Self::Unavailable(message),
            TableError::Corrupt(message) => Self::Corrupt(message),
        }
    }
}
