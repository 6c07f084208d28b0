//! Waiting for a decision on a `sentinel request --wait`: the timeout, the backoff
//! between polls, the polling itself and what the decided request means.

use std::time::Duration;

use approvals::{Request, RequestStatus};
use protocol::wire_time;

use super::humane;
use crate::failure::{ExitKind, Failure};
use crate::table::printable;
use crate::tvm::{TvmClient, TvmError};

/// Longest pause between two polls.
pub(super) const MAX_POLL: Duration = Duration::from_secs(30);
/// Longest `--timeout`: 30 days.
const MAX_TIMEOUT_SECS: u64 = 30 * 24 * 3600;
/// `--timeout`: from one second to 30 days (no request waits longer than its rule's
/// `request_ttl`, and a bound keeps the deadline arithmetic in range).
pub(super) fn parse_timeout(raw: &str) -> Result<Duration, Failure> {
    match sentinel_types::parse_span(raw) {
        Ok(secs) if (1..=MAX_TIMEOUT_SECS).contains(&secs) => Ok(Duration::from_secs(secs)),
        _ => Err(Failure::invalid(format!(
            "--timeout `{}` is not a span from 1s to 720h, such as 90s, 30m or 1h",
            raw.escape_default()
        ))),
    }
}

/// The pauses between polls: `first`, then half as long again each time, at most 30 s.
pub fn backoff(first: Duration) -> impl Iterator<Item = Duration> {
    let first = first.clamp(Duration::from_millis(1), MAX_POLL);
    std::iter::successors(Some(first), |pause| {
        Some(pause.saturating_add(*pause / 2).min(MAX_POLL))
    })
}

/// Polls `GET /requests/{id}` until the request is no longer pending or `timeout`
/// passes. Failures that may pass (the network, a 5xx) are retried.
pub(super) async fn wait(
    client: &TvmClient,
    created: Request,
    timeout: Duration,
    first: Duration,
) -> Result<Request, Failure> {
    let deadline = tokio::time::Instant::now() + timeout;
    let id = created.request_id.clone();
    let mut counted = created.approvals.len();
    let mut latest = created;
    let mut pauses = backoff(first);
    while latest.status == RequestStatus::Pending {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Failure::error(format!(
                "request {id} is still pending after {}",
                humane(timeout)
            ))
            .with_hint(format!(
                "it stays open until {}; `sentinel requests show {id}` shows where it stands",
                wire_time::format(&latest.expires_at)
            )));
        }
        let pause = pauses
            .next()
            .unwrap_or(MAX_POLL)
            .min(deadline.saturating_duration_since(now));
        tokio::time::sleep(pause).await;
        match client.request(&id).await {
            Ok(fresh) => latest = fresh,
            Err(e) if passing(&e) => eprintln!("sentinel: warning: {e}; trying again"),
            Err(e) => return Err(e.into_failure(Some(latest.profile.as_str()))),
        }
        if latest.status == RequestStatus::Pending && latest.approvals.len() > counted {
            counted = latest.approvals.len();
            eprintln!(
                "sentinel: {} approval(s) so far ({}); waiting for the other groups",
                counted,
                approvers(&latest)
            );
        }
    }
    Ok(latest)
}

/// A failure that may pass: the TVM unreachable, or a server error.
fn passing(error: &TvmError) -> bool {
    match error {
        TvmError::Connect { .. } => true,
        TvmError::Http { status, .. } | TvmError::Rejected { status, .. } => *status >= 500,
        _ => false,
    }
}

/// What a decided request means for the requester: the line to print when approved,
/// else the failure (exit 2).
pub(super) fn decision(request: &Request) -> Result<String, Failure> {
    let id = &request.request_id;
    let profile = &request.profile;
    let closure = |verb: &str| match &request.closure {
        Some(c) => format!(
            "request {id} was {verb} by {}: {}",
            printable(&c.by),
            printable(&c.reason)
        ),
        None => format!("request {id} was {verb}"),
    };
    let ask_again =
        format!("ask again with `sentinel request --profile {profile} --reason \"<why>\" --wait`");
    match request.status {
        RequestStatus::Approved => Ok(format!(
            "approved by {}; run `sentinel credentials --profile {profile}` (or your AWS profile) now",
            approvers(request)
        )),
        RequestStatus::Denied => Err(Failure::new(ExitKind::Denied, closure("denied"))),
        RequestStatus::Revoked => Err(Failure::new(ExitKind::Denied, closure("revoked"))),
        RequestStatus::Expired => Err(Failure::new(
            ExitKind::Denied,
            format!("request {id} expired before it was approved"),
        )
        .with_hint(ask_again)),
        RequestStatus::Pending => Err(Failure::error(format!("request {id} is still pending"))),
    }
}

/// The approvers so far, in order: `alice, bob`.
fn approvers(request: &Request) -> String {
    let names: Vec<String> = request
        .approvals
        .iter()
        .map(|a| printable(&a.approver).into_owned())
        .collect();
    if names.is_empty() {
        "nobody".to_owned()
    } else {
        names.join(", ")
    }
}
