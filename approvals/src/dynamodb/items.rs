//! The stored items: requests and events as DynamoDB attribute maps and back.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, TimeDelta, Utc};
use sentinel_aws_dynamodb::{Fields, Item};
use sentinel_types::{SessionId, timestamp};

use super::RETENTION_DAYS;
use crate::listing::{CREATED_AT, EVENT_KIND};
use crate::{
    Approval, BreakGlassEvent, Closure, Request, RequestId, RequestStatus, Review, ReviewStatus,
    StoreError,
};

/// The attribute DynamoDB's time to live reads.
pub(super) const TTL_ATTRIBUTE: &str = "ttl";

/// Epoch seconds of `end` plus `days`.
pub(super) fn ttl(end: DateTime<Utc>, days: i64) -> i64 {
    end.checked_add_signed(TimeDelta::days(days))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        .timestamp()
}

pub(super) fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn time(t: DateTime<Utc>) -> AttributeValue {
    AttributeValue::S(timestamp::format(t))
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The stored item for `request` (module documentation).
pub(super) fn request_item(request: &Request) -> Item {
    let end = request
        .approved_until
        .map_or(request.expires_at, |until| until.max(request.expires_at));
    let mut item = Item::from([
        ("request_id".to_owned(), s(request.request_id.as_str())),
        ("profile".to_owned(), s(request.profile.as_str())),
        ("requester".to_owned(), s(&request.requester)),
        ("principal_arn".to_owned(), s(&request.principal_arn)),
        ("reason".to_owned(), s(&request.reason)),
        ("duration_seconds".to_owned(), n(request.duration_seconds)),
        ("status".to_owned(), s(request.status.as_str())),
        (
            "approvals".to_owned(),
            AttributeValue::L(request.approvals.iter().map(approval_value).collect()),
        ),
        (CREATED_AT.to_owned(), time(request.created_at)),
        ("expires_at".to_owned(), time(request.expires_at)),
        ("rule".to_owned(), s(&request.rule)),
        ("version".to_owned(), n(request.version)),
        (TTL_ATTRIBUTE.to_owned(), n(ttl(end, RETENTION_DAYS))),
    ]);
    if let Some(until) = request.approved_until {
        item.insert("approved_until".to_owned(), time(until));
    }
    if let Some(closure) = &request.closure {
        item.insert("closure".to_owned(), closure_value(closure));
    }
    item
}

fn approval_value(approval: &Approval) -> AttributeValue {
    let mut map = Item::from([
        ("approver".to_owned(), s(&approval.approver)),
        ("principal_arn".to_owned(), s(&approval.principal_arn)),
        ("group".to_owned(), n(approval.group)),
        ("at".to_owned(), time(approval.at)),
    ]);
    if let Some(comment) = &approval.comment {
        map.insert("comment".to_owned(), s(comment));
    }
    if let Some(digest) = &approval.approvers_digest {
        map.insert("approvers_digest".to_owned(), s(digest));
    }
    AttributeValue::M(map)
}

fn closure_value(closure: &Closure) -> AttributeValue {
    AttributeValue::M(Item::from([
        ("by".to_owned(), s(&closure.by)),
        ("principal_arn".to_owned(), s(&closure.principal_arn)),
        ("reason".to_owned(), s(&closure.reason)),
        ("at".to_owned(), time(closure.at)),
    ]))
}

pub(super) fn review_value(review: &Review) -> AttributeValue {
    AttributeValue::M(Item::from([
        ("by".to_owned(), s(&review.by)),
        ("principal_arn".to_owned(), s(&review.principal_arn)),
        ("notes".to_owned(), s(&review.notes)),
        ("at".to_owned(), time(review.at)),
    ]))
}

/// The stored item for `event` (module documentation).
pub(super) fn event_item(event: &BreakGlassEvent) -> Item {
    let end = event
        .created_at
        .checked_add_signed(TimeDelta::seconds(i64::from(event.duration_seconds)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut item = Item::from([
        ("breakglass_id".to_owned(), s(event.breakglass_id.as_str())),
        ("kind".to_owned(), s(EVENT_KIND)),
        ("profile".to_owned(), s(event.profile.as_str())),
        ("user".to_owned(), s(&event.user)),
        ("principal_arn".to_owned(), s(&event.principal_arn)),
        ("reason".to_owned(), s(&event.reason)),
        ("rule".to_owned(), s(&event.rule)),
        ("duration_seconds".to_owned(), n(event.duration_seconds)),
        (CREATED_AT.to_owned(), time(event.created_at)),
        ("status".to_owned(), s(event.status.as_str())),
        (TTL_ATTRIBUTE.to_owned(), n(ttl(end, RETENTION_DAYS))),
    ]);
    if let Some(session) = &event.session_id {
        item.insert("session_id".to_owned(), s(session.as_str()));
    }
    if let Some(review) = &event.review {
        item.insert("review".to_owned(), review_value(review));
    }
    item
}

/// Decodes a stored request; any attribute missing or of the wrong shape is
/// [`StoreError::Corrupt`] naming it. `ttl` is derived, so it is not read back.
pub(super) fn request_from_item(item: &Item) -> Result<Request, StoreError> {
    let row = Fields::row(item, "request", "request_id");
    let approvals = row
        .list("approvals")?
        .iter()
        .map(|a| {
            Ok(Approval {
                approver: a.string("approver")?,
                principal_arn: a.string("principal_arn")?,
                group: a.number("group")?,
                approvers_digest: a.optional_string("approvers_digest")?,
                at: a.time("at")?,
                comment: a.optional_string("comment")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let closure = row
        .optional_map("closure")?
        .map(|c| {
            Ok::<_, StoreError>(Closure {
                by: c.string("by")?,
                principal_arn: c.string("principal_arn")?,
                reason: c.string("reason")?,
                at: c.time("at")?,
            })
        })
        .transpose()?;
    Ok(Request {
        request_id: id(&row, "request_id")?,
        profile: row.parsed("profile")?,
        requester: row.string("requester")?,
        principal_arn: row.string("principal_arn")?,
        reason: row.string("reason")?,
        duration_seconds: row.number("duration_seconds")?,
        status: RequestStatus::parse(&row.string("status")?)
            .ok_or_else(|| row.corrupt("status", "is not a request status"))?,
        approvals,
        created_at: row.time(CREATED_AT)?,
        expires_at: row.time("expires_at")?,
        approved_until: row.optional_time("approved_until")?,
        rule: row.string("rule")?,
        closure,
        version: row.number("version")?,
    })
}

/// Decodes a stored event, as [`request_from_item`] does a request.
pub(super) fn event_from_item(item: &Item) -> Result<BreakGlassEvent, StoreError> {
    let row = Fields::row(item, "break-glass event", "breakglass_id");
    let review = row
        .optional_map("review")?
        .map(|r| {
            Ok::<_, StoreError>(Review {
                by: r.string("by")?,
                principal_arn: r.string("principal_arn")?,
                notes: r.string("notes")?,
                at: r.time("at")?,
            })
        })
        .transpose()?;
    let session_id = row
        .optional_string("session_id")?
        .map(|id| {
            SessionId::parse(&id).map_err(|_| row.corrupt("session_id", "is not a session id"))
        })
        .transpose()?;
    Ok(BreakGlassEvent {
        breakglass_id: id(&row, "breakglass_id")?,
        profile: row.parsed("profile")?,
        user: row.string("user")?,
        principal_arn: row.string("principal_arn")?,
        reason: row.string("reason")?,
        rule: row.string("rule")?,
        duration_seconds: row.number("duration_seconds")?,
        created_at: row.time(CREATED_AT)?,
        session_id,
        status: ReviewStatus::parse(&row.string("status")?)
            .ok_or_else(|| row.corrupt("status", "is not a review status"))?,
        review,
    })
}

/// A stored request or event ID.
fn id(row: &Fields<'_>, attribute: &str) -> Result<RequestId, StoreError> {
    Ok(RequestId::parse(&row.string(attribute)?)
        .map_err(|_| row.corrupt(attribute, "is not 32 lowercase hex characters"))?)
}
