//! `GET /requests`: its query, and the page of requests the caller may see.

use approvals::{RequestQuery, RequestStatus};
use chrono::{DateTime, Utc};
use protocol::ErrorCode;
use revocation::RoleWriters;
use serde_json::json;
use sessions::{LeaseStore, SessionStore};

use super::errors::{cursor_error, gate_store_error};
use crate::cursor::{Holder, MAX_STORE_PAGES};
use crate::gates::Gates;
use crate::grant::CredentialIssuer;
use crate::policies::PolicySource;
use crate::service::admin::{query_pairs, to_json};
use crate::service::{ApiError, ApiRequest, Caller, Service};

/// Page size of `GET /requests` when `limit` is absent, and its largest.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

impl<P, I, S, R> Service<P, I, S, R>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    /// `GET /requests?mine=&status=&profile=&limit=&next=`: the caller's own requests
    /// and those they may answer, newest first within a page.
    pub(super) async fn list(
        &self,
        gates: &Gates,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let invalid = |m: String| ApiError::new(ErrorCode::InvalidRequest, m);
        let mut mine = false;
        let mut status = None;
        let mut query = RequestQuery {
            limit: DEFAULT_LIMIT,
            ..RequestQuery::default()
        };
        let mut seen = std::collections::BTreeSet::new();
        for (key, value) in query_pairs(request) {
            if !seen.insert(key.clone()) {
                return Err(invalid(format!(
                    "query parameter `{key}` is given more than once"
                )));
            }
            match key.as_str() {
                "mine" => mine = matches!(value.as_str(), "true" | "1" | ""),
                "status" => {
                    status = Some(RequestStatus::parse(&value).ok_or_else(|| {
                        invalid("`status` is pending, approved, denied, expired or revoked".into())
                    })?);
                }
                "profile" => query.profile = Some(crate::service::admin::valid_profile(&value)?),
                "limit" => {
                    query.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            invalid(format!("`limit` is a whole number from 1 to {MAX_LIMIT}"))
                        })?;
                }
                "next" => query.cursor = Some(value).filter(|v| !v.is_empty()),
                other => {
                    return Err(invalid(format!(
                        "unknown query parameter `{other}` (expected `mine`, `status`, `profile`, `limit` and `next`)"
                    )));
                }
            }
        }
        if mine {
            query.requester = Some(caller.user.clone());
        }
        // Stored statuses: an expired request is stored pending or approved.
        query.status = status.filter(|s| *s != RequestStatus::Expired);
        let holder = Holder {
            route: "/requests",
            caller: &caller.arn,
        };
        let mut next = gates
            .open_cursor(&holder, query.cursor.take())
            .await
            .map_err(cursor_error)?;
        let limit = query.limit;
        let mut visible = Vec::new();
        // Each store page asks only for the rows still missing, so the page never holds
        // more than `limit`.
        for _ in 0..MAX_STORE_PAGES {
            query.limit = limit.saturating_sub(visible.len());
            query.cursor = next.take();
            let page = gates
                .approvals
                .list(&query)
                .await
                .map_err(gate_store_error)?;
            for item in page.items {
                if status.is_some_and(|s| item.status_at(now) != s) {
                    continue;
                }
                if mine || self.may_see(&item, caller, request, now).await.is_ok() {
                    visible.push(item.at(now));
                }
            }
            next = page.next_cursor;
            if next.is_none() || visible.len() >= limit {
                break;
            }
        }
        visible.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        let next = gates
            .seal_cursor(&holder, next)
            .await
            .map_err(cursor_error)?;
        to_json(&json!({ "requests": visible, "next": next }))
    }
}
