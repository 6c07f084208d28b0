//! `sentinel policy`: `validate` and `test` run the policy engine offline;
//! `pull`, `push` and `diff` (the library's [`PolicyRemote`]) talk to SSM.
//!
//! A file named `_admin.yaml` is the admin policy (SPEC §6a), everything else
//! a profile's policy: the name decides, as it decides where `bootstrap`
//! stores it, so a profile policy that lost its `profile:` block is reported
//! as such instead of being read as an admin policy.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use policy::identity::{IdentityError, IdentityRoles, derive_user};
use policy::{
    ADMIN_ACTIONS, AdminDecision, AdminPolicySet, AdminRequest, Decision, Explanation, Lint,
    PolicySet, Request, Skipped,
};
use sentinel_cli::bootstrap::is_admin_file;
use sentinel_cli::cli::{PolicyRemote, run_policy};
use sentinel_cli::credentials::TvmOptions;
use sentinel_cli::diagnostic::{invalid_policy, place};
use sentinel_cli::failure::{ExitKind, Failure};
use sentinel_types::SessionDuration;

/// `sentinel policy` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PolicyCommand {
    /// Check policy files strictly and show their warnings
    Validate(ValidateArgs),
    /// Decide a request against a policy file offline, and say why
    Test(TestArgs),
    #[command(flatten)]
    Remote(PolicyRemote),
}

/// `sentinel policy validate` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// Policy files (YAML), one per profile; `_admin.yaml` is the admin policy
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// `sentinel policy test` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// Policy file (YAML); `_admin.yaml` is the admin policy
    pub file: PathBuf,
    /// Caller ARN, as AWS reports it (e.g. arn:aws:iam::123456789012:user/alice)
    #[arg(long, value_name = "ARN", required_unless_present = "subject")]
    pub principal: Option<String>,
    /// A workload instead (SPEC §10): the token's issuer, e.g. https://token.actions.githubusercontent.com
    #[arg(
        long,
        value_name = "URL",
        requires = "subject",
        conflicts_with = "principal"
    )]
    pub issuer: Option<String>,
    /// A workload instead: the token's `sub` (a SPIFFE ID is its own user)
    #[arg(
        long,
        value_name = "SUB",
        requires = "issuer",
        conflicts_with = "principal"
    )]
    pub subject: Option<String>,
    /// A workload's claim, NAME=VALUE; repeat for more values or claims
    #[arg(long, value_name = "NAME=VALUE", requires = "subject")]
    pub claim: Vec<String>,
    /// When the request happens, RFC 3339 (default: now)
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Source IP address of the request (IPv4 or IPv6)
    #[arg(long, value_name = "IP")]
    pub source_ip: Option<String>,
    /// Requested lifetime: seconds (900-43200) or with a unit, e.g. 15m, 1h
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<SessionDuration>,
    /// Decide a break-glass call (`sentinel breakglass`): only deny and break_glass rules count
    #[arg(long)]
    pub break_glass: bool,
    /// Roles whose session name is the user, as the TVM's SENTINEL_IDENTITY_ROLES (default: AWSReservedSSO_*)
    #[arg(
        long,
        value_name = "GLOB,...",
        value_delimiter = ',',
        env = "SENTINEL_IDENTITY_ROLES",
        hide_env_values = true
    )]
    pub identity_roles: Option<Vec<String>>,
    /// Admin policy only: the admin action, e.g. sessions:revoke
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// Admin policy only: the profile the action is about (leave out for every profile)
    #[arg(long, value_name = "PROFILE", requires = "action")]
    pub profile: Option<String>,
}

/// Runs a `sentinel policy` command; `now` is the clock `main` read.
pub fn run(
    command: &PolicyCommand,
    options: &TvmOptions,
    now: DateTime<Utc>,
) -> Result<u8, Failure> {
    match command {
        PolicyCommand::Validate(args) => validate(args).map(|()| 0),
        PolicyCommand::Test(args) => test(args, now).map(|()| 0),
        PolicyCommand::Remote(remote) => run_policy(remote, options),
    }
}

fn validate(args: &ValidateArgs) -> Result<(), Failure> {
    let (mut unreadable, mut invalid) = (0usize, 0usize);
    for file in &args.files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{}: error: cannot read the file: {e}", file.display());
                unreadable += 1;
                continue;
            }
        };
        let checked = if is_admin_file(file) {
            policy::parse_admin(&text)
                .map(|set| ("admin policy, ", set.rules().len(), set.lints().to_vec()))
        } else {
            policy::parse(&text).map(|set| ("", set.rules().len(), set.lints().to_vec()))
        };
        match checked {
            Err(error) => {
                invalid += 1;
                eprintln!(
                    "{}: error: {}",
                    place(file, error.line(), error.column()),
                    error.detail()
                );
                if let Some(hint) = error.hint() {
                    eprintln!("hint: {hint}");
                }
            }
            Ok((kind, rules, lints)) => {
                for lint in &lints {
                    eprintln!(
                        "{}: warning: {}",
                        place(file, lint.line(), lint.column()),
                        lint.detail()
                    );
                }
                println!(
                    "{}: valid, {kind}{}",
                    file.display(),
                    summary(rules, &lints)
                );
            }
        }
    }
    let total = args.files.len();
    let files = |n: usize| if n == 1 { "file" } else { "files" };
    if unreadable > 0 {
        return Err(Failure::error(format!(
            "{unreadable} of {total} policy {} could not be read",
            files(total)
        )));
    }
    if invalid > 0 {
        return Err(Failure::invalid(format!(
            "{invalid} of {total} policy {} {} invalid",
            files(total),
            if invalid == 1 { "is" } else { "are" }
        ))
        .with_hint("fix the errors above; an invalid policy is never evaluated (the TVM answers POLICY_ERROR)"));
    }
    Ok(())
}

/// `3 rules, 1 warning`.
fn summary(rules: usize, lints: &[Lint]) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut text = plural(rules, "rule");
    if !lints.is_empty() {
        let _ = write!(text, ", {}", plural(lints.len(), "warning"));
    }
    text
}

fn test(args: &TestArgs, now: DateTime<Utc>) -> Result<(), Failure> {
    let at = match &args.at {
        Some(raw) => DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                Failure::invalid(format!("`--at` value `{raw}` is not an RFC 3339 instant"))
                    .with_hint("write it like 2026-03-02T09:30:00Z or 2026-03-02T10:30:00+01:00")
            })?,
        None => now,
    };
    let source_ip = args
        .source_ip
        .as_deref()
        .map(|raw| {
            raw.parse::<IpAddr>().map_err(|_| {
                Failure::invalid(format!("`--source-ip` value `{raw}` is not an IP address"))
            })
        })
        .transpose()?;
    let requested_duration = args.duration.map(SessionDuration::secs);
    let roles = match &args.identity_roles {
        Some(globs) => IdentityRoles::new(globs).map_err(|e| Failure::invalid(e.to_string()))?,
        None => IdentityRoles::default(),
    };
    let workload = workload_of(args)?;
    // A workload's account is the TVM's; `accounts` never holds for one anyway.
    let (user, account_id) = match (&workload, args.principal.as_deref()) {
        (Some(w), _) => (w.user.clone(), String::new()),
        (None, Some(principal)) => derive_user(principal, &roles)
            .map(|c| (c.user, c.account_id))
            .map_err(|e| match e {
            IdentityError::Root => Failure::invalid("root credentials are not accepted by sentinel")
                .with_hint("the TVM refuses root callers before any policy is read"),
            other => Failure::invalid(other.to_string()).with_hint(
                "give the caller ARN as AWS reports it: ...:user/NAME, ...:assumed-role/ROLE/SESSION or ...:federated-user/NAME",
            ),
            })?,
        (None, None) => {
            return Err(Failure::invalid("give `--principal ARN`, or `--issuer` and `--subject` for a workload"));
        }
    };
    let principal = match &workload {
        Some(w) => format!("{} {}", w.issuer, w.subject),
        None => args.principal.clone().unwrap_or_default(),
    };

    let admin = is_admin_file(&args.file);
    if admin && workload.is_some() {
        return Err(Failure::invalid(
            "workloads do not call the admin routes: test the admin policy with `--principal`",
        ));
    }
    if admin {
        if requested_duration.is_some() {
            return Err(Failure::invalid(
                "`--duration` does not apply to the admin policy",
            ));
        }
    } else if args.action.is_some() {
        return Err(
            Failure::invalid("`--action` and `--profile` apply to the admin policy only")
                .with_hint("the admin policy is the file named `_admin.yaml`"),
        );
    }
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Failure::error(format!("cannot read `{}`: {e}", args.file.display())))?;
    if admin {
        let Some(action) = args.action.as_deref() else {
            return Err(
                Failure::invalid("`--action` is required to test the admin policy")
                    .with_hint("e.g. `--action sessions:revoke --profile staging`"),
            );
        };
        if !ADMIN_ACTIONS.contains(&action) {
            return Err(Failure::invalid(format!(
                "`--action` value `{action}` is not an admin action"
            ))
            .with_hint(format!("admin actions: {}", ADMIN_ACTIONS.join(", "))));
        }
        let set = policy::parse_admin(&text).map_err(|e| invalid_policy(&args.file, &e))?;
        let request = AdminRequest {
            principal_arn: &principal,
            user: &user,
            account_id: &account_id,
            source_ip,
            action,
            profile: args.profile.as_deref(),
        };
        let explanation = policy::explain_admin(&set, &request, at);
        print!("{}", admin_report(&set, &request, at, &explanation));
        return match explanation.decision {
            AdminDecision::Allow { .. } => Ok(()),
            AdminDecision::Deny { rule, reason } => Err(denied(rule, reason)),
        };
    }
    let set = policy::parse(&text).map_err(|e| invalid_policy(&args.file, &e))?;
    let request = Request {
        principal_arn: &principal,
        user: &user,
        account_id: &account_id,
        source_ip,
        requested_duration,
        workload: workload.as_ref().map(|w| policy::Workload {
            issuer: &w.issuer,
            subject: &w.subject,
            claims: &w.claims,
        }),
    };
    let mode = if args.break_glass {
        policy::Mode::BreakGlass
    } else {
        policy::Mode::Vend
    };
    let explanation = policy::explain_in(&set, &request, at, mode);
    print!("{}", report(&set, &request, at, &explanation));
    match explanation.decision {
        Decision::Allow { .. } | Decision::BreakGlass { .. } => Ok(()),
        Decision::Deny { rule, reason } => Err(denied(rule, reason)),
        Decision::RequireApproval { rule, .. } => {
            let profile = args
                .file
                .file_stem()
                .map_or_else(|| "<profile>".into(), |s| s.to_string_lossy());
            Err(Failure::new(
                ExitKind::Denied,
                format!("rule `{rule}` requires an approved request first"),
            )
            .with_hint(format!(
                "ask with `sentinel request --profile {profile} --reason \"<why>\" --wait`; an approver above answers"
            )))
        }
    }
}

/// A workload of `--issuer`, `--subject` and `--claim`, as the TVM would see its token.
struct TestWorkload {
    issuer: String,
    subject: String,
    user: String,
    claims: std::collections::BTreeMap<String, Vec<String>>,
}

fn workload_of(args: &TestArgs) -> Result<Option<TestWorkload>, Failure> {
    let (Some(issuer), Some(subject)) = (&args.issuer, &args.subject) else {
        if !args.claim.is_empty() {
            return Err(Failure::invalid(
                "`--claim` describes a workload: give `--issuer` and `--subject` too",
            ));
        }
        return Ok(None);
    };
    let mut claims: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    claims.insert("iss".into(), vec![issuer.clone()]);
    claims.insert("sub".into(), vec![subject.clone()]);
    for raw in &args.claim {
        let Some((name, value)) = raw.split_once('=').filter(|(n, _)| !n.is_empty()) else {
            return Err(Failure::invalid(format!(
                "`--claim` value `{raw}` is not NAME=VALUE"
            )));
        };
        claims
            .entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    if url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::len))
        .is_none()
    {
        return Err(Failure::invalid(format!(
            "`--issuer` value `{issuer}` is not a URL"
        )));
    }
    // As the TVM names workloads (a SPIFFE ID is its own user).
    let user = sentinel_types::workload_user(issuer, subject, subject.starts_with("spiffe://"));
    Ok(Some(TestWorkload {
        issuer: issuer.clone(),
        subject: subject.clone(),
        user,
        claims,
    }))
}

fn denied(rule: Option<&str>, reason: Option<&str>) -> Failure {
    let message = match (rule, reason) {
        (None, _) => "denied: no rule matched".to_owned(),
        (Some(rule), None) => format!("denied by rule `{rule}`"),
        (Some(rule), Some(reason)) => format!("denied by rule `{rule}`: {reason}"),
    };
    Failure::new(ExitKind::Denied, message)
}

/// ` (line N)` of the rule `name` among `rules` (name, line), or nothing.
fn rule_line<'a>(rules: impl IntoIterator<Item = (&'a str, Option<usize>)>, name: &str) -> String {
    rules
        .into_iter()
        .find(|(rule, _)| *rule == name)
        .and_then(|(_, line)| line)
        .map(|line| format!(" (line {line})"))
        .unwrap_or_default()
}

/// What `policy test` prints on stdout.
fn report(
    set: &PolicySet,
    request: &Request<'_>,
    at: DateTime<Utc>,
    explanation: &Explanation<'_>,
) -> String {
    let line_of = |name: &str| rule_line(set.rules().iter().map(|r| (r.name(), r.line())), name);
    let mut out = String::new();
    let _ = match explanation.decision {
        Decision::Allow { rule, .. } => {
            writeln!(out, "decision: allow by rule `{rule}`{}", line_of(rule))
        }
        Decision::Deny {
            rule: Some(rule), ..
        } => {
            writeln!(out, "decision: deny by rule `{rule}`{}", line_of(rule))
        }
        Decision::Deny { rule: None, .. } => writeln!(out, "decision: deny (no rule matched)"),
        Decision::RequireApproval { rule, .. } => writeln!(
            out,
            "decision: require_approval by rule `{rule}`{}",
            line_of(rule)
        ),
        Decision::BreakGlass { rule, .. } => {
            writeln!(
                out,
                "decision: break_glass by rule `{rule}`{}",
                line_of(rule)
            )
        }
    };
    let reason = match explanation.decision {
        Decision::Allow { reason, .. }
        | Decision::Deny { reason, .. }
        | Decision::RequireApproval { reason, .. }
        | Decision::BreakGlass { reason, .. } => reason,
    };
    if let Some(reason) = reason {
        let _ = writeln!(out, "reason: {reason}");
    }
    gate_lines(&mut out, &explanation.decision);
    if let Decision::Allow { duration, cap, .. }
    | Decision::RequireApproval { duration, cap, .. }
    | Decision::BreakGlass { duration, cap, .. } = explanation.decision
    {
        let asked = match request.requested_duration {
            Some(secs) => format!("requested {secs}"),
            None => format!("default {}", set.profile().default_duration),
        };
        let _ = writeln!(out, "duration: {duration} seconds ({asked}, cap {cap})");
    }
    let _ = writeln!(out, "role: {}", set.profile().role_arn);
    caller_and_skipped(&mut out, request, at, &explanation.skipped, line_of);
    out
}

/// Who may approve (and how many), what a reason must be, and the cooldown: what a
/// `require_approval` or `break_glass` decision needs before credentials.
fn gate_lines(out: &mut String, decision: &Decision<'_>) {
    let reason_rule = match decision {
        Decision::RequireApproval { approval, .. } => {
            let _ = writeln!(
                out,
                "approval: {} from each group below, never the requester; a request lives {}s",
                approval.required(),
                approval.request_ttl()
            );
            for (index, group) in approval.describe_groups().iter().enumerate() {
                let _ = writeln!(out, "  approvers {}: {group}", index + 1);
            }
            approval.reason_rule()
        }
        Decision::BreakGlass { break_glass, .. } => {
            let _ = match break_glass.cooldown() {
                Some(secs) => writeln!(out, "break-glass: cooldown {secs}s per user"),
                None => writeln!(out, "break-glass: no cooldown"),
            };
            break_glass.reason_rule()
        }
        Decision::Allow { .. } | Decision::Deny { .. } => return,
    };
    let rule = reason_rule.describe();
    if !rule.is_empty() {
        let _ = writeln!(out, "reason must be: {rule}");
    }
}

/// The caller, the instant and the rules passed over, as both reports end.
fn caller_and_skipped(
    out: &mut String,
    request: &Request<'_>,
    at: DateTime<Utc>,
    skipped: &[Skipped<'_>],
    line_of: impl Fn(&str) -> String,
) {
    let _ = match &request.workload {
        Some(w) => writeln!(
            out,
            "caller: workload `{}` of issuer {} (user `{}`)",
            w.subject, w.issuer, request.user
        ),
        None => writeln!(
            out,
            "caller: {} (user `{}`, account {})",
            request.principal_arn, request.user, request.account_id
        ),
    };
    if let Some(ip) = request.source_ip {
        let _ = writeln!(out, "source ip: {ip}");
    }
    let _ = writeln!(out, "at: {}", at.to_rfc3339_opts(SecondsFormat::Secs, true));
    if !skipped.is_empty() {
        let _ = writeln!(out, "rules that did not match:");
        for skipped in skipped {
            let _ = writeln!(
                out,
                "  {} `{}`{}: {}",
                skipped.effect,
                skipped.rule,
                line_of(skipped.rule),
                skipped.mismatches.join("; ")
            );
        }
    }
}

/// What `policy test` prints on stdout for the admin policy.
fn admin_report(
    set: &AdminPolicySet,
    request: &AdminRequest<'_>,
    at: DateTime<Utc>,
    explanation: &policy::AdminExplanation<'_>,
) -> String {
    let line_of = |name: &str| rule_line(set.rules().iter().map(|r| (r.name(), r.line())), name);
    let mut out = String::new();
    let (verdict, rule, reason) = match explanation.decision {
        AdminDecision::Allow { rule, reason } => ("allow", Some(rule), reason),
        AdminDecision::Deny { rule, reason } => ("deny", rule, reason),
    };
    let _ = match rule {
        Some(rule) => writeln!(out, "decision: {verdict} by rule `{rule}`{}", line_of(rule)),
        None => writeln!(out, "decision: {verdict} (no rule matched)"),
    };
    if let Some(reason) = reason {
        let _ = writeln!(out, "reason: {reason}");
    }
    let _ = match request.profile {
        Some(profile) => writeln!(out, "action: {} on profile `{profile}`", request.action),
        None => writeln!(out, "action: {} (no single profile)", request.action),
    };
    let caller = Request {
        principal_arn: request.principal_arn,
        user: request.user,
        account_id: request.account_id,
        source_ip: request.source_ip,
        requested_duration: None,
        workload: None,
    };
    caller_and_skipped(&mut out, &caller, at, &explanation.skipped, line_of);
    out
}
