//! The `approval` block of a `require_approval` rule and the `break_glass` block of a
//! `break_glass` rule (docs/approvals.md).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::conditions::ConditionsSection;
use super::fields::{NonEmpty, Present, Seconds, checked_map};
use crate::approval::{Approval, BreakGlass, MAX_REASON_CHARS, Pattern, ReasonRule};
use crate::error::Invalid;

/// Default time to live of an unanswered request.
const DEFAULT_REQUEST_TTL: u32 = 24 * 3600;
/// Bounds of `request_ttl`: five minutes to thirty days.
const REQUEST_TTL: (u32, u32) = (300, 30 * 24 * 3600);
/// Bounds of `cooldown`: one minute to thirty days.
const COOLDOWN: (u32, u32) = (60, 30 * 24 * 3600);
/// Most approvals a group may require.
const MAX_REQUIRED: u32 = 10;
/// Longest reason pattern.
const MAX_PATTERN: usize = 256;

/// `approval:`.
pub(super) struct ApprovalSection(pub(super) Approval);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalFields {
    approvers: NonEmpty<ConditionsSection>,
    #[serde(default)]
    required: Present<u32>,
    #[serde(default)]
    reason: Present<ReasonSection>,
    #[serde(default)]
    max_duration: Present<Seconds>,
    #[serde(default)]
    request_ttl: Present<Span>,
}

impl<'de> Deserialize<'de> for ApprovalSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "approval: a mapping with `approvers` and optional `required`, `reason`, `max_duration`, `request_ttl`",
            |f: ApprovalFields| {
                let approvers: Vec<_> = f.approvers.0.into_iter().map(|c| c.0).collect();
                if approvers.iter().any(|group| group.names_workload()) {
                    return Err(Invalid::new(
                        "approvers sign with AWS credentials: `issuers`, `subjects` and `claims` never match one",
                    )
                    .hint("name approvers with `users`, `principals` or `accounts`"));
                }
                let required = f.required.0.unwrap_or(1);
                if !(1..=MAX_REQUIRED).contains(&required) {
                    return Err(Invalid::new(format!(
                        "required `{required}` must be between 1 and {MAX_REQUIRED}"
                    ))
                    .hint(
                        "`required` is the number of approvals needed from EACH approver group",
                    ));
                }
                let request_ttl = match f.request_ttl.0 {
                    Some(span) => span.within(REQUEST_TTL, "request_ttl")?,
                    None => DEFAULT_REQUEST_TTL,
                };
                Ok(ApprovalSection(Approval {
                    approvers,
                    required,
                    reason: f.reason.0.map(|r| r.0).unwrap_or_default(),
                    max_duration: f.max_duration.0.map(|s| s.0.secs()),
                    request_ttl,
                }))
            },
        )
    }
}

/// `break_glass:`.
pub(super) struct BreakGlassSection(pub(super) BreakGlass);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakGlassFields {
    #[serde(default)]
    cooldown: Present<Span>,
    #[serde(default)]
    reason: Present<ReasonSection>,
}

impl<'de> Deserialize<'de> for BreakGlassSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "break_glass: a mapping with optional `cooldown` and `reason`",
            |f: BreakGlassFields| {
                let cooldown = f
                    .cooldown
                    .0
                    .map(|span| span.within(COOLDOWN, "cooldown"))
                    .transpose()?;
                Ok(BreakGlassSection(BreakGlass {
                    cooldown,
                    reason: f.reason.0.map(|r| r.0).unwrap_or_default(),
                }))
            },
        )
    }
}

/// `reason: {min_length, pattern}`.
struct ReasonSection(ReasonRule);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonFields {
    #[serde(default)]
    min_length: Present<u32>,
    #[serde(default)]
    pattern: Present<String>,
}

impl<'de> Deserialize<'de> for ReasonSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "reason: a mapping with `min_length` and/or `pattern`",
            |f: ReasonFields| {
                if f.min_length.0.is_none() && f.pattern.0.is_none() {
                    return Err(Invalid::new("reason is empty")
                        .hint("give `min_length`, `pattern` or both, or leave `reason` out"));
                }
                let max = u32::try_from(MAX_REASON_CHARS).unwrap_or(u32::MAX);
                let min_length = f.min_length.0.unwrap_or(0);
                if !(1..=max).contains(&min_length) && f.min_length.0.is_some() {
                    return Err(Invalid::new(format!(
                        "min_length `{min_length}` must be between 1 and {max}"
                    )));
                }
                let pattern = f.pattern.0.map(compile).transpose()?;
                Ok(ReasonSection(ReasonRule {
                    min_length,
                    pattern,
                }))
            },
        )
    }
}

/// SECURITY: a pattern that does not compile would otherwise fail at request time;
/// it is an error here, so the policy never loads (fail closed).
fn compile(text: String) -> Result<Pattern, Invalid> {
    if text.is_empty() || text.chars().count() > MAX_PATTERN {
        return Err(Invalid::new(format!(
            "pattern must be 1 to {MAX_PATTERN} characters"
        )));
    }
    match regex_lite::Regex::new(&text) {
        Ok(regex) => Ok(Pattern { text, regex }),
        Err(e) => Err(Invalid::new(format!(
            "pattern `{}` does not compile: {}",
            text.escape_debug(),
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid regular expression")
        ))
        .hint("write a regular expression such as `^[A-Z]+-[0-9]+`")),
    }
}

/// A span outside the credential range: seconds, or text such as `24h`.
struct Span(u64);

impl Span {
    fn within(self, (min, max): (u32, u32), key: &str) -> Result<u32, Invalid> {
        u32::try_from(self.0)
            .ok()
            .filter(|s| (min..=max).contains(s))
            .ok_or_else(|| {
                Invalid::new(format!(
                    "{key} `{}s` is outside {min}..={max} seconds",
                    self.0
                ))
            })
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 3600, 30m, 4h or 24h")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Span, E> {
                Ok(Span(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Span, E> {
                Ok(Span(u64::try_from(v).unwrap_or(0)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Span, E> {
                sentinel_types::parse_span(v)
                    .map(Span)
                    .map_err(|e| E::custom(Invalid::from(e)))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use crate::{Decision, LintKind, Mode, PolicySet, Request, evaluate, evaluate_in, parse};

    const HEAD: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-prod\n  max_duration: 2h\nrules:\n";
    const GATED: &str = "  - name: freeze\n    effect: deny\n    conditions: {users: [frozen]}\n  - name: prod-changes\n    effect: require_approval\n    conditions: {users: [\"eng-*\"]}\n    approval:\n      approvers: [{principals: [\"arn:aws:sts::123456789012:assumed-role/Leads/*\"]}, {users: [alice, bob]}]\n      required: 1\n      reason: {min_length: 10, pattern: \"^[A-Z]+-[0-9]+\"}\n      max_duration: 1h\n      request_ttl: 24h\n  - name: emergency\n    effect: break_glass\n    conditions: {users: [\"oncall-*\", frozen]}\n    max_duration: 30m\n    break_glass: {cooldown: 4h, reason: {min_length: 5}}\n  - name: leads\n    effect: allow\n    conditions: {users: [alice]}\n";

    fn set(rules: &str) -> PolicySet {
        parse(&format!("{HEAD}{rules}")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(rules: &str) -> String {
        parse(&format!("{HEAD}{rules}")).unwrap_err().to_string()
    }

    fn caller(user: &str) -> (String, String) {
        (
            format!("arn:aws:iam::123456789012:user/{user}"),
            user.to_owned(),
        )
    }

    fn request<'a>(arn: &'a str, user: &'a str, duration: Option<u32>) -> Request<'a> {
        Request {
            principal_arn: arn,
            user,
            account_id: "123456789012",
            source_ip: None,
            requested_duration: duration,
            workload: None,
        }
    }

    fn now() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
    }

    #[test]
    fn require_approval_decides_with_its_block_and_caps_with_its_max() {
        let set = set(GATED);
        let (arn, user) = caller("eng-carol");
        let decision = evaluate(&set, &request(&arn, &user, Some(7200)), now());
        let Decision::RequireApproval {
            rule,
            approval,
            duration,
            cap,
            ..
        } = decision
        else {
            panic!("{decision:?}")
        };
        assert_eq!((rule, duration, cap), ("prod-changes", 3600, 3600));
        assert_eq!((approval.required(), approval.groups()), (1, 2));
        assert_eq!(approval.request_ttl(), 86_400);
        assert_eq!(
            approval.describe_groups(),
            [
                "principals: [arn:aws:sts::123456789012:assumed-role/Leads/*]",
                "users: [alice, bob]"
            ]
        );
        let lead_arn = "arn:aws:sts::123456789012:assumed-role/Leads/dave";
        assert_eq!(
            approval.groups_of(&request(lead_arn, "dave", None), now()),
            [0]
        );
        let (bob_arn, bob) = caller("bob");
        assert_eq!(
            approval.groups_of(&request(&bob_arn, &bob, None), now()),
            [1]
        );
        let (eve_arn, eve) = caller("eve");
        assert!(
            approval
                .groups_of(&request(&eve_arn, &eve, None), now())
                .is_empty()
        );
        let reasons = approval.reason_rule();
        assert_eq!(
            reasons.check("  CHG-1234 rotate keys "),
            Ok("CHG-1234 rotate keys")
        );
        assert!(reasons.check("CHG-1").unwrap_err().contains("at least 10"));
        assert!(
            reasons
                .check("rotate keys please")
                .unwrap_err()
                .contains("pattern")
        );
        assert!(reasons.check("CHG-1234 a\nb").is_err());
        assert!(reasons.check("   ").unwrap_err().contains("required"));
    }

    #[test]
    fn break_glass_rules_are_seen_only_by_break_glass_calls_and_denies_still_hold() {
        let set = set(GATED);
        let (arn, user) = caller("oncall-dan");
        let vend = request(&arn, &user, None);
        assert_eq!(
            evaluate(&set, &vend, now()),
            Decision::Deny {
                rule: None,
                reason: None
            }
        );
        let Decision::BreakGlass {
            rule,
            break_glass,
            duration,
            cap,
            ..
        } = evaluate_in(
            &set,
            &request(&arn, &user, Some(3600)),
            now(),
            Mode::BreakGlass,
        )
        else {
            panic!()
        };
        assert_eq!((rule, duration, cap), ("emergency", 1800, 1800));
        assert_eq!(break_glass.cooldown(), Some(4 * 3600));
        // The freeze comes first in break-glass calls too.
        let (frozen_arn, frozen) = caller("frozen");
        assert!(matches!(
            evaluate_in(
                &set,
                &request(&frozen_arn, &frozen, None),
                now(),
                Mode::BreakGlass
            ),
            Decision::Deny {
                rule: Some("freeze"),
                ..
            }
        ));
        // Allow and require_approval rules never decide a break-glass call.
        let (alice_arn, alice) = caller("alice");
        assert!(matches!(
            evaluate_in(
                &set,
                &request(&alice_arn, &alice, None),
                now(),
                Mode::BreakGlass
            ),
            Decision::Deny { rule: None, .. }
        ));
        assert!(evaluate(&set, &request(&alice_arn, &alice, None), now()).is_allow());
        assert!(set.lints().is_empty(), "{:?}", set.lints());
    }

    #[test]
    fn blocks_belong_to_their_effects() {
        for (rules, expected) in [
            (
                "  - name: a\n    effect: require_approval\n",
                "needs an `approval` block",
            ),
            (
                "  - name: a\n    effect: allow\n    approval: {approvers: [{users: [x]}]}\n",
                "belongs to a require_approval rule",
            ),
            (
                "  - name: a\n    effect: deny\n    break_glass: {cooldown: 1h}\n",
                "belongs to a break_glass rule",
            ),
            (
                "  - name: a\n    effect: require_approval\n    max_duration: 1h\n    approval: {approvers: [{users: [x]}]}\n",
                "approval.max_duration",
            ),
            (
                "  - name: a\n    effect: break_glass\n    max_duration: 2h\n",
                "at most 1h",
            ),
            (
                "  - name: a\n    effect: require_approval\n    conditions: {issuers: [\"https://x.example\"]}\n    approval: {approvers: [{users: [x]}]}\n",
                "for IAM callers",
            ),
            (
                "  - name: a\n    effect: require_approval\n    approval: {approvers: [{issuers: [\"https://x.example\"]}]}\n",
                "approvers sign with AWS credentials",
            ),
            (
                "  - name: a\n    effect: require_approval\n    approval: {approvers: []}\n",
                "empty list",
            ),
            (
                "  - name: a\n    effect: require_approval\n    approval: {approvers: [{users: [x]}], required: 0}\n",
                "between 1 and 10",
            ),
            (
                "  - name: a\n    effect: require_approval\n    approval: {approvers: [{users: [x]}], request_ttl: 60d}\n",
                "not a number of seconds",
            ),
            (
                "  - name: a\n    effect: require_approval\n    approval: {approvers: [{users: [x]}], request_ttl: 31000000}\n",
                "request_ttl",
            ),
            (
                "  - name: a\n    effect: require_approval\n    approval: {approvers: [{users: [x]}], reason: {pattern: \"^[A-Z\"}}\n",
                "does not compile",
            ),
            (
                "  - name: a\n    effect: require_approval\n    approval: {approvers: [{users: [x]}], reason: {}}\n",
                "reason is empty",
            ),
            (
                "  - name: a\n    effect: break_glass\n    break_glass: {cooldown: 10s}\n",
                "cooldown",
            ),
            (
                "  - name: a\n    effect: require_approval\n    approval: {approvers: [{users: [x]}], quorum: 2}\n",
                "unknown field `quorum`",
            ),
            (
                "  - name: a\n    effect: breakglass\n",
                "unknown variant `breakglass`",
            ),
        ] {
            let e = error(rules);
            assert!(e.contains(expected), "{rules}: {e}");
            assert!(e.contains("rule `a`") || e.contains("line"), "{e}");
        }
    }

    #[test]
    fn gates_are_linted() {
        let kinds =
            |rules: &str| -> Vec<LintKind> { set(rules).lints().iter().map(|l| l.kind).collect() };
        assert_eq!(
            kinds("  - name: bg\n    effect: break_glass\n    conditions: {users: [a]}\n"),
            [LintKind::NoCooldown]
        );
        assert_eq!(
            kinds(
                "  - name: ra\n    effect: require_approval\n    conditions: {users: [carol]}\n    approval: {approvers: [{users: [carol]}]}\n"
            ),
            [LintKind::ApproversNeverMatch]
        );
        assert_eq!(
            kinds(
                "  - name: ra\n    effect: require_approval\n    approval: {approvers: [{users: [alice]}], required: 2}\n"
            ),
            [LintKind::ApproversNeverMatch]
        );
        assert!(kinds("  - name: ra\n    effect: require_approval\n    approval: {approvers: [{users: [alice, bob]}], required: 2}\n").is_empty());
        // Callers sign as assumed roles: a role ARN names no caller.
        assert_eq!(
            kinds(
                "  - name: ra\n    effect: require_approval\n    approval: {approvers: [{principals: [\"arn:aws:iam::123456789012:role/Leads\"]}]}\n"
            ),
            [LintKind::ApproversNeverMatch]
        );
        // Every session of a role whose session name the caller picks is one approver:
        // one such role cannot give two approvals; two roles, or Identity Center, can.
        assert_eq!(
            kinds(
                "  - name: ra\n    effect: require_approval\n    approval: {approvers: [{principals: [\"arn:aws:sts::123456789012:assumed-role/Leads/*\"]}], required: 2}\n"
            ),
            [LintKind::ApproversNeverMatch]
        );
        for fine in [
            "[\"arn:aws:sts::123456789012:assumed-role/Leads/*\", \"arn:aws:sts::123456789012:assumed-role/Ops/*\"]",
            "[\"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Leads_0123/*\"]",
            "[\"arn:aws:sts::123456789012:assumed-role/Lead*/*\"]",
            "[\"arn:aws:iam::123456789012:user/*\"]",
        ] {
            let rules = format!(
                "  - name: ra\n    effect: require_approval\n    approval: {{approvers: [{{principals: {fine}}}], required: 2}}\n"
            );
            assert!(kinds(&rules).is_empty(), "{fine}");
        }
        // An allow for everyone shadows a later require_approval, not a break_glass rule.
        assert_eq!(
            kinds(
                "  - name: all\n    effect: allow\n  - name: ra\n    effect: require_approval\n    approval: {approvers: [{users: [x, y]}]}\n  - name: bg\n    effect: break_glass\n    break_glass: {cooldown: 1h}\n"
            ),
            [LintKind::Shadowed]
        );
        // A catch-all deny shadows break-glass too.
        assert_eq!(
            kinds(
                "  - name: none\n    effect: deny\n  - name: bg\n    effect: break_glass\n    break_glass: {cooldown: 1h}\n"
            ),
            [LintKind::Shadowed]
        );
    }
}
