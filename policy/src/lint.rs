//! Warnings about valid documents that probably do not say what their author
//! meant. A lint never changes a decision.

use std::fmt;

use crate::approval::Mode;
use crate::condition::Callers;
use crate::set::{Effect, Rule};

/// What a [`Lint`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LintKind {
    /// An earlier rule matches every request this rule matches, so it never decides.
    Shadowed,
    /// An allow rule after a deny rule that matches every request.
    AllowAfterCatchAllDeny,
    /// `rules: []`: the policy denies every request.
    NoRules,
    /// An admin rule's `actions` glob that matches no admin action.
    UnknownAction,
    /// A `require_approval` rule's approver group that can never give its `required`
    /// approvals (too few named users, or only the requester).
    ApproversNeverMatch,
    /// A `break_glass` rule without a `cooldown`: one user can open it again and again.
    NoCooldown,
}

/// A warning, with the rule and its place in the document when known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lint {
    /// Which kind of warning.
    pub kind: LintKind,
    /// The rule the warning is about.
    pub rule: Option<String>,
    /// What is wrong, without location or rule.
    pub message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl Lint {
    /// The 1-based line the warning points at, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column the warning points at, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The message with the rule, without the location.
    pub fn detail(&self) -> String {
        match &self.rule {
            Some(rule) => format!("rule `{rule}`: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            _ => {}
        }
        f.write_str(&self.detail())
    }
}

/// A rule as the order lints see it: a profile's [`Rule`], an admin or a proxy rule.
pub(crate) trait Ordered {
    fn rule(&self) -> &Rule;
    /// Whether `self` provably matches every request `other` matches.
    fn covers(&self, other: &Self) -> bool;
    fn is_catch_all(&self) -> bool;
}

impl Ordered for Rule {
    fn rule(&self) -> &Rule {
        self
    }

    fn covers(&self, other: &Self) -> bool {
        // Every evaluation that looks at `other` must look at `self` (a vend never
        // sees break_glass rules, a break-glass call sees only deny and break_glass
        // rules), and for each kind of caller `other` can match, `self` must match it too.
        [Mode::Vend, Mode::BreakGlass]
            .into_iter()
            .all(|mode| !other.effect.seen_in(mode) || self.effect.seen_in(mode))
            && [Callers::Iam, Callers::Workloads]
                .into_iter()
                .all(|callers| {
                    !other.can_match(callers)
                        || (self.can_match(callers)
                            && self.conditions.covers(&other.conditions, callers))
                })
    }

    fn is_catch_all(&self) -> bool {
        Rule::is_catch_all(self)
    }
}

impl Lint {
    /// A warning about `rule`, at the rule.
    pub(crate) fn on_rule(kind: LintKind, rule: &Rule, message: String) -> Self {
        Lint {
            kind,
            rule: Some(rule.name.clone()),
            message,
            line: rule.line,
            column: rule.column,
        }
    }
}

/// The lints of `require_approval` and `break_glass` rules.
pub(crate) fn gates(rules: &[Rule]) -> Vec<Lint> {
    let mut lints = Vec::new();
    for rule in rules {
        if rule.effect == Effect::BreakGlass
            && rule
                .break_glass
                .as_ref()
                .is_none_or(|b| b.cooldown.is_none())
        {
            lints.push(Lint::on_rule(
                LintKind::NoCooldown,
                rule,
                "break_glass without a cooldown: one user can open it again at once; add `break_glass: {cooldown: 4h}`".to_owned(),
            ));
        }
        let Some(approval) = &rule.approval else {
            continue;
        };
        // The requesters the rule names, when it names them all literally.
        let requesters: Option<Vec<&str>> = rule
            .conditions
            .users
            .as_ref()
            .and_then(|globs| globs.iter().map(|g| g.literal()).collect());
        for (index, group) in approval.approvers.iter().enumerate() {
            if group
                .principals
                .as_ref()
                .is_some_and(|globs| globs.iter().all(|g| names_a_role(g.source())))
            {
                lints.push(Lint::on_rule(
                    LintKind::ApproversNeverMatch,
                    rule,
                    format!(
                        "approver group {}'s principals are role ARNs, which no caller signs as: roles sign as `arn:aws:sts::<account>:assumed-role/<role>/<session>`",
                        index + 1
                    ),
                ));
                continue;
            }
            if let Some(roles) = group.principals.as_deref().and_then(shared_roles) {
                let count = u32::try_from(roles.len()).unwrap_or(u32::MAX);
                if count < approval.required {
                    lints.push(Lint::on_rule(
                        LintKind::ApproversNeverMatch,
                        rule,
                        format!(
                            "approver group {} admits only sessions of role(s) {}, whose session names the caller picks: every session of one such role is one approver (docs/approvals.md), so it gives at most {count} of the {} approvals needed; name people (IAM users, Identity Center sessions) or list the roles in SENTINEL_IDENTITY_ROLES if an identity provider sets their session names",
                            index + 1,
                            roles.join(", "),
                            approval.required
                        ),
                    ));
                    continue;
                }
            }
            let only_users = group.principals.is_none() && group.accounts.is_none();
            let named: Option<Vec<&str>> = group
                .users
                .as_ref()
                .filter(|_| only_users)
                .and_then(|globs| globs.iter().map(|g| g.literal()).collect());
            let Some(mut named) = named else { continue };
            named.sort_unstable();
            named.dedup();
            let count = u32::try_from(named.len()).unwrap_or(u32::MAX);
            let message = if count < approval.required {
                format!(
                    "approver group {} names {count} user(s) but needs {} approvals: it can never approve",
                    index + 1,
                    approval.required
                )
            } else if requesters
                .as_deref()
                .is_some_and(|r| count <= 1 && r == named.as_slice())
            {
                format!(
                    "approver group {}'s only approver is the rule's only requester, who can never approve their own request",
                    index + 1
                )
            } else {
                continue;
            };
            lints.push(Lint::on_rule(LintKind::ApproversNeverMatch, rule, message));
        }
    }
    lints
}

/// The distinct roles an approver group's `principals` admit, when each glob admits
/// only sessions of one literally named role that IAM Identity Center does not manage
/// (`arn:<p>:sts::<a>:assumed-role/<role>/<anything>`, `<role>` without `*` or `?` and
/// not `AWSReservedSSO_*`, the default `SENTINEL_IDENTITY_ROLES`). `None` when any glob
/// admits something else.
fn shared_roles(globs: &[crate::glob::Glob]) -> Option<Vec<&str>> {
    let mut roles: Vec<&str> = globs
        .iter()
        .map(|glob| {
            let fields: Vec<&str> = glob.source().splitn(6, ':').collect();
            let ["arn", _, "sts", "", _, resource] = fields.as_slice() else {
                return None;
            };
            let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
            let literal = !role.is_empty() && !role.contains(['*', '?']);
            (literal
                && !role.starts_with("AWSReservedSSO_")
                && resource.len() > "assumed-role/".len() + role.len())
            .then_some(role)
        })
        .collect::<Option<_>>()?;
    roles.sort_unstable();
    roles.dedup();
    Some(roles)
}

/// Whether a principal glob is an IAM role ARN (`arn:<p>:iam::<a>:role/...`), never
/// a caller's ARN.
fn names_a_role(glob: &str) -> bool {
    let mut parts = glob.splitn(6, ':');
    let fields: Vec<&str> = parts.by_ref().collect();
    matches!(fields.as_slice(), ["arn", partition, "iam", "", _, resource]
        if !partition.contains('*') && resource.starts_with("role/"))
}

/// The order lints of a rule list; `rules_at` is where the `rules` key is.
pub(crate) fn check<R: Ordered>(rules: &[R], rules_at: Option<(usize, usize)>) -> Vec<Lint> {
    if rules.is_empty() {
        return vec![Lint {
            kind: LintKind::NoRules,
            rule: None,
            message: "the policy has no rules, so it denies every request".to_owned(),
            line: rules_at.map(|(l, _)| l),
            column: rules_at.map(|(_, c)| c),
        }];
    }
    let mut lints = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let earlier = rules.iter().take(index);
        let Some(first) = earlier.clone().find(|e| e.covers(rule)) else {
            continue;
        };
        let place = |r: &Rule| match r.line {
            Some(line) => format!("rule `{}` (line {line})", r.name),
            None => format!("rule `{}`", r.name),
        };
        let catch_all_deny = earlier
            .clone()
            .find(|e| e.rule().effect == Effect::Deny && e.is_catch_all());
        let (kind, message) = match (rule.rule().effect, catch_all_deny) {
            (Effect::Allow, Some(deny)) => (
                LintKind::AllowAfterCatchAllDeny,
                format!(
                    "this allow can never match: the catch-all deny {} comes first",
                    place(deny.rule())
                ),
            ),
            _ => (
                LintKind::Shadowed,
                format!(
                    "can never match: {} comes first and matches every request this rule matches",
                    place(first.rule())
                ),
            ),
        };
        lints.push(Lint::on_rule(kind, rule.rule(), message));
    }
    lints
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    const HEAD: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules:\n";

    /// The rules `(name, effect, conditions as flow YAML or "")`, and their lints
    /// as (kind, rule).
    fn lints(rules: &[(&str, &str, &str)]) -> Vec<(LintKind, String)> {
        let mut yaml = HEAD.to_owned();
        for (name, effect, conditions) in rules {
            yaml.push_str(&format!("  - name: {name}\n    effect: {effect}\n"));
            if !conditions.is_empty() {
                yaml.push_str(&format!("    conditions: {conditions}\n"));
            }
        }
        let set = parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        set.lints()
            .iter()
            .map(|l| (l.kind, l.rule.clone().unwrap_or_default()))
            .collect()
    }

    fn shadowed(rule: &str) -> (LintKind, String) {
        (LintKind::Shadowed, rule.to_owned())
    }

    const GITHUB: &str = "{issuers: [\"https://token.actions.githubusercontent.com\"]}";

    #[test]
    fn iam_allows_do_not_shadow_workload_rules_nor_the_reverse() {
        assert_eq!(
            lints(&[
                ("everyone", "allow", ""),
                ("all-users", "allow", "{users: [\"*\"]}"),
                ("ci", "allow", GITHUB),
            ]),
            [shadowed("all-users")],
            "an allow without workload conditions never matches a workload"
        );
        assert_eq!(
            lints(&[
                ("ci", "allow", "{issuers: [\"*\"]}"),
                ("everyone", "allow", "")
            ]),
            []
        );
        // The IAM allow does not see workloads, the later deny does.
        assert_eq!(
            lints(&[
                ("all-users", "allow", "{users: [\"*\"]}"),
                ("no-bob", "deny", "{users: [bob]}"),
            ]),
            []
        );
    }

    /// Flow-YAML conditions: GitHub's issuer and `rest` (an allow for workloads names
    /// its issuers).
    fn from_github(rest: &str) -> String {
        format!("{{issuers: [\"https://token.actions.githubusercontent.com\"], {rest}}}")
    }

    #[test]
    fn workload_conditions_cover_like_globs_and_claims_conservatively() {
        assert_eq!(
            lints(&[
                ("any-issuer", "allow", "{issuers: [\"*\"]}"),
                ("ci", "allow", GITHUB),
                (
                    "prod",
                    "allow",
                    "{issuers: [\"https://spire.td\"], subjects: [\"spiffe://td/ns/prod/*\"]}"
                ),
                (
                    "api",
                    "allow",
                    "{issuers: [\"https://spire.td\"], subjects: [\"spiffe://td/ns/prod/api\"], users: [x]}"
                ),
            ]),
            [shadowed("ci"), shadowed("prod"), shadowed("api")]
        );
        let org = from_github("claims: {repository: [\"org/*\"]}");
        let app_main = from_github("claims: {repository: [org/app], ref: [main]}");
        assert_eq!(
            lints(&[("org", "allow", &org), ("app-main", "allow", &app_main)]),
            [shadowed("app-main")],
            "extra claims only narrow a rule"
        );
        assert_eq!(
            lints(&[
                ("app-main", "allow", &app_main),
                ("org", "allow", &org),
                (
                    "repo-claim",
                    "allow",
                    &from_github("claims: {repository: [\"*\"]}")
                ),
                (
                    "other-claim",
                    "allow",
                    &from_github("claims: {environment: [\"*\"]}")
                ),
                ("any-subject", "allow", &from_github("subjects: [\"*\"]")),
                (
                    "late-claim",
                    "allow",
                    &from_github("claims: {environment: [prod]}")
                ),
            ]),
            [shadowed("late-claim")],
            "a token may lack a claim, and other claims prove nothing"
        );
        assert_eq!(
            lints(&[
                (
                    "spire-any",
                    "allow",
                    "{issuers: [\"https://spire.td\"], subjects: [\"*\"]}"
                ),
                ("github-any", "allow", &from_github("subjects: [\"*\"]")),
            ]),
            [],
            "the same subjects at another issuer are other workloads"
        );
    }

    #[test]
    fn denies_cover_workloads_unless_they_name_iam_conditions() {
        assert_eq!(
            lints(&[("freeze", "deny", ""), ("ci", "allow", GITHUB)]),
            [(LintKind::AllowAfterCatchAllDeny, "ci".to_owned())]
        );
        assert_eq!(
            lints(&[
                ("weekends", "deny", "{users: [\"*\"]}"),
                ("ci", "allow", GITHUB)
            ]),
            [(LintKind::AllowAfterCatchAllDeny, "ci".to_owned())]
        );
        // `principals` never hold for a workload: no catch-all, and no
        // shadow over a workload rule; an IAM rule is still shadowed.
        assert_eq!(
            lints(&[
                ("humans", "deny", "{principals: [\"*\"]}"),
                ("ci", "allow", GITHUB),
                ("alice", "allow", "{users: [alice]}"),
            ]),
            [shadowed("alice")]
        );
        // A deny with workload conditions never covers IAM callers.
        assert_eq!(
            lints(&[
                ("tokens", "deny", "{issuers: [\"*\"]}"),
                ("subjects", "deny", "{subjects: [\"*\"]}"),
                ("alice", "allow", "{users: [alice]}"),
                ("later", "deny", ""),
            ]),
            [shadowed("subjects")]
        );
    }

    #[test]
    fn catch_alls_know_which_callers_a_rule_applies_to() {
        let set = parse(&format!(
            "{HEAD}  - name: everyone\n    effect: allow\n  - name: any-token\n    effect: allow\n    conditions: {{issuers: [\"*\"]}}\n  - name: all-users\n    effect: deny\n    conditions: {{users: [\"*\"]}}\n  - name: humans\n    effect: deny\n    conditions: {{principals: [\"*\"]}}\n  - name: tokens\n    effect: deny\n    conditions: {{subjects: [\"*\"]}}\n"
        ))
        .unwrap();
        let catch_all: Vec<(&str, bool)> = set
            .rules()
            .iter()
            .map(|r| (r.name(), r.is_catch_all()))
            .collect();
        assert_eq!(
            catch_all,
            [
                ("everyone", true),
                ("any-token", false),
                ("all-users", true),
                ("humans", false),
                ("tokens", false),
            ]
        );
    }
}
