//! `rules`: each rule's name, effect, conditions, cap and reason.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::approval::{ApprovalSection, BreakGlassSection};
use super::conditions::ConditionsSection;
use super::fields::{FromText, Present, Seconds, Text, checked_map};
use crate::approval::{Approval, BreakGlass};
use crate::condition::Conditions;
use crate::error::Invalid;
use crate::set::Effect;

/// `rules`: a list of rules with unique names. `R` is the rule of one kind of
/// document ([`RawRule`] for a profile's policy), read by [`RuleSeed`].
pub(super) struct RuleList<R>(pub(super) Vec<R>);

/// What the list needs of a rule to keep names unique.
pub(super) trait Named {
    fn name(&self) -> &str;
}

impl<'de, R> Deserialize<'de> for RuleList<R>
where
    R: Named,
    for<'a> RuleSeed<'a, R>: DeserializeSeed<'de, Value = R>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<R>(PhantomData<R>);
        impl<'de, R> Visitor<'de> for V<R>
        where
            R: Named,
            for<'a> RuleSeed<'a, R>: DeserializeSeed<'de, Value = R>,
        {
            type Value = RuleList<R>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of rules")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RuleList<R>, A::Error> {
                let mut rules: Vec<R> = Vec::new();
                while let Some(rule) = seq.next_element_seed(RuleSeed { earlier: &rules })? {
                    rules.push(rule);
                }
                Ok(RuleList(rules))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// One rule, checked (including against the rules before it) while its
/// mapping is current, so errors point at the rule.
pub(super) struct RuleSeed<'a, R> {
    pub(super) earlier: &'a [R],
}

/// Refuses `name` when an earlier rule has it.
pub(super) fn unique<R: Named>(name: &str, earlier: &[R]) -> Result<(), Invalid> {
    if earlier.iter().any(|r| r.name() == name) {
        return Err(Invalid::new(format!("duplicate rule name `{name}`"))
            .hint("rule names must be unique in a policy"));
    }
    Ok(())
}

pub(super) struct RawRule {
    pub(super) name: String,
    pub(super) effect: Effect,
    pub(super) conditions: Conditions,
    pub(super) max_duration: Option<u32>,
    pub(super) reason: Option<String>,
    pub(super) approval: Option<Approval>,
    pub(super) break_glass: Option<BreakGlass>,
}

impl Named for RawRule {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFields {
    name: Text<RuleName>,
    effect: ProfileEffectField,
    #[serde(default)]
    conditions: Present<ConditionsSection>,
    #[serde(default)]
    max_duration: Present<Seconds>,
    #[serde(default)]
    reason: Present<Text<Reason>>,
    #[serde(default)]
    approval: Present<ApprovalSection>,
    #[serde(default)]
    break_glass: Present<BreakGlassSection>,
}

/// A profile rule's effect: `allow`, `deny`, `require_approval` or `break_glass`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ProfileEffectField {
    Allow,
    Deny,
    RequireApproval,
    BreakGlass,
}

impl From<ProfileEffectField> for Effect {
    fn from(field: ProfileEffectField) -> Self {
        match field {
            ProfileEffectField::Allow => Effect::Allow,
            ProfileEffectField::Deny => Effect::Deny,
            ProfileEffectField::RequireApproval => Effect::RequireApproval,
            ProfileEffectField::BreakGlass => Effect::BreakGlass,
        }
    }
}

/// The checks that tie a rule's blocks to its effect.
fn gate(
    effect: Effect,
    max_duration: Option<u32>,
    conditions: &Conditions,
    approval: Option<Approval>,
    break_glass: Option<BreakGlass>,
) -> Result<(Option<Approval>, Option<BreakGlass>), Invalid> {
    let gated = matches!(effect, Effect::RequireApproval | Effect::BreakGlass);
    // SECURITY: a workload cannot ask for approval nor sign a break-glass call (both
    // need a SigV4 caller); such a rule could never be used as written.
    if gated && conditions.names_workload() {
        return Err(Invalid::new(format!(
            "a {effect} rule is for IAM callers: `issuers`, `subjects` and `claims` never match here"
        ))
        .hint("workloads exchange tokens for credentials with allow rules"));
    }
    if approval.is_some() && effect != Effect::RequireApproval {
        return Err(
            Invalid::new("`approval` belongs to a require_approval rule")
                .hint("set `effect: require_approval`, or remove the `approval` block"),
        );
    }
    if break_glass.is_some() && effect != Effect::BreakGlass {
        return Err(Invalid::new("`break_glass` belongs to a break_glass rule")
            .hint("set `effect: break_glass`, or remove the `break_glass` block"));
    }
    match effect {
        Effect::RequireApproval => {
            if max_duration.is_some() {
                return Err(Invalid::new(
                    "a require_approval rule caps credentials with `approval.max_duration`",
                )
                .hint("move max_duration into the approval block"));
            }
            let Some(approval) = approval else {
                return Err(
                    Invalid::new("a require_approval rule needs an `approval` block")
                        .hint("add `approval: {approvers: [{users: [alice]}]}`"),
                );
            };
            Ok((Some(approval), None))
        }
        Effect::BreakGlass => {
            if max_duration.is_some_and(|m| m > sentinel_types::SessionDuration::CHAINED_MAX.secs())
            {
                return Err(Invalid::new("break-glass credentials last at most 1h")
                    .hint("set max_duration to 1h or less"));
            }
            Ok((None, Some(break_glass.unwrap_or_default())))
        }
        Effect::Allow | Effect::Deny => Ok((None, None)),
    }
}

/// `allow` or `deny`.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum EffectField {
    Allow,
    Deny,
}

impl From<EffectField> for Effect {
    fn from(field: EffectField) -> Self {
        match field {
            EffectField::Allow => Effect::Allow,
            EffectField::Deny => Effect::Deny,
        }
    }
}

impl<'de> DeserializeSeed<'de> for RuleSeed<'_, RawRule> {
    type Value = RawRule;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawRule, D::Error> {
        checked_map(
            d,
            "a rule: a mapping with `name`, `effect` and optional `conditions`, `max_duration`, `reason`",
            |f: RuleFields| {
                let name = f.name.0.0;
                unique(&name, self.earlier)?;
                let effect = Effect::from(f.effect);
                let max_duration = f.max_duration.0.map(|s| s.0.secs());
                let conditions = f.conditions.0.map(|c| c.0).unwrap_or_default();
                let (approval, break_glass) = gate(
                    effect,
                    max_duration,
                    &conditions,
                    f.approval.0.map(|a| a.0),
                    f.break_glass.0.map(|b| b.0),
                )?;
                if effect == Effect::Deny && max_duration.is_some() {
                    return Err(Invalid::new("max_duration has no meaning on a deny rule")
                        .hint("remove max_duration, or make the rule an allow"));
                }
                // SECURITY: `sub` and claims mean different things at different issuers
                // (two clusters' service accounts; any repository on GitHub), so an allow
                // for workloads trusts its issuers by name. A deny only takes away.
                let for_workloads = conditions.subjects.is_some() || conditions.claims.is_some();
                if effect == Effect::Allow && for_workloads && conditions.issuers.is_none() {
                    return Err(Invalid::new(
                        "an allow rule for workloads must name its `issuers`",
                    )
                    .hint("add `issuers: [\"https://...\"]`: the same `sub` or claim at another trusted issuer is another workload"));
                }
                Ok(RawRule {
                    name,
                    effect,
                    conditions,
                    max_duration,
                    reason: f.reason.0.map(|r| r.0.0),
                    approval,
                    break_glass,
                })
            },
        )
    }
}

pub(super) struct RuleName(pub(super) String);

impl FromText for RuleName {
    const EXPECTING: &'static str = "a rule name";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        let len = text.chars().count();
        if len == 0 || len > 128 || text.trim() != text || text.chars().any(char::is_control) {
            return Err(Invalid::new(format!(
                "rule name `{}` must be 1 to 128 characters without control characters or surrounding spaces",
                text.escape_debug()
            )));
        }
        Ok(RuleName(text.to_owned()))
    }
}

pub(super) struct Reason(pub(super) String);

impl FromText for Reason {
    const EXPECTING: &'static str = "a reason (text)";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        // Reasons reach deny messages and one-line logs: one line, trimmed.
        let trimmed = text.trim();
        if trimmed.chars().any(char::is_control) || trimmed.chars().count() > 512 {
            return Err(
                Invalid::new("reason must be one line of at most 512 characters")
                    .hint("a reason is shown to denied callers and in the decision log"),
            );
        }
        Ok(Reason(trimmed.to_owned()))
    }
}
