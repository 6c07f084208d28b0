//! `rules`: each rule's name, effect, conditions, cap and reason.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::conditions::ConditionsSection;
use super::fields::{FromText, Present, Seconds, Text, checked_map};
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
    effect: EffectField,
    #[serde(default)]
    conditions: Present<ConditionsSection>,
    #[serde(default)]
    max_duration: Present<Seconds>,
    #[serde(default)]
    reason: Present<Text<Reason>>,
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
                if effect == Effect::Deny && max_duration.is_some() {
                    return Err(Invalid::new("max_duration has no meaning on a deny rule")
                        .hint("remove max_duration, or make the rule an allow"));
                }
                let conditions = f.conditions.0.map(|c| c.0).unwrap_or_default();
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
