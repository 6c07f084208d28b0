//! Runs every case in `tests/cases/*.yaml` (format: `tests/cases/README.md`).
//! Adding a case needs no Rust.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use policy::identity::{Caller, IdentityRoles, derive_user};
use policy::{
    AdminDecision, AdminRequest, Decision, Lint, PolicyError, Request, Skipped, Workload,
};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    /// `admin` for the admin policy; a profile's policy otherwise.
    #[serde(default)]
    document: Document,
    policy: String,
    #[serde(default)]
    request: Option<CaseRequest>,
    expect: Expect,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Document {
    #[default]
    Profile,
    Admin,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRequest {
    /// An IAM caller's ARN; absent for a workload.
    #[serde(default)]
    principal: Option<String>,
    /// A workload's verified token; absent for an IAM caller.
    #[serde(default)]
    workload: Option<CaseWorkload>,
    at: DateTime<Utc>,
    #[serde(default)]
    source_ip: Option<IpAddr>,
    #[serde(default)]
    duration: Option<u32>,
    #[serde(default)]
    identity_roles: Option<Vec<String>>,
    /// Admin cases: the action asked for.
    #[serde(default)]
    action: Option<String>,
    /// Admin cases: the profile the action is about.
    #[serde(default)]
    profile: Option<String>,
}

/// A workload: its token's issuer, subject and claims, and its user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseWorkload {
    issuer: String,
    subject: String,
    /// The user the TVM derived from the token; the subject when absent.
    #[serde(default)]
    user: Option<String>,
    /// Claim name -> values as strings, as the TVM passes them.
    #[serde(default)]
    claims: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    decision: Option<String>,
    /// `Some(None)` is `rule: null`: no rule matched.
    #[serde(default, deserialize_with = "present")]
    rule: Option<Option<String>>,
    reason: Option<String>,
    duration: Option<u32>,
    cap: Option<u32>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    mismatches: Vec<String>,
    error: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    hint: Option<String>,
    identity_error: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("cases")
}

/// Checks one case; `Err` lists everything that did not hold.
fn run(case: &Case) -> Result<(), String> {
    let mut problems: Vec<String> = Vec::new();
    let expect = &case.expect;
    if case.document == Document::Admin {
        return run_admin(case);
    }
    let parsed = policy::parse(&case.policy);

    if let Some(wanted) = &expect.error {
        return check_error(expect, parsed.map(drop), wanted);
    }

    let set = parsed.map_err(|e| format!("policy does not parse: {e}"))?;
    check_lints(expect, set.lints(), &mut problems);

    let request = case
        .request
        .as_ref()
        .ok_or("a decision case needs a request")?;
    if request.action.is_some() || request.profile.is_some() {
        return Err("`action` and `profile` belong to admin cases (`document: admin`)".into());
    }
    let caller;
    let req = match (&request.principal, &request.workload) {
        (Some(principal), None) => {
            caller = match self::caller(principal, request, expect)? {
                Some(caller) => caller,
                None => return Ok(()),
            };
            Request {
                principal_arn: principal,
                user: &caller.user,
                account_id: &caller.account_id,
                source_ip: request.source_ip,
                requested_duration: request.duration,
                workload: None,
            }
        }
        (None, Some(token)) if request.identity_roles.is_none() => Request {
            principal_arn: "",
            user: token.user.as_deref().unwrap_or(&token.subject),
            account_id: "",
            source_ip: request.source_ip,
            requested_duration: request.duration,
            workload: Some(Workload {
                issuer: &token.issuer,
                subject: &token.subject,
                claims: &token.claims,
            }),
        },
        _ => {
            return Err(
                "a request has either `principal` (and optionally `identity_roles`) or `workload`"
                    .into(),
            );
        }
    };
    let decision = policy::evaluate(&set, &req, request.at);
    let explanation = policy::explain(&set, &req, request.at);
    if explanation.decision != decision {
        problems.push(format!(
            "explain decided {:?} but evaluate {decision:?}",
            explanation.decision
        ));
    }

    let (effect, rule, reason) = match decision {
        Decision::Allow { rule, reason, .. } => ("allow", Some(rule), reason),
        Decision::Deny { rule, reason } => ("deny", rule, reason),
        Decision::RequireApproval { rule, reason, .. } => ("require_approval", Some(rule), reason),
        Decision::BreakGlass { rule, reason, .. } => ("break_glass", Some(rule), reason),
    };
    check_decision(expect, effect, rule, reason, &mut problems)?;
    let granted = match decision {
        Decision::Allow { duration, cap, .. }
        | Decision::RequireApproval { duration, cap, .. }
        | Decision::BreakGlass { duration, cap, .. } => Some((duration, cap)),
        Decision::Deny { .. } => None,
    };
    if let Some((duration, cap)) = granted {
        if expect.duration.is_some_and(|d| d != duration) {
            problems.push(format!(
                "duration {duration}, expected {:?}",
                expect.duration
            ));
        }
        if expect.cap.is_some_and(|c| c != cap) {
            problems.push(format!("cap {cap}, expected {:?}", expect.cap));
        }
    } else if expect.duration.is_some() || expect.cap.is_some() {
        problems.push("duration expected, but the request was denied".to_owned());
    }
    check_mismatches(expect, &explanation.skipped, &mut problems);
    verdict(problems)
}

/// An admin case: `parse_admin`, `evaluate_admin` and `explain_admin`.
fn run_admin(case: &Case) -> Result<(), String> {
    let mut problems: Vec<String> = Vec::new();
    let expect = &case.expect;
    let parsed = policy::parse_admin(&case.policy);
    if let Some(wanted) = &expect.error {
        return check_error(expect, parsed.map(drop), wanted);
    }
    let set = parsed.map_err(|e| format!("admin policy does not parse: {e}"))?;
    check_lints(expect, set.lints(), &mut problems);
    let request = case
        .request
        .as_ref()
        .ok_or("a decision case needs a request")?;
    if request.duration.is_some() || expect.duration.is_some() || expect.cap.is_some() {
        return Err("admin cases have no durations".into());
    }
    let action = request
        .action
        .as_deref()
        .ok_or("an admin case's request needs an `action`")?;
    let principal = match (&request.principal, &request.workload) {
        (Some(principal), None) => principal,
        _ => {
            return Err(
                "an admin case's request needs a `principal` (admin callers are IAM callers)"
                    .into(),
            );
        }
    };
    let caller = match caller(principal, request, expect)? {
        Some(caller) => caller,
        None => return Ok(()),
    };
    let req = AdminRequest {
        principal_arn: principal,
        user: &caller.user,
        account_id: &caller.account_id,
        source_ip: request.source_ip,
        action,
        profile: request.profile.as_deref(),
    };
    let decision = policy::evaluate_admin(&set, &req, request.at);
    let explanation = policy::explain_admin(&set, &req, request.at);
    if explanation.decision != decision {
        problems.push(format!(
            "explain decided {:?} but evaluate {decision:?}",
            explanation.decision
        ));
    }
    let (effect, rule, reason) = match decision {
        AdminDecision::Allow { rule, reason } => ("allow", Some(rule), reason),
        AdminDecision::Deny { rule, reason } => ("deny", rule, reason),
    };
    check_decision(expect, effect, rule, reason, &mut problems)?;
    check_mismatches(expect, &explanation.skipped, &mut problems);
    verdict(problems)
}

/// The caller derived from the request's principal; `None` when the case
/// expected exactly the identity error it got.
fn caller(
    principal: &str,
    request: &CaseRequest,
    expect: &Expect,
) -> Result<Option<Caller>, String> {
    let roles = match &request.identity_roles {
        Some(globs) => IdentityRoles::new(globs).map_err(|e| e.to_string())?,
        None => IdentityRoles::default(),
    };
    let caller = match derive_user(principal, &roles) {
        Ok(caller) => caller,
        Err(e) => {
            return match &expect.identity_error {
                Some(wanted) if e.to_string().contains(wanted.as_str()) => Ok(None),
                _ => Err(format!("identity error: {e}")),
            };
        }
    };
    if let Some(wanted) = &expect.identity_error {
        return Err(format!(
            "expected identity error `{wanted}`, got user `{}`",
            caller.user
        ));
    }
    Ok(Some(caller))
}

/// An error case: the document must be refused with the expected error.
fn check_error(
    expect: &Expect,
    parsed: Result<(), PolicyError>,
    wanted: &str,
) -> Result<(), String> {
    let Err(error) = parsed else {
        return Err(format!(
            "expected error containing `{wanted}`, but the policy parsed"
        ));
    };
    let mut problems = Vec::new();
    if !error.to_string().contains(wanted) {
        problems.push(format!("error `{error}` does not contain `{wanted}`"));
    }
    if expect.line.is_some() && error.line() != expect.line {
        problems.push(format!(
            "error line {:?}, expected {:?} ({error})",
            error.line(),
            expect.line
        ));
    }
    if expect.column.is_some() && error.column() != expect.column {
        problems.push(format!(
            "error column {:?}, expected {:?}",
            error.column(),
            expect.column
        ));
    }
    if let Some(Some(rule)) = &expect.rule
        && error.rule() != Some(rule.as_str())
    {
        problems.push(format!("error rule {:?}, expected `{rule}`", error.rule()));
    }
    if let Some(hint) = &expect.hint
        && error.hint() != Some(hint.as_str())
    {
        problems.push(format!("hint {:?}, expected `{hint}`", error.hint()));
    }
    verdict(problems)
}

fn check_lints(expect: &Expect, lints: &[Lint], problems: &mut Vec<String>) {
    let lints: Vec<String> = lints.iter().map(ToString::to_string).collect();
    if expect.warnings.is_empty() && !lints.is_empty() {
        problems.push(format!("unexpected warnings: {lints:?}"));
    }
    for wanted in &expect.warnings {
        if !lints.iter().any(|l| l.contains(wanted.as_str())) {
            problems.push(format!("no warning contains `{wanted}`: {lints:?}"));
        }
    }
}

fn check_decision(
    expect: &Expect,
    effect: &str,
    rule: Option<&str>,
    reason: Option<&str>,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    match expect.decision.as_deref() {
        Some(wanted) if wanted == effect => {}
        Some(wanted) => problems.push(format!("decision {effect}, expected {wanted}")),
        None => return Err("expect needs `decision`, `error` or `identity_error`".into()),
    }
    match &expect.rule {
        None => problems
            .push("a decision case must name the deciding rule (`rule: null` for none)".to_owned()),
        Some(wanted) if wanted.as_deref() == rule => {}
        Some(wanted) => problems.push(format!("deciding rule {rule:?}, expected {wanted:?}")),
    }
    if expect.reason.is_some() && expect.reason.as_deref() != reason {
        problems.push(format!("reason {reason:?}, expected {:?}", expect.reason));
    }
    Ok(())
}

fn check_mismatches(expect: &Expect, skipped: &[Skipped<'_>], problems: &mut Vec<String>) {
    let said: Vec<&String> = skipped.iter().flat_map(|s| &s.mismatches).collect();
    for wanted in &expect.mismatches {
        if !said.iter().any(|m| m.contains(wanted.as_str())) {
            problems.push(format!("no mismatch contains `{wanted}`: {said:?}"));
        }
    }
}

fn verdict(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn corpus() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus shrank to {} cases",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        let text = std::fs::read_to_string(file).unwrap();
        let outcome = yaml_serde::from_str::<Case>(&text)
            .map_err(|e| format!("case file does not parse: {e}"))
            .and_then(|case| {
                assert!(
                    !case.description.trim().is_empty(),
                    "{name}: empty description"
                );
                run(&case)
            });
        if let Err(why) = outcome {
            failures.push(format!("--- {name}\n{why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_case_that_expects_the_wrong_decision_fails() {
    // The harness itself must be able to fail.
    let case: Case = yaml_serde::from_str(
        "description: x\npolicy: |\n  version: \"1\"\n  profile:\n    role_arn: arn:aws:iam::123456789012:role/R\n  rules: []\nrequest:\n  principal: arn:aws:iam::123456789012:user/a\n  at: 2026-03-02T10:00:00Z\nexpect:\n  decision: allow\n  rule: null\n",
    )
    .unwrap();
    let why = run(&case).unwrap_err();
    assert!(why.contains("decision deny, expected allow"), "{why}");
}
