//! `sentinel request`, `sentinel requests list|show|revoke|create-tables`, `sentinel
//! approve` and `sentinel deny`: approval requests through the TVM (docs/approvals.md).
//!
//! The TVM decides everything here (who may approve, what a reason must hold, whether a
//! transition is allowed); the CLI checks its own input before any network call, waits
//! for a decision with backoff, and shows requests to people.

mod list;
#[cfg(test)]
mod tests;
mod wait;

use std::time::Duration;

use approvals::{Request, RequestId, RequestStatus};
use protocol::{ErrorCode, wire_time};
use sentinel_types::{ProfileName, SessionDuration};

use crate::credentials::{Nesting, Target, TvmOptions, guard_recursion};
use crate::environment::Environment;
use crate::failure::Failure;
use crate::local_tables;
use crate::sessions_cmd::report_revoked;
use crate::table::{printable, render_fields, render_table, shortened};
use crate::tvm::{TvmClient, TvmError};
pub(crate) use list::collect;
use list::{list_requests, own_pending};
pub use wait::backoff;
use wait::{decision, parse_timeout, wait};

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

fn is_conflict(error: &TvmError) -> bool {
    matches!(error, TvmError::Rejected { body, .. } if body.known_code() == Some(ErrorCode::RequestConflict))
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
