//! `sentinel sessions list|show|revoke|reconcile`: session administration through the
//! TVM's admin API (docs/api.md#admin-api, docs/sessions.md). The CLI links no DynamoDB
//! client: a local stack's table is created by `sentinel-tvm create-table`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use protocol::wire_time;
use sessions::{AwsDeny, SessionId, SessionRecord, Status};

use crate::credentials::{Nesting, Target, TvmOptions, guard_recursion};
use crate::environment::Environment;
use crate::failure::Failure;
use crate::local_tables;
use crate::tvm::{Revoked, RoleDeny, TvmClient, TvmError};

/// `sentinel sessions` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub command: SessionsCommand,
}

/// The session subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SessionsCommand {
    /// List sessions, newest first
    List(ListArgs),
    /// Show one session
    Show(ShowArgs),
    /// Revoke a session, or every active session of a user or a profile
    Revoke(RevokeArgs),
    /// Rebuild the deny on every protected role from the session table
    Reconcile,
    /// Create the session table (local stacks): runs `sentinel-tvm create-table`
    #[command(hide = true)]
    CreateTable(CreateTableArgs),
}

/// `sessions create-table` arguments (SPEC §8's name for `sentinel-tvm create-table`).
#[derive(Debug, Clone, clap::Args)]
pub struct CreateTableArgs {
    /// DynamoDB table to create
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
}

/// `sessions list` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Only sessions of this user
    #[arg(long)]
    pub user: Option<String>,
    /// Only sessions for this profile
    #[arg(long)]
    pub profile: Option<String>,
    /// Only sessions with this status: active or revoked
    #[arg(long)]
    pub status: Option<String>,
    /// At most this many sessions
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `sessions show` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// Session id (32 hex characters)
    pub id: String,
    /// Print the record as JSON
    #[arg(long)]
    pub json: bool,
}

/// `sessions revoke` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RevokeArgs {
    /// Session id to revoke
    #[arg(required_unless_present_any = ["user", "profile"], conflicts_with_all = ["user", "profile"])]
    pub id: Option<String>,
    /// Revoke every active session of this user instead
    #[arg(long, conflicts_with = "profile")]
    pub user: Option<String>,
    /// Revoke every active session for this profile instead
    #[arg(long)]
    pub profile: Option<String>,
    /// Why (kept in the session record)
    #[arg(long)]
    pub reason: String,
}

/// Runs a `sentinel sessions` subcommand through the TVM's admin API
/// (docs/api.md#admin-api), signed like `credentials`.
pub async fn run(
    args: &SessionsArgs,
    options: &TvmOptions,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    if let SessionsCommand::CreateTable(create) = &args.command {
        return create_table(create.table.as_deref());
    }
    // Inputs are checked before any credentials are loaded.
    let id = match &args.command {
        SessionsCommand::Show(show) => Some(parse_id(&show.id)?),
        SessionsCommand::Revoke(revoke) => {
            if revoke.reason.trim().is_empty() {
                return Err(Failure::invalid("--reason must not be empty"));
            }
            revoke.id.as_deref().map(parse_id).transpose()?
        }
        SessionsCommand::List(list) => {
            if list.limit == 0 {
                return Err(Failure::invalid("--limit must be at least 1"));
            }
            if let Some(status) = &list.status {
                status
                    .parse::<Status>()
                    .map_err(|e| Failure::invalid(e.to_string()))?;
            }
            None
        }
        _ => None,
    };
    let target = Target::resolve(options)?;
    guard_recursion(options, env, Nesting::Allow).await?;
    let client = target.connect(options, None).await?;
    let failed = |e: TvmError| e.into_failure(None);
    match &args.command {
        SessionsCommand::List(list) => {
            let records = collect(&client, list).await.map_err(failed)?;
            print!("{}", render_list(&records, list.json, now));
            Ok(())
        }
        SessionsCommand::Show(show) => {
            let Some(id) = id else {
                return Err(Failure::invalid("give a session id"));
            };
            let record = client.session(&id).await.map_err(failed)?;
            if show.json {
                println!("{}", to_json(&record)?);
            } else {
                print!("{}", render_record(&record, now));
            }
            Ok(())
        }
        SessionsCommand::Revoke(revoke) => {
            let answer = match (&id, &revoke.user, &revoke.profile) {
                (Some(id), _, _) => client.revoke(id, &revoke.reason).await,
                (None, Some(user), _) => client.revoke_all("user", user, &revoke.reason).await,
                (None, None, Some(profile)) => {
                    client.revoke_all("profile", profile, &revoke.reason).await
                }
                (None, None, None) => {
                    return Err(Failure::invalid("give a session id, --user or --profile"));
                }
            }
            .map_err(failed)?;
            if answer.revoked.is_empty() {
                let whom = match (&revoke.user, &revoke.profile) {
                    (Some(user), _) => format!("user `{user}`"),
                    (_, Some(profile)) => format!("profile `{profile}`"),
                    _ => "that selection".to_owned(),
                };
                eprintln!("sentinel: no active sessions for {whom}");
                return Ok(());
            }
            report_revoked(&answer)
        }
        SessionsCommand::CreateTable(_) => Ok(()),
        SessionsCommand::Reconcile => {
            let answer = client.reconcile().await.map_err(failed)?;
            if answer.aws_deny.is_empty() {
                eprintln!("sentinel: no role has revoked, unexpired sessions");
            }
            report_roles(&answer.aws_deny)
        }
    }
}

/// `sentinel sessions create-table`: runs `sentinel-tvm create-table`.
fn create_table(table: Option<&str>) -> Result<(), Failure> {
    let flags: Vec<(&str, &str)> = table.map(|t| ("--table", t)).into_iter().collect();
    local_tables::create("create-table", &flags, "the session table is")
}

/// Prints each session of a revoke's answer on stdout and, on stderr, where layer 2
/// stands for each role; the first failed role is the error.
pub fn report_revoked(answer: &Revoked) -> Result<(), Failure> {
    for row in &answer.revoked {
        if answer.already_revoked.contains(&row.session_id.to_string()) {
            println!(
                "already revoked {} (at {} by {})",
                row.session_id,
                row.revocation()
                    .map(|v| wire_time::format(&v.at))
                    .unwrap_or_default(),
                row.revocation().map_or("unknown", |v| v.by.as_str())
            );
        } else {
            println!("revoked {}", row.session_id);
        }
    }
    report_roles(&answer.aws_deny)
}

/// Says on stderr where layer 2 stands for each role; the first failed role is the error.
fn report_roles(roles: &BTreeMap<String, RoleDeny>) -> Result<(), Failure> {
    let mut first_failure = None;
    for (arn, deny) in roles {
        let role = role_name(arn);
        match deny.state.as_str() {
            "applied" if deny.fallback => eprintln!(
                "sentinel: warning: the revoked session ids of role `{role}` do not fit in its inline policy limit; it now denies every session of that role issued before the newest revoked one"
            ),
            "applied" => {
                eprintln!("sentinel: role `{role}` denies the revoked sessions ({POLICY_NAME})");
            }
            state => {
                let reason = deny.reason.as_deref().unwrap_or(state);
                eprintln!("sentinel: error: role `{role}`: {reason}");
                first_failure.get_or_insert_with(|| {
                    Failure::error(format!(
                        "the sessions are revoked in the table, but the deny policy on role `{role}` was not updated: {reason}"
                    ))
                    .with_hint("fix the cause, then run `sentinel sessions reconcile`")
                });
            }
        }
    }
    match first_failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

/// The deny policy's name on protected roles (docs/sessions.md).
const POLICY_NAME: &str = "sentinel-revoked-sessions";

/// `arn:aws:iam::1:role/path/Name` -> `Name`.
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

/// Follows `next` until `--limit` records or the last page.
async fn collect(client: &TvmClient, list: &ListArgs) -> Result<Vec<SessionRecord>, TvmError> {
    let mut records = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let remaining = list.limit.saturating_sub(records.len());
        if remaining == 0 {
            return Ok(records);
        }
        let limit = remaining.min(PAGE).to_string();
        let mut query: Vec<(&str, &str)> = vec![("limit", &limit)];
        for (name, value) in [
            ("user", &list.user),
            ("profile", &list.profile),
            ("status", &list.status),
            ("next", &next),
        ] {
            if let Some(value) = value {
                query.push((name, value));
            }
        }
        let page = client.sessions(&query).await?;
        records.extend(page.sessions.into_iter().take(remaining));
        match page.next {
            Some(cursor) => next = Some(cursor),
            None => return Ok(records),
        }
    }
}

/// Largest page asked of the TVM.
const PAGE: usize = 1000;

fn parse_id(raw: &str) -> Result<SessionId, Failure> {
    SessionId::parse(raw).map_err(|e| Failure::invalid(e.to_string()))
}

fn to_json(record: &SessionRecord) -> Result<String, Failure> {
    serde_json::to_string(record)
        .map_err(|e| Failure::error(format!("cannot encode a session: {e}")))
}

/// What a person reads: `expired` for active rows past `expires_at`.
fn display_status(record: &SessionRecord, now: DateTime<Utc>) -> &'static str {
    match record.status() {
        Status::Revoked => "revoked",
        Status::Active if record.is_active_at(now) => "active",
        Status::Active => "expired",
    }
}

/// A table (or JSON lines) of sessions.
pub fn render_list(records: &[SessionRecord], json: bool, now: DateTime<Utc>) -> String {
    if json {
        return records
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .map(|line| line + "\n")
            .collect();
    }
    if records.is_empty() {
        return "no sessions\n".to_owned();
    }
    let rows: Vec<[String; 6]> = records
        .iter()
        .map(|r| {
            [
                r.session_id.to_string(),
                r.user.clone(),
                r.profile.to_string(),
                display_status(r, now).to_owned(),
                wire_time::format(&r.issued_at),
                wire_time::format(&r.expires_at),
            ]
        })
        .collect();
    let header = ["SESSION", "USER", "PROFILE", "STATUS", "ISSUED", "EXPIRES"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Every field of one session, one per line.
pub fn render_record(r: &SessionRecord, now: DateTime<Utc>) -> String {
    let optional = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let fields = [
        ("session_id", r.session_id.to_string()),
        ("status", display_status(r, now).to_owned()),
        ("user", r.user.clone()),
        ("principal_arn", r.principal_arn.clone()),
        ("account_id", r.account_id.to_string()),
        ("profile", r.profile.to_string()),
        ("role_arn", r.role_arn.to_string()),
        ("source_identity", r.source_identity.to_string()),
        ("access_key_id", r.access_key_id.clone()),
        ("rule", r.rule.clone()),
        ("issued_at", wire_time::format(&r.issued_at)),
        ("expires_at", wire_time::format(&r.expires_at)),
        ("source_ip", optional(&r.source_ip)),
        ("user_agent", optional(&r.user_agent)),
        ("request_id", r.request_id.clone()),
        (
            "revoked_at",
            r.revocation()
                .map_or_else(|| "-".to_owned(), |v| wire_time::format(&v.at)),
        ),
        (
            "revoked_by",
            optional(&r.revocation().map(|v| v.by.clone())),
        ),
        (
            "revoked_reason",
            optional(&r.revocation().map(|v| v.reason.clone())),
        ),
        (
            "aws_deny",
            match r.aws_deny() {
                None => "-".to_owned(),
                Some(AwsDeny::Pending) => "pending".to_owned(),
                Some(AwsDeny::Applied { at }) => format!("applied {}", wire_time::format(at)),
                Some(AwsDeny::Failed { reason }) => format!("failed: {reason}"),
            },
        ),
    ];
    let mut out = String::new();
    for (name, value) in fields {
        let _ = writeln!(out, "{name:<16}{value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn record(n: u32, user: &str, issued_minutes_ago: i64) -> SessionRecord {
        let issued_at = now() - Duration::minutes(issued_minutes_ago);
        let expires_at = issued_at + Duration::hours(1);
        let mut record = sessions::contract::record(n, user, "prod");
        record.role_arn = "arn:aws:iam::111122223333:role/path/SentinelProtected-prod"
            .parse()
            .unwrap();
        record.access_key_id = "ASIAEXAMPLE".into();
        record.issued_at = issued_at;
        record.expires_at = expires_at;
        record.source_ip = None;
        record.user_agent = None;
        record.request_id = "req".into();
        record
    }

    #[test]
    fn role_names_are_the_last_path_segment() {
        assert_eq!(role_name("arn:aws:iam::1:role/path/Name"), "Name");
        assert_eq!(role_name("arn:aws:iam::1:role/Name"), "Name");
    }

    #[test]
    fn the_table_shows_expired_sessions_as_expired() {
        let mut revoked = record(2, "bob", 5);
        revoked.state = sessions::SessionState::Revoked(
            sessions::contract::revocation("admin"),
            sessions::AwsDeny::Pending,
        );
        let rows = [record(1, "alice", 90), revoked, record(3, "carol", 1)];
        let table = render_list(&rows, false, now());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "SESSION                           USER   PROFILE  STATUS   ISSUED                EXPIRES"
        );
        assert!(
            lines[1].contains("alice") && lines[1].contains("expired"),
            "{table}"
        );
        assert!(lines[2].contains("revoked"));
        assert!(lines[3].contains("active"));
        let json = render_list(&rows, true, now());
        assert_eq!(json.lines().count(), 3);
        let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(first["user"], "alice");
        assert_eq!(render_list(&[], false, now()), "no sessions\n");
    }

    #[test]
    fn show_prints_every_field() {
        let text = render_record(&record(1, "alice", 5), now());
        assert!(text.starts_with("session_id      00000000000000000000000000000001\n"));
        assert!(text.contains("revoked_reason  -\n"));
        assert!(text.contains("aws_deny        -\n"));
        assert_eq!(text.lines().count(), 19);
        let mut revoked = record(2, "bob", 5);
        revoked.state = sessions::SessionState::Revoked(
            sessions::contract::revocation("admin"),
            AwsDeny::Failed {
                reason: "deploy SentinelRevoker".into(),
            },
        );
        let text = render_record(&revoked, now());
        assert!(
            text.contains("aws_deny        failed: deploy SentinelRevoker\n"),
            "{text}"
        );
    }
}
