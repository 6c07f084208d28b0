//! `sentinel breakglass`: credentials without an approver, loudly, and the review of
//! those uses (docs/approvals.md#break-glass).
//!
//! One command has two shapes: `breakglass --profile P --reason R` opens (it prints
//! credential_process JSON, like `credentials`), and `breakglass list|show|review`
//! administer events. clap keeps them apart with `args_conflicts_with_subcommands` (the
//! open flags cannot precede a subcommand) and `subcommand_negates_reqs` (a subcommand
//! needs no `--profile`); the open flags are `Option`s that clap requires when no
//! subcommand is given. A separate `breakglass open` would read worse in an emergency.

use approvals::{BreakGlassEvent, ReviewStatus};
use protocol::{CredentialProcessOutput, wire_time};
use sentinel_types::{ProfileName, SessionDuration};

use crate::credentials::TvmOptions;
use crate::environment::Environment;
use crate::failure::Failure;
use crate::requests_cmd::{collect, connect, duration_text, parse_id, required, to_json};
use crate::table::{printable, render_fields, render_table, shortened};
use crate::tvm::{TvmClient, TvmError};

/// `sentinel breakglass` arguments.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BreakGlassArgs {
    #[command(subcommand)]
    pub command: Option<BreakGlassCommand>,
    #[command(flatten)]
    pub open: OpenArgs,
}

/// `sentinel breakglass --profile P --reason R`: open break-glass.
#[derive(Debug, Clone, clap::Args)]
pub struct OpenArgs {
    /// Profile to open (its policy needs a break_glass rule that admits you)
    #[arg(long, value_name = "PROFILE", required = true)]
    pub profile: Option<String>,
    /// Why: recorded, sent to the notification channels and read by the reviewer
    #[arg(long, required = true)]
    pub reason: Option<String>,
    /// Requested lifetime: seconds (900-43200) or with a unit, e.g. 30m; the rule caps it
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<SessionDuration>,
}

/// The break-glass subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BreakGlassCommand {
    /// List break-glass events, newest first (default: those that need review)
    List(ListArgs),
    /// Show one break-glass event
    Show(ShowArgs),
    /// Close a break-glass event with your notes
    Review(ReviewArgs),
}

/// `breakglass list` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Reviewed events too
    #[arg(long)]
    pub all: bool,
    /// At most this many events
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `breakglass show` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// Break-glass id (32 hex characters)
    pub id: String,
    /// Print the event as JSON
    #[arg(long)]
    pub json: bool,
}

/// `breakglass review` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ReviewArgs {
    /// Break-glass id
    pub id: String,
    /// What you found (kept in the event)
    #[arg(long)]
    pub notes: String,
}

/// Runs `sentinel breakglass`.
pub async fn run(
    args: &BreakGlassArgs,
    options: &TvmOptions,
    env: &Environment,
) -> Result<(), Failure> {
    let failed = |e: TvmError| e.into_failure(None);
    match &args.command {
        None => open(&args.open, options, env).await,
        Some(BreakGlassCommand::List(list)) => {
            if list.limit == 0 {
                return Err(Failure::invalid("--limit must be at least 1"));
            }
            let client = connect(options, env, None).await?;
            let events = list_events(&client, list).await.map_err(failed)?;
            print!("{}", render_list(&events, list.json));
            Ok(())
        }
        Some(BreakGlassCommand::Show(show)) => {
            let id = parse_id(&show.id)?;
            let client = connect(options, env, None).await?;
            let event = client.breakglass_event(&id).await.map_err(failed)?;
            if show.json {
                println!("{}", to_json(&event)?);
            } else {
                print!("{}", render_event(&event));
            }
            Ok(())
        }
        Some(BreakGlassCommand::Review(review)) => {
            let id = parse_id(&review.id)?;
            let notes = required("--notes", &review.notes)?;
            let client = connect(options, env, None).await?;
            let event = client.review(&id, notes).await.map_err(failed)?;
            println!("break-glass {id} {}", status_text(event.status));
            Ok(())
        }
    }
}

/// Opens break-glass: credential_process JSON on stdout, the event's ID on stderr.
async fn open(args: &OpenArgs, options: &TvmOptions, env: &Environment) -> Result<(), Failure> {
    // clap requires both when there is no subcommand; this is for other callers.
    let (Some(profile), Some(reason)) = (&args.profile, &args.reason) else {
        return Err(Failure::invalid("give --profile and --reason"));
    };
    let profile = ProfileName::parse(profile).map_err(|e| Failure::invalid(e.to_string()))?;
    let reason = required("--reason", reason)?;
    let client = connect(options, env, Some(profile.as_str())).await?;
    let opened = client
        .break_glass(&profile, reason, args.duration.map(SessionDuration::secs))
        .await
        .map_err(|e| e.into_failure(Some(profile.as_str())))?;
    let output = serde_json::to_string(&CredentialProcessOutput::from(&opened.vend))
        .map_err(|e| Failure::error(format!("cannot encode the credentials: {e}")))?;
    eprintln!(
        "sentinel: break-glass opened: {}; this is recorded, notified and needs review",
        opened.breakglass_id
    );
    println!("{output}");
    Ok(())
}

/// `GET /breakglass` as `breakglass list` filters it.
async fn list_events(
    client: &TvmClient,
    list: &ListArgs,
) -> Result<Vec<BreakGlassEvent>, TvmError> {
    collect(list.limit, async |limit, next| {
        let mut query: Vec<(&str, &str)> = vec![("limit", &limit)];
        if !list.all {
            query.push(("status", ReviewStatus::NeedsReview.as_str()));
        }
        if let Some(cursor) = &next {
            query.push(("next", cursor));
        }
        let page = client.breakglass_events(&query).await?;
        Ok((page.events, page.next))
    })
    .await
}

/// `needs review` / `reviewed`.
fn status_text(status: ReviewStatus) -> &'static str {
    match status {
        ReviewStatus::NeedsReview => "needs review",
        ReviewStatus::Reviewed => "reviewed",
    }
}

/// A table (or JSON lines) of events.
pub fn render_list(events: &[BreakGlassEvent], json: bool) -> String {
    if json {
        return events
            .iter()
            .filter_map(|e| serde_json::to_string(e).ok())
            .map(|line| line + "\n")
            .collect();
    }
    if events.is_empty() {
        return "no break-glass events\n".to_owned();
    }
    let rows: Vec<[String; 6]> = events
        .iter()
        .map(|e| {
            [
                e.breakglass_id.to_string(),
                e.profile.to_string(),
                printable(&e.user).into_owned(),
                e.status.as_str().to_owned(),
                wire_time::format(&e.created_at),
                shortened(&e.reason, 60),
            ]
        })
        .collect();
    render_table(
        [
            "BREAKGLASS",
            "PROFILE",
            "USER",
            "STATUS",
            "CREATED",
            "REASON",
        ],
        &rows,
    )
}

/// Every field of one event, one per line.
pub fn render_event(e: &BreakGlassEvent) -> String {
    let review = e.review.as_ref();
    let dash = || "-".to_owned();
    render_fields(&[
        ("breakglass_id", e.breakglass_id.to_string()),
        ("status", e.status.as_str().to_owned()),
        ("profile", e.profile.to_string()),
        ("user", e.user.clone()),
        ("principal_arn", e.principal_arn.clone()),
        ("reason", e.reason.clone()),
        ("rule", e.rule.clone()),
        ("duration", duration_text(e.duration_seconds)),
        ("created_at", wire_time::format(&e.created_at)),
        (
            "session_id",
            e.session_id.as_ref().map_or_else(dash, ToString::to_string),
        ),
        ("reviewed_by", review.map_or_else(dash, |r| r.by.clone())),
        (
            "reviewed_at",
            review.map_or_else(dash, |r| wire_time::format(&r.at)),
        ),
        (
            "review_notes",
            review.map_or_else(dash, |r| r.notes.clone()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use approvals::{RequestId, Review};
    use chrono::{DateTime, Utc};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn event(n: u32) -> BreakGlassEvent {
        BreakGlassEvent {
            breakglass_id: RequestId::parse(&format!("{n:032x}")).unwrap(),
            profile: "prod".parse().unwrap(),
            user: "oncall-dan".into(),
            principal_arn: "arn:aws:iam::111122223333:user/oncall-dan".into(),
            reason: "INC-42 database down".into(),
            rule: "emergency".into(),
            duration_seconds: 1800,
            created_at: at("2026-11-22T03:00:00Z"),
            session_id: None,
            status: ReviewStatus::NeedsReview,
            review: None,
        }
    }

    #[test]
    fn the_list_shows_who_broke_glass_and_why() {
        let table = render_list(&[event(1)], false);
        assert_eq!(
            table,
            format!(
                "BREAKGLASS                        PROFILE  USER        STATUS        CREATED               REASON\n{:032x}  prod     oncall-dan  needs_review  2026-11-22T03:00:00Z  INC-42 database down\n",
                1
            )
        );
        assert_eq!(render_list(&[], false), "no break-glass events\n");
        assert_eq!(render_list(&[event(1), event(2)], true).lines().count(), 2);
    }

    #[test]
    fn show_prints_the_review_once_there_is_one() {
        let open = render_event(&event(1));
        assert!(open.contains("status          needs_review\n"), "{open}");
        assert!(open.contains("review_notes    -\n"));
        let mut closed = event(1);
        closed.status = ReviewStatus::Reviewed;
        closed.review = Some(Review {
            by: "jane".into(),
            principal_arn: "arn:aws:sts::111122223333:assumed-role/Security/jane".into(),
            notes: "justified\u{1b}]0;x".into(),
            at: at("2026-11-22T09:00:00Z"),
        });
        let text = render_event(&closed);
        assert!(text.contains("reviewed_by     jane\n"));
        assert!(text.contains("review_notes    justified?]0;x\n"), "{text}");
        assert_eq!(status_text(closed.status), "reviewed");
    }
}
