//! `sentinel sessions list|show|revoke|create-table`: session administration (docs/sessions.md, docs/authorizer.md).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use protocol::wire_time;
use sessions::{
    AwsDeny, LeaseStore, ListQuery, Revocation, RevokeOutcome, SessionId, SessionRecord,
    SessionStore, Status, StoreError,
};

use sentinel_aws::IamRoles;

use crate::aws;
use crate::environment::Environment;
use crate::failure::Failure;

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
    /// Revoke a session, or every active session of a user
    Revoke(RevokeArgs),
    /// Create the session table with its indexes and TTL (idempotent; for local stacks and tests)
    CreateTable(CreateTableArgs),
}

/// `sessions create-table` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateTableArgs {
    #[command(flatten)]
    pub table: TableArg,
}

/// Which DynamoDB table.
#[derive(Debug, Clone, clap::Args)]
pub struct TableArg {
    /// DynamoDB table holding the sessions
    #[arg(
        long,
        env = "SENTINEL_SESSION_TABLE",
        hide_env_values = true,
        value_name = "TABLE"
    )]
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
    #[command(flatten)]
    pub table: TableArg,
}

/// `sessions show` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// Session id (32 hex characters)
    pub id: String,
    /// Print the record as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub table: TableArg,
}

/// `sessions revoke` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RevokeArgs {
    /// Session id to revoke
    #[arg(required_unless_present = "user", conflicts_with = "user")]
    pub id: Option<String>,
    /// Revoke every active session of this user instead
    #[arg(long)]
    pub user: Option<String>,
    /// Why (kept in the session record)
    #[arg(long)]
    pub reason: String,
    /// Only mark the sessions revoked; leave the roles' inline deny policy alone
    #[arg(long)]
    pub no_aws_deny: bool,
    #[command(flatten)]
    pub table: TableArg,
}

/// Runs a `sentinel sessions` subcommand.
pub async fn run(
    args: &SessionsArgs,
    region: Option<&str>,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let table = match &args.command {
        SessionsCommand::List(a) => &a.table,
        SessionsCommand::Show(a) => &a.table,
        SessionsCommand::Revoke(a) => &a.table,
        SessionsCommand::CreateTable(a) => &a.table,
    };
    let table = table
        .table
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Failure::invalid("no session table given")
                .with_hint("pass --table or set SENTINEL_SESSION_TABLE to the DynamoDB table name")
        })?;
    // Inputs are checked before any AWS configuration is loaded.
    match &args.command {
        SessionsCommand::CreateTable(_) => {
            let config = aws::sdk_config(region).await;
            let client = aws_sdk_dynamodb::Client::new(&config);
            sessions::create_table(&client, table)
                .await
                .map_err(store_failure)?;
            println!("table {table} is active (indexes by-user and by-profile, TTL on ttl)");
            Ok(())
        }
        SessionsCommand::List(list) => {
            let query = list_query(list)?;
            let config = aws::sdk_config(region).await;
            let store = aws::session_store(&config, table);
            let records = collect(&store, query, list.limit).await?;
            print!("{}", render_list(&records, list.json, now));
            Ok(())
        }
        SessionsCommand::Show(show) => {
            let id = parse_id(&show.id)?;
            let config = aws::sdk_config(region).await;
            let store = aws::session_store(&config, table);
            let record = store
                .get(&id)
                .await
                .map_err(store_failure)?
                .ok_or_else(|| unknown(&id))?;
            if show.json {
                println!("{}", to_json(&record)?);
            } else {
                print!("{}", render_record(&record, now));
            }
            Ok(())
        }
        SessionsCommand::Revoke(revoke) => {
            let id = revoke.id.as_deref().map(parse_id).transpose()?;
            if revoke.reason.trim().is_empty() {
                return Err(Failure::invalid("--reason must not be empty"));
            }
            let config = aws::sdk_config(region).await;
            let store = aws::session_store(&config, table);
            let by = match aws::sts::caller_arn(&config).await {
                Ok(arn) => arn,
                Err(failure) => {
                    let user = env.user.clone().unwrap_or_else(|| "unknown".to_owned());
                    eprintln!(
                        "sentinel: warning: cannot tell who you are from sts ({}); recording `revoked_by` as `{user}`",
                        failure.message
                    );
                    user
                }
            };
            let revocation = Revocation {
                by,
                reason: revoke.reason.clone(),
                at: now,
            };
            let ids = match (id, &revoke.user) {
                (Some(id), _) => vec![id],
                (None, Some(user)) => active_ids_of(&store, user).await?,
                (None, None) => return Err(Failure::invalid("give a session id or --user")),
            };
            if ids.is_empty() {
                eprintln!(
                    "sentinel: no active sessions for user `{}`",
                    revoke.user.as_deref().unwrap_or_default()
                );
                return Ok(());
            }
            let mut affected = Vec::new();
            for id in &ids {
                let outcome = store.revoke(id, &revocation).await.map_err(|e| match e {
                    StoreError::NotFound(id) => unknown(&id),
                    other => store_failure(other),
                })?;
                match &outcome {
                    RevokeOutcome::Revoked(r) => println!("revoked {}", r.session_id),
                    RevokeOutcome::AlreadyRevoked(r) => println!(
                        "already revoked {} (at {} by {})",
                        r.session_id,
                        r.revocation()
                            .map(|v| wire_time::format(&v.at))
                            .unwrap_or_default(),
                        r.revocation().map_or("unknown", |v| v.by.as_str())
                    ),
                }
                affected.push(outcome.into_record());
            }
            if revoke.no_aws_deny {
                eprintln!(
                    "sentinel: warning: --no-aws-deny: the credentials keep working against AWS until they expire; only APIs behind the sentinel authorizer refuse them"
                );
                return Ok(());
            }
            let own_account = sentinel_types::Arn::parse(&revocation.by)
                .ok()
                .and_then(|arn| arn.account().cloned());
            let roles = IamRoles::new(&config);
            deny_on_roles(&roles, own_account.as_ref(), &store, &affected, now).await
        }
    }
}

/// Rebuilds the deny of every role the sessions were issued for (crate `revocation`)
/// and says on stderr where each role stands; the first failed role is the error.
async fn deny_on_roles<S: SessionStore + LeaseStore>(
    writers: &IamRoles,
    own_account: Option<&sentinel_types::AccountId>,
    store: &S,
    affected: &[SessionRecord],
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let outcomes = revocation::deny_on_roles(writers, own_account, store, affected, now)
        .await
        .map_err(store_failure)?;
    let mut first_failure = None;
    for (arn, outcome) in outcomes {
        let role = arn.name();
        match &outcome.state {
            AwsDeny::Failed { reason } => {
                eprintln!("sentinel: error: role `{role}`: {reason}");
                first_failure.get_or_insert_with(|| {
                    Failure::error(format!(
                        "the sessions are revoked in the table, but the deny policy on role `{role}` was not updated: {reason}"
                    ))
                    .with_hint("re-run the same revoke once the AWS call can succeed; it is idempotent")
                });
            }
            _ if outcome.fallback => eprintln!(
                "sentinel: warning: the revoked session ids of role `{role}` do not fit in its inline policy limit ({} characters); it now denies every session of that role issued before the newest revoked one",
                revocation::document::INLINE_LIMIT
            ),
            _ => eprintln!(
                "sentinel: role `{role}` denies the revoked sessions ({})",
                revocation::POLICY_NAME
            ),
        }
    }
    match first_failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

/// `arn:aws:iam::1:role/path/Name` -> `Name`.
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

async fn active_ids_of<S: SessionStore>(store: &S, user: &str) -> Result<Vec<SessionId>, Failure> {
    let query = ListQuery {
        user: Some(user.to_owned()),
        status: Some(Status::Active),
        ..ListQuery::default()
    };
    let records = collect(store, query, usize::MAX).await?;
    Ok(records.into_iter().map(|r| r.session_id).collect())
}

/// Follows `next_cursor` until `limit` records or the last page.
pub async fn collect<S: SessionStore>(
    store: &S,
    mut query: ListQuery,
    limit: usize,
) -> Result<Vec<SessionRecord>, Failure> {
    let mut records = Vec::new();
    loop {
        let remaining = limit.saturating_sub(records.len());
        if remaining == 0 {
            return Ok(records);
        }
        query.limit = Some(remaining.min(ListQuery::DEFAULT_LIMIT));
        let page = store.list(&query).await.map_err(store_failure)?;
        records.extend(page.records.into_iter().take(remaining));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(records),
        }
    }
}

fn list_query(args: &ListArgs) -> Result<ListQuery, Failure> {
    if args.limit == 0 {
        return Err(Failure::invalid("--limit must be at least 1"));
    }
    let status = args
        .status
        .as_deref()
        .map(str::parse::<Status>)
        .transpose()
        .map_err(|e| Failure::invalid(e.to_string()))?;
    Ok(ListQuery {
        user: args.user.clone(),
        profile: args.profile.clone(),
        status,
        ..ListQuery::default()
    })
}

fn parse_id(raw: &str) -> Result<SessionId, Failure> {
    SessionId::parse(raw).map_err(|e| Failure::invalid(e.to_string()))
}

fn unknown(id: &SessionId) -> Failure {
    Failure::error(format!("no session `{id}` in the table"))
        .with_hint("`sentinel sessions list --user USER` shows a user's sessions")
}

fn store_failure(error: StoreError) -> Failure {
    match error {
        StoreError::InvalidQuery(_) => Failure::invalid(error.to_string()),
        other => Failure::error(other.to_string()).with_hint(
            "check the table name and this shell's AWS credentials and region (AWS_PROFILE, AWS_REGION)",
        ),
    }
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
    use sessions::InMemorySessionStore;

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

    #[tokio::test]
    async fn collect_follows_cursors_up_to_the_limit() {
        let store = InMemorySessionStore::new();
        for n in 0..250 {
            store.insert(record(n, "alice", i64::from(n % 50)));
        }
        let all = collect(&store, ListQuery::default(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(all.len(), 250);
        let some = collect(&store, ListQuery::default(), 120).await.unwrap();
        assert_eq!(some.len(), 120);
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
