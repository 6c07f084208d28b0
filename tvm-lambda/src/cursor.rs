//! Listing cursors sealed for the caller they are given to (docs/api.md, listings).
//!
//! A store's cursor names the last row it read (DynamoDB's `ExclusiveStartKey`), which
//! may be a row the caller may not see: its ID, its time and, on an index, its status.
//! The TVM hands that cursor out sealed with AES-256-GCM under the deployment's cursor
//! key (`BreakGlassStore::cursor_key`: one random key in the break-glass table, read once
//! per instance), with the route and the caller's ARN as associated data. So a `next`
//! names no row, cannot be altered, and resumes only the listing of the caller it was
//! given to: another caller, even an admin, or another route gets 400. The listings
//! fill their pages past hidden rows ([`MAX_STORE_PAGES`]), so a page's length says
//! little more.

use approvals::StoreError;
use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use tokio::sync::OnceCell;

use crate::gates::BreakGlasses;

/// Why a cursor could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor this TVM sealed for this holder, or altered since (400).
    #[error("`next` is not a cursor this listing gave you")]
    Invalid,
    /// The cursor key could not be read or created.
    #[error("the cursor key could not be read: {0}")]
    Key(#[source] StoreError),
    /// The key or the cipher refused (never seen: a 32-byte key always fits AES-256).
    #[error("the cursor could not be sealed")]
    Seal,
}

/// How many store pages one listing call reads at most to fill its page with rows the
/// caller may see. A page is the store's page minus the hidden rows; read once, a short
/// page with `next` would tell the caller how many rows were left out. Filled, a page is
/// short only where the listing ends or this budget runs out.
pub(crate) const MAX_STORE_PAGES: usize = 5;

/// The deployment's cursor key, read from the break-glass table on first use.
#[derive(Default)]
pub(crate) struct CursorSeal {
    key: OnceCell<RandomizedNonceKey>,
}

/// A sealed cursor's associated data: what it resumes, and for whom.
pub(crate) struct Holder<'a> {
    /// The route, `/requests` or `/breakglass`.
    pub(crate) route: &'static str,
    /// The caller's ARN as AWS verified it.
    pub(crate) caller: &'a str,
}

impl Holder<'_> {
    fn aad(&self) -> Vec<u8> {
        // The ARN ends the data, so no two (route, caller) pairs give the same bytes.
        format!("sentinel cursor v1\n{}\n{}", self.route, self.caller).into_bytes()
    }
}

impl CursorSeal {
    async fn key(&self, store: &dyn BreakGlasses) -> Result<&RandomizedNonceKey, CursorError> {
        self.key
            .get_or_try_init(|| async {
                let bytes = store.cursor_key().await.map_err(CursorError::Key)?;
                RandomizedNonceKey::new(&AES_256_GCM, &bytes).map_err(|_| CursorError::Seal)
            })
            .await
    }

    /// `cursor` (a store's) sealed for `holder`, as hex.
    pub(crate) async fn seal(
        &self,
        store: &dyn BreakGlasses,
        holder: &Holder<'_>,
        cursor: Option<String>,
    ) -> Result<Option<String>, CursorError> {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        let key = self.key(store).await?;
        let mut sealed = cursor.into_bytes();
        let nonce = key
            .seal_in_place_append_tag(Aad::from(holder.aad()), &mut sealed)
            .map_err(|_| CursorError::Seal)?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&sealed);
        Ok(Some(hex::encode(out)))
    }

    /// The store's cursor inside `sealed`, if `sealed` was made by [`CursorSeal::seal`]
    /// for this very `holder` and not altered since; anything else is 400.
    pub(crate) async fn open(
        &self,
        store: &dyn BreakGlasses,
        holder: &Holder<'_>,
        sealed: Option<String>,
    ) -> Result<Option<String>, CursorError> {
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let invalid = || CursorError::Invalid;
        let bytes = hex::decode(&sealed).map_err(|_| invalid())?;
        let (nonce, rest) = bytes.split_at_checked(NONCE_LEN).ok_or_else(invalid)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| invalid())?;
        let mut rest = rest.to_vec();
        let key = self.key(store).await?;
        let plain = key
            .open_in_place(nonce, Aad::from(holder.aad()), &mut rest)
            .map_err(|_| invalid())?;
        String::from_utf8(plain.to_vec())
            .map(Some)
            .map_err(|_| invalid())
    }
}
