//! What the admin and the proxy document share: `version` and `rules`, no
//! `profile`; rules are a profile policy's rules without `max_duration`,
//! whose `conditions` add the document's scope.

use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer};

use super::Version;
use super::compile_rules;
use super::fields::{Present, Text, checked_map};
use super::rules::{EffectField, Named, RawRule, Reason, RuleList, RuleName, RuleSeed, unique};
use crate::condition::Conditions;
use crate::error::Invalid;
use crate::lint::{self, Lint};
use crate::scoped::{Scope, ScopedRule, ScopedSet};
use crate::set::Effect;

/// One kind of scoped document, named by its scope.
pub(super) trait Kind: Scope + Sized {
    /// The policy's name in messages: `admin`, `proxy`.
    const NAME: &'static str;
    /// What the document is, for "expected ..." errors.
    const DOCUMENT: &'static str;
    /// What a rule is, for "expected ..." errors.
    const RULE: &'static str;
    /// How to fix a `profile` block.
    const NO_PROFILE_HINT: &'static str;
    /// How to fix a rule's `max_duration`.
    const NO_MAX_DURATION_HINT: &'static str;
    /// A rule's `conditions`.
    type Section: DeserializeOwned;

    /// A rule's conditions and scope from its `conditions`, if it has them.
    fn split(section: Option<Self::Section>) -> Result<(Conditions, Self), Invalid>;
}

/// A scoped document, read; [`ScopedDocument::compile`] makes its set.
pub(super) struct ScopedDocument<S> {
    rules: Vec<ScopedRawRule<S>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
struct DocumentFields<S: Kind> {
    #[expect(dead_code, reason = "checked while deserializing; only \"1\" exists")]
    version: Version,
    #[serde(default)]
    #[expect(dead_code, reason = "refused while deserializing")]
    profile: Present<NoProfile<S>>,
    rules: RuleList<ScopedRawRule<S>>,
}

impl<'de, S: Kind> Deserialize<'de> for ScopedDocument<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(d, S::DOCUMENT, |fields: DocumentFields<S>| {
            Ok(ScopedDocument {
                rules: fields.rules.0,
            })
        })
    }
}

/// `profile:` in a scoped document: always refused, where it is.
struct NoProfile<S>(PhantomData<S>);

impl<'de, S: Kind> Deserialize<'de> for NoProfile<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(d, "no `profile` block", |_: de::IgnoredAny| {
            Err(
                Invalid::new(format!("the {} policy has no `profile` block", S::NAME))
                    .hint(S::NO_PROFILE_HINT),
            )
        })
    }
}

/// `max_duration:` on a scoped rule: always refused, where it is.
struct NoMaxDuration<S>(PhantomData<S>);

impl<'de, S: Kind> Deserialize<'de> for NoMaxDuration<S> {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(de::Error::custom(
            Invalid::new(format!(
                "max_duration has no meaning in the {} policy",
                S::NAME
            ))
            .hint(S::NO_MAX_DURATION_HINT),
        ))
    }
}

/// A scoped rule, read.
pub(super) struct ScopedRawRule<S> {
    rule: RawRule,
    scope: S,
}

impl<S> Named for ScopedRawRule<S> {
    fn name(&self) -> &str {
        &self.rule.name
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
struct RuleFields<S: Kind> {
    name: Text<RuleName>,
    effect: EffectField,
    #[serde(default)]
    conditions: Present<S::Section>,
    #[serde(default)]
    #[expect(dead_code, reason = "refused while deserializing")]
    max_duration: Present<NoMaxDuration<S>>,
    #[serde(default)]
    reason: Present<Text<Reason>>,
}

impl<'de, S: Kind> DeserializeSeed<'de> for RuleSeed<'_, ScopedRawRule<S>> {
    type Value = ScopedRawRule<S>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ScopedRawRule<S>, D::Error> {
        checked_map(d, S::RULE, |f: RuleFields<S>| {
            let name = f.name.0.0;
            unique(&name, self.earlier)?;
            let (conditions, scope) = S::split(f.conditions.0)?;
            Ok(ScopedRawRule {
                rule: RawRule {
                    name,
                    effect: Effect::from(f.effect),
                    conditions,
                    max_duration: None,
                    reason: f.reason.0.map(|r| r.0.0),
                    approval: None,
                    break_glass: None,
                },
                scope,
            })
        })
    }
}

impl<S: Kind> ScopedDocument<S> {
    /// The compiled set, with the lints every scoped document gets.
    pub(super) fn compile(self, yaml: &str) -> ScopedSet<S> {
        let (raws, scopes): (Vec<RawRule>, Vec<S>) =
            self.rules.into_iter().map(|r| (r.rule, r.scope)).unzip();
        let (rules, predicates, rules_at) = compile_rules(raws, yaml);
        let rules: Vec<ScopedRule<S>> = rules
            .into_iter()
            .zip(scopes)
            .map(|(rule, scope)| ScopedRule { rule, scope })
            .collect();
        let lints: Vec<Lint> = lint::check(&rules, rules_at);
        ScopedSet {
            rules,
            lints,
            predicates,
        }
    }
}

/// Declares a scoped rule's `conditions` fields: a profile rule's, with the
/// workload conditions refused, followed by the scope's own fields; and
/// `take_conditions`, which moves the profile rule's part out as
/// [`Conditions`].
macro_rules! scoped_condition_fields {
    ($name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            #[serde(default)]
            users: Present<NonEmpty<Text<super::conditions::UserGlob>>>,
            #[serde(default)]
            principals: Present<NonEmpty<Text<super::conditions::PrincipalGlob>>>,
            #[serde(default)]
            accounts: Present<NonEmpty<super::conditions::Account>>,
            #[serde(default)]
            source_ips: Present<NonEmpty<Text<super::conditions::NetworkText>>>,
            #[serde(default)]
            time: Present<super::time::TimeSection>,
            #[serde(default)]
            #[expect(dead_code, reason = "refused while deserializing")]
            issuers: Present<super::conditions::NoWorkloadCondition>,
            #[serde(default)]
            #[expect(dead_code, reason = "refused while deserializing")]
            subjects: Present<super::conditions::NoWorkloadCondition>,
            #[serde(default)]
            #[expect(dead_code, reason = "refused while deserializing")]
            claims: Present<super::conditions::NoWorkloadCondition>,
            $(
                #[serde(default)]
                $field: $ty,
            )*
        }

        impl $name {
            /// The profile rule's conditions, moved out.
            fn take_conditions(&mut self) -> Conditions {
                super::conditions::ConditionFields {
                    users: std::mem::take(&mut self.users),
                    principals: std::mem::take(&mut self.principals),
                    accounts: std::mem::take(&mut self.accounts),
                    source_ips: std::mem::take(&mut self.source_ips),
                    time: std::mem::take(&mut self.time),
                    issuers: Present::default(),
                    subjects: Present::default(),
                    claims: Present::default(),
                }
                .into_conditions()
            }
        }
    };
}
pub(super) use scoped_condition_fields;
