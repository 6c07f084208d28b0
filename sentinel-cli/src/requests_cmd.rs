//! `sentinel request`, `sentinel requests list|show|revoke|create-tables`, `sentinel
//! approve` and `sentinel deny`: approval requests through the TVM (docs/approvals.md).
//!
//! The TVM decides everything here (who may approve, what a reason must hold, whether a
//! transition is allowed); the CLI checks its own input before any network call, waits
//! for a decision with backoff, and shows requests to people.

use std::time::Duration;

use approvals::{Request, RequestId, RequestStatus};
use protocol::{ErrorCode, wire_time};
use sentinel_types::{ProfileName, SessionDuration};

use crate::credentials::{Nesting, Target, TvmOptions, guard_recursion};
use crate::environment::Environment;
use crate::failure::{ExitKind, Failure};
use crate::local_tables;
use crate::sessions_cmd::report_revoked;
use crate::table::{printable, render_fields, render_table, shortened};
use crate::tvm::{TvmClient, TvmError};

/// `sentinel request` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RequestArgs {
    /// Profile whose policy asks for an approval
    #[arg(long, value_name = "PROFILE")]
    pub profile: String,
    /// Why, for the approvers (the profile's rule may ask for a ticket, e.g. CHG-1234)
    #[arg(long)]
    pub reason: String,
    /// Access wanted once approved: seconds (900-43200) or with a unit, e.g. 1h
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<SessionDuration>,
    /// Wait until the request is approved (exit 0), denied, expired or revoked (exit 2)
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this span (exit 1; the request stays open)
    #[arg(long, value_name = "SPAN", default_value = "30m")]
    pub timeout: String,
    /// Print the request as JSON (with --wait: once it is decided)
    #[arg(long)]
    pub json: bool,
    /// The first pause between polls in milliseconds; later ones grow 1.5 times up to 30 s
    #[arg(
        long,
        env = "SENTINEL_POLL_INTERVAL_MS",
        hide = true,
        hide_env = true,
        default_value_t = 2000
    )]
    pub poll_interval_ms: u64,
}

/// `sentinel requests` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RequestsArgs {
    #[command(subcommand)]
    pub command: RequestsCommand,
}

/// The request subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RequestsCommand {
    /// List your requests and those you may answer, newest first
    List(ListArgs),
    /// Show one request
    Show(ShowArgs),
    /// End a request and revoke the sessions vended under it
    Revoke(RevokeArgs),
    /// Create the approval and break-glass tables (local stacks): runs `sentinel-tvm create-tables`
    #[command(hide = true)]
    CreateTables(CreateTablesArgs),
}

/// `requests list` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Only your own requests
    #[arg(long)]
    pub mine: bool,
    /// Only pending requests
    #[arg(long)]
    pub pending: bool,
    /// Only requests for this profile
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// At most this many requests
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `requests show` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// Request id (32 hex characters)
    pub id: String,
    /// Print the request as JSON
    #[arg(long)]
    pub json: bool,
}

/// `requests revoke` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RevokeArgs {
    /// Request id
    pub id: String,
    /// Why (kept in the request and in its revoked sessions)
    #[arg(long)]
    pub reason: String,
}

/// `requests create-tables` arguments (SPEC §9's name for `sentinel-tvm create-tables`).
#[derive(Debug, Clone, clap::Args)]
pub struct CreateTablesArgs {
    /// DynamoDB table of approval requests
    #[arg(long, value_name = "TABLE")]
    pub approval_table: String,
    /// DynamoDB table of break-glass events
    #[arg(long, value_name = "TABLE")]
    pub breakglass_table: String,
}

/// `sentinel approve` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ApproveArgs {
    /// Request id
    pub id: String,
    /// A note for the requester and the audit trail
    #[arg(long)]
    pub comment: Option<String>,
}

/// `sentinel deny` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DenyArgs {
    /// Request id
    pub id: String,
    /// Why (the requester reads it)
    #[arg(long)]
    pub reason: String,
}

/// Largest page asked of the TVM (its maximum).
const PAGE: usize = 200;
/// Longest pause between two polls.
const MAX_POLL: Duration = Duration::from_secs(30);
/// Longest `--timeout`: 30 days.
const MAX_TIMEOUT_SECS: u64 = 30 * 24 * 3600;

/// Runs `sentinel request`.
pub async fn request(
    args: &RequestArgs,
    options: &TvmOptions,
    env: &Environment,
) -> Result<(), Failure> {
    // Inputs are checked before any credentials are loaded.
    let profile = ProfileName::parse(&args.profile).map_err(|e| Failure::invalid(e.to_string()))?;
    let reason = required("--reason", &args.reason)?;
    let timeout = parse_timeout(&args.timeout)?;
    let client = connect(options, env, Some(profile.as_str())).await?;
    let created = match client
        .create_request(&profile, reason, args.duration.map(SessionDuration::secs))
        .await
    {
        Ok(created) => created,
        // With --wait, a request of the caller's already pending for the profile is the
        // one to wait for (the TVM allows one at a time).
        Err(e) if args.wait && is_conflict(&e) => match own_pending(&client, &profile).await {
            Some(pending) => {
                eprintln!(
                    "sentinel: you already have a pending request for profile `{profile}`; waiting for it"
                );
                pending
            }
            None => return Err(e.into_failure(Some(profile.as_str()))),
        },
        Err(e) => return Err(e.into_failure(Some(profile.as_str()))),
    };
    let summary = render_created(&created);
    if !args.wait {
        if args.json {
            println!("{}", to_json(&created)?);
        } else {
            print!("{summary}");
        }
        return Ok(());
    }
    // With --json, stdout holds only the decided request.
    if args.json {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    eprintln!(
        "sentinel: waiting up to {} for a decision (Ctrl-C stops waiting; the request stays open)",
        humane(timeout)
    );
    let first = Duration::from_millis(args.poll_interval_ms);
    let decided = wait(&client, created, timeout, first).await?;
    if args.json {
        println!("{}", to_json(&decided)?);
    }
    let approved = decision(&decided)?;
    if args.json {
        eprintln!("sentinel: {approved}");
    } else {
        println!("{approved}");
    }
    Ok(())
}

/// Runs `sentinel approve`.
pub async fn approve(
    args: &ApproveArgs,
    options: &TvmOptions,
    env: &Environment,
) -> Result<(), Failure> {
    let id = parse_id(&args.id)?;
    let comment = args
        .comment
        .as_deref()
        .map(|c| required("--comment", c))
        .transpose()?;
    let client = connect(options, env, None).await?;
    let answered = client
        .approve(&id, comment)
        .await
        .map_err(|e| e.into_failure(None))?;
    match (answered.status, answered.approved_until) {
        (RequestStatus::Approved, Some(until)) => println!(
            "request {id} approved for {} until {}",
            printable(&answered.requester),
            wire_time::format(&until)
        ),
        _ => println!(
            "request {id}: your approval is counted ({} so far); it stays {} until every approver group has enough",
            answered.approvals.len(),
            answered.status
        ),
    }
    Ok(())
}

/// Runs `sentinel deny`.
pub async fn deny(args: &DenyArgs, options: &TvmOptions, env: &Environment) -> Result<(), Failure> {
    let id = parse_id(&args.id)?;
    let reason = required("--reason", &args.reason)?;
    let client = connect(options, env, None).await?;
    let answered = client
        .deny(&id, reason)
        .await
        .map_err(|e| e.into_failure(None))?;
    println!("request {id} {}", answered.status);
    Ok(())
}

/// Runs a `sentinel requests` subcommand.
pub async fn run(
    args: &RequestsArgs,
    options: &TvmOptions,
    env: &Environment,
) -> Result<(), Failure> {
    let failed = |e: TvmError| e.into_failure(None);
    match &args.command {
        RequestsCommand::CreateTables(tables) => local_tables::create(
            "create-tables",
            &[
                ("--approval-table", &tables.approval_table),
                ("--breakglass-table", &tables.breakglass_table),
            ],
            "the approval and break-glass tables are",
        ),
        RequestsCommand::List(list) => {
            if list.limit == 0 {
                return Err(Failure::invalid("--limit must be at least 1"));
            }
            if let Some(profile) = &list.profile {
                ProfileName::parse(profile).map_err(|e| Failure::invalid(e.to_string()))?;
            }
            let client = connect(options, env, None).await?;
            let found = list_requests(&client, list).await.map_err(failed)?;
            print!("{}", render_list(&found, list.json));
            Ok(())
        }
        RequestsCommand::Show(show) => {
            let id = parse_id(&show.id)?;
            let client = connect(options, env, None).await?;
            let found = client.request(&id).await.map_err(failed)?;
            if show.json {
                println!("{}", to_json(&found)?);
            } else {
                print!("{}", render_request(&found));
            }
            Ok(())
        }
        RequestsCommand::Revoke(revoke) => {
            let id = parse_id(&revoke.id)?;
            let reason = required("--reason", &revoke.reason)?;
            let client = connect(options, env, None).await?;
            let answer = client.revoke_request(&id, reason).await.map_err(failed)?;
            println!("request {id} {}", answer.request.status);
            match answer.sessions.filter(|s| !s.revoked.is_empty()) {
                Some(sessions) => report_revoked(&sessions),
                None => {
                    eprintln!("sentinel: no active sessions were vended under request {id}");
                    Ok(())
                }
            }
        }
    }
}

/// Checks `--tvm-url` and the signing setup, then loads the signing credentials.
pub(crate) async fn connect(
    options: &TvmOptions,
    env: &Environment,
    profile: Option<&str>,
) -> Result<TvmClient, Failure> {
    let target = Target::resolve(options)?;
    guard_recursion(options, env, Nesting::Allow).await?;
    target.connect(options, profile).await
}

/// `value` trimmed; empty is invalid input.
pub(crate) fn required<'a>(flag: &str, value: &'a str) -> Result<&'a str, Failure> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Failure::invalid(format!("{flag} must not be empty")));
    }
    Ok(value)
}

/// A request or break-glass ID: 32 lowercase hex characters.
pub(crate) fn parse_id(raw: &str) -> Result<RequestId, Failure> {
    RequestId::parse(raw).map_err(|_| {
        Failure::invalid(format!(
            "`{}` is not an id (32 lowercase hex characters)",
            raw.escape_default()
        ))
    })
}

/// One line of JSON for stdout.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure::error(format!("cannot encode JSON: {e}")))
}

/// `--timeout`: from one second to 30 days (no request waits longer than its rule's
/// `request_ttl`, and a bound keeps the deadline arithmetic in range).
fn parse_timeout(raw: &str) -> Result<Duration, Failure> {
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
async fn wait(
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
fn decision(request: &Request) -> Result<String, Failure> {
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

fn is_conflict(error: &TvmError) -> bool {
    matches!(error, TvmError::Rejected { body, .. } if body.known_code() == Some(ErrorCode::RequestConflict))
}

/// The caller's pending request for `profile`, if the TVM lists one (newest first).
async fn own_pending(client: &TvmClient, profile: &ProfileName) -> Option<Request> {
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
async fn list_requests(client: &TvmClient, list: &ListArgs) -> Result<Vec<Request>, TvmError> {
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

/// `1h`, `30m`, `1h30m`, `45s`.
fn humane(span: Duration) -> String {
    let secs = span.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let text: String = [(h, "h"), (m, "m"), (s, "s")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() {
        "0s".to_owned()
    } else {
        text
    }
}

/// Seconds as `1h`, `30m`, `1h30m`.
pub(crate) fn duration_text(secs: u32) -> String {
    humane(Duration::from_secs(u64::from(secs)))
}

/// What `sentinel request` prints once the request exists: its ID, where it stands and
/// the command an approver runs (the TVM's answer names no approvers; the rule does).
pub fn render_created(request: &Request) -> String {
    let id = &request.request_id;
    format!(
        "request {id} is {} for profile {}: {} of access once approved; it expires at {}\nan approver of rule {} runs: sentinel approve {id}\n",
        request.status,
        request.profile,
        duration_text(request.duration_seconds),
        wire_time::format(&request.expires_at),
        printable(&request.rule),
    )
}

/// A table (or JSON lines) of requests.
pub fn render_list(requests: &[Request], json: bool) -> String {
    if json {
        return requests
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .map(|line| line + "\n")
            .collect();
    }
    if requests.is_empty() {
        return "no requests\n".to_owned();
    }
    let rows: Vec<[String; 6]> = requests
        .iter()
        .map(|r| {
            [
                r.request_id.to_string(),
                r.profile.to_string(),
                printable(&r.requester).into_owned(),
                r.status.to_string(),
                wire_time::format(&r.created_at),
                shortened(&r.reason, 60),
            ]
        })
        .collect();
    render_table(
        [
            "REQUEST",
            "PROFILE",
            "REQUESTER",
            "STATUS",
            "CREATED",
            "REASON",
        ],
        &rows,
    )
}

/// Every field of one request, one per line; one `approval` line per approval.
pub fn render_request(r: &Request) -> String {
    let optional_time = |t: Option<&chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "-".to_owned(), wire_time::format)
    };
    let closure = r.closure.as_ref();
    let mut fields = vec![
        ("request_id", r.request_id.to_string()),
        ("status", r.status.to_string()),
        ("profile", r.profile.to_string()),
        ("requester", r.requester.clone()),
        ("principal_arn", r.principal_arn.clone()),
        ("reason", r.reason.clone()),
        ("duration", duration_text(r.duration_seconds)),
        ("rule", r.rule.clone()),
        ("created_at", wire_time::format(&r.created_at)),
        ("expires_at", wire_time::format(&r.expires_at)),
        ("approved_until", optional_time(r.approved_until.as_ref())),
    ];
    if r.approvals.is_empty() {
        fields.push(("approvals", "-".to_owned()));
    }
    for a in &r.approvals {
        let comment = a
            .comment
            .as_deref()
            .map_or_else(String::new, |c| format!(": {c}"));
        fields.push((
            "approval",
            format!(
                "{} (group {}, {}) at {}{comment}",
                a.approver,
                a.group + 1,
                a.principal_arn,
                wire_time::format(&a.at)
            ),
        ));
    }
    fields.extend([
        (
            "closed_by",
            closure.map_or("-".to_owned(), |c| c.by.clone()),
        ),
        ("closed_at", optional_time(closure.map(|c| &c.at))),
        (
            "closed_reason",
            closure.map_or("-".to_owned(), |c| c.reason.clone()),
        ),
    ]);
    render_fields(&fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approvals::{Approval, Closure};
    use chrono::{DateTime, Utc};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn pending(n: u32, requester: &str) -> Request {
        Request {
            request_id: RequestId::parse(&format!("{n:032x}")).unwrap(),
            profile: "prod".parse().unwrap(),
            requester: requester.into(),
            principal_arn: format!("arn:aws:iam::111122223333:user/{requester}"),
            reason: "CHG-1234 rotate keys".into(),
            duration_seconds: 3600,
            status: RequestStatus::Pending,
            approvals: Vec::new(),
            created_at: at("2026-11-22T13:50:00Z"),
            expires_at: at("2026-11-23T13:50:00Z"),
            approved_until: None,
            rule: "prod-changes".into(),
            closure: None,
            version: 1,
        }
    }

    fn approved(n: u32) -> Request {
        let mut r = pending(n, "carol");
        r.status = RequestStatus::Approved;
        r.approved_until = Some(at("2026-11-22T15:00:00Z"));
        r.approvals.push(Approval {
            approver: "alice".into(),
            principal_arn: "arn:aws:iam::111122223333:user/alice".into(),
            group: 0,
            approvers_digest: None,
            at: at("2026-11-22T14:00:00Z"),
            comment: Some("ok".into()),
        });
        r
    }

    fn closed(status: RequestStatus) -> Request {
        let mut r = pending(3, "carol");
        r.status = status;
        r.closure = Some(Closure {
            by: "bob".into(),
            principal_arn: "arn:aws:iam::111122223333:user/bob".into(),
            reason: "not during the freeze".into(),
            at: at("2026-11-22T14:00:00Z"),
        });
        r
    }

    #[test]
    fn polls_back_off_from_the_first_pause_by_half_up_to_thirty_seconds() {
        let ms: Vec<u128> = backoff(Duration::from_secs(2))
            .take(10)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(
            ms,
            [
                2000, 3000, 4500, 6750, 10125, 15187, 22781, 30000, 30000, 30000
            ]
        );
        let quick: Vec<u128> = backoff(Duration::from_millis(40))
            .take(3)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(quick, [40, 60, 90]);
        assert_eq!(
            backoff(Duration::ZERO).next(),
            Some(Duration::from_millis(1))
        );
        assert_eq!(backoff(Duration::from_secs(90)).next(), Some(MAX_POLL));
    }

    #[test]
    fn a_decision_is_exit_0_only_when_approved() {
        assert_eq!(
            decision(&approved(1)).unwrap(),
            "approved by alice; run `sentinel credentials --profile prod` (or your AWS profile) now"
        );
        let denied = decision(&closed(RequestStatus::Denied)).unwrap_err();
        assert_eq!(denied.kind, ExitKind::Denied);
        assert_eq!(
            denied.message,
            format!(
                "request {:032x} was denied by bob: not during the freeze",
                3
            )
        );
        let revoked = decision(&closed(RequestStatus::Revoked)).unwrap_err();
        assert_eq!(revoked.kind, ExitKind::Denied);
        assert!(revoked.message.contains("was revoked by bob"));
        let mut expired = pending(4, "carol");
        expired.status = RequestStatus::Expired;
        let expired = decision(&expired).unwrap_err();
        assert_eq!(expired.kind, ExitKind::Denied);
        assert!(
            expired
                .hint
                .unwrap()
                .contains("sentinel request --profile prod")
        );
    }

    #[test]
    fn blank_reasons_ids_and_timeouts_are_invalid_input() {
        assert_eq!(
            required("--reason", "  ").unwrap_err().kind,
            ExitKind::Invalid
        );
        assert_eq!(required("--reason", " CHG-1 ").unwrap(), "CHG-1");
        assert_eq!(parse_id("nope").unwrap_err().kind, ExitKind::Invalid);
        assert!(parse_id(&"a".repeat(32)).is_ok());
        assert_eq!(parse_timeout("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_timeout("1h30m").unwrap(), Duration::from_secs(5400));
        for bad in ["0", "", "soon", "-5m", "721h", "99999999999999999999h"] {
            assert_eq!(
                parse_timeout(bad).unwrap_err().kind,
                ExitKind::Invalid,
                "{bad:?}"
            );
        }
        assert_eq!(humane(Duration::from_secs(5400)), "1h30m");
    }

    #[test]
    fn the_created_request_names_the_command_an_approver_runs() {
        let id = format!("{:032x}", 7);
        assert_eq!(
            render_created(&pending(7, "carol")),
            format!(
                "request {id} is pending for profile prod: 1h of access once approved; it expires at 2026-11-23T13:50:00Z\nan approver of rule prod-changes runs: sentinel approve {id}\n"
            )
        );
    }

    #[test]
    fn the_list_is_a_table_with_printable_shortened_reasons() {
        let mut long = pending(2, "dave");
        long.reason = format!("CHG-9 \u{1b}[31m{}", "x".repeat(80));
        let table = render_list(&[approved(1), long], false);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(
            lines[0].starts_with("REQUEST                           PROFILE  REQUESTER  STATUS    CREATED               REASON"),
            "{table}"
        );
        assert!(
            lines[1].contains("carol      approved  2026-11-22T13:50:00Z  CHG-1234 rotate keys")
        );
        assert!(!table.contains('\u{1b}'));
        assert!(lines[2].ends_with('…'), "{table}");
        assert_eq!(lines[2].split("  ").last().unwrap().chars().count(), 60);
        assert_eq!(render_list(&[], false), "no requests\n");
        let json = render_list(&[approved(1)], true);
        let back: Request = serde_json::from_str(json.trim_end()).unwrap();
        assert_eq!(back, approved(1));
    }

    #[test]
    fn show_prints_every_field_and_each_approval() {
        let text = render_request(&approved(1));
        assert!(text.starts_with(&format!("request_id      {:032x}\n", 1)));
        assert!(text.contains("status          approved\n"));
        assert!(text.contains("duration        1h\n"));
        assert!(text.contains(
            "approval        alice (group 1, arn:aws:iam::111122223333:user/alice) at 2026-11-22T14:00:00Z: ok\n"
        ));
        assert!(text.contains("approved_until  2026-11-22T15:00:00Z\n"));
        assert!(text.ends_with("closed_reason   -\n"), "{text}");
        let denied = render_request(&closed(RequestStatus::Denied));
        assert!(denied.contains("approvals       -\n"));
        assert!(denied.contains("closed_by       bob\n"));
        assert!(denied.contains("closed_reason   not during the freeze\n"));
    }
}
