//! Listing requests: `GET /requests` as `requests list` filters it, and paging through
//! `next` cursors (also used by break-glass listings).

use approvals::Request;
use sentinel_types::ProfileName;

use super::ListArgs;
use crate::tvm::{TvmClient, TvmError};

/// Largest page asked of the TVM (its maximum).
const PAGE: usize = 200;

/// Follows `next` until `limit` items or the last page; `fetch` gets the page size to ask
/// for and the cursor, and answers the page's items and its `next`.
pub(crate) async fn collect<T>(
    limit: usize,
    mut fetch: impl AsyncFnMut(String, Option<String>) -> Result<(Vec<T>, Option<String>), TvmError>,
) -> Result<Vec<T>, TvmError> {
    let mut found = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let remaining = limit.saturating_sub(found.len());
        if remaining == 0 {
            return Ok(found);
        }
        let (items, cursor) = fetch(remaining.min(PAGE).to_string(), next).await?;
        found.extend(items.into_iter().take(remaining));
        match cursor {
            Some(cursor) => next = Some(cursor),
            None => return Ok(found),
        }
    }
}

/// The caller's pending request for `profile`, if the TVM lists one (newest first).
pub(super) async fn own_pending(client: &TvmClient, profile: &ProfileName) -> Option<Request> {
    let list = ListArgs {
        mine: true,
        pending: true,
        profile: Some(profile.to_string()),
        limit: 1,
        json: false,
    };
    list_requests(client, &list).await.ok()?.into_iter().next()
}

/// `GET /requests` as `requests list` filters it.
pub(super) async fn list_requests(
    client: &TvmClient,
    list: &ListArgs,
) -> Result<Vec<Request>, TvmError> {
    collect(list.limit, async |limit, next| {
        let mut query: Vec<(&str, &str)> = vec![("limit", &limit)];
        if list.mine {
            query.push(("mine", "true"));
        }
        if list.pending {
            query.push(("status", "pending"));
        }
        if let Some(profile) = &list.profile {
            query.push(("profile", profile));
        }
        if let Some(cursor) = &next {
            query.push(("next", cursor));
        }
        let page = client.requests(&query).await?;
        Ok((page.requests, page.next))
    })
    .await
}
