//! The break-glass table's cursor key item ([`crate::BreakGlassStore::cursor_key`]):
//! `breakglass_id` = [`CURSOR_KEY_ID`], `key` (B, 32 random bytes). Event IDs are hex and
//! cooldowns start `cooldown#`, so the key is no one else's; it carries neither `status`
//! nor `kind`, so neither index lists it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use sentinel_aws_dynamodb::unavailable;

use crate::StoreError;

/// The item's key. `#1`: a second key, should one ever be needed, gets its own item.
pub(super) const CURSOR_KEY_ID: &str = "cursor-key#1";

/// The stored key, or a fresh one written on condition that none exists; when another
/// instance wrote first, theirs (read back consistently).
pub(super) async fn get_or_create(client: &Client, table: &str) -> Result<[u8; 32], StoreError> {
    if let Some(key) = read(client, table).await? {
        return Ok(key);
    }
    let fresh = crate::record::new_cursor_key()?;
    let written = client
        .put_item()
        .table_name(table)
        .item("breakglass_id", AttributeValue::S(CURSOR_KEY_ID.to_owned()))
        .item("key", AttributeValue::B(Blob::new(fresh.to_vec())))
        .condition_expression("attribute_not_exists(breakglass_id)")
        .send()
        .await;
    match written {
        Ok(_) => Ok(fresh),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            read(client, table).await?.ok_or_else(|| {
                StoreError::Corrupt("the cursor key item is there and then not".into())
            })
        }
        Err(e) => Err(unavailable(table, "PutItem", &e).into()),
    }
}

async fn read(client: &Client, table: &str) -> Result<Option<[u8; 32]>, StoreError> {
    let out = client
        .get_item()
        .table_name(table)
        .key("breakglass_id", AttributeValue::S(CURSOR_KEY_ID.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| unavailable(table, "GetItem", &e))?;
    let Some(item) = out.item else {
        return Ok(None);
    };
    match item.get("key") {
        Some(AttributeValue::B(blob)) => {
            <[u8; 32]>::try_from(blob.as_ref()).map(Some).map_err(|_| {
                StoreError::Corrupt("`key` of the cursor key item is not 32 bytes".into())
            })
        }
        _ => Err(StoreError::Corrupt(
            "the cursor key item has no binary `key`".into(),
        )),
    }
}
