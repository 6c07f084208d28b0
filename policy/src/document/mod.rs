//! The YAML document: its raw serde mirror and [`parse`], the one place that
//! reads YAML.
//!
//! Values are checked while they are deserialized (newtypes at the boundary),
//! and each section is checked as a whole before its mapping is left. Done
//! there, a refusal is an error of the YAML deserializer, which stamps it with
//! the line and column of the offending value or section and its path
//! (`rules[2].conditions.users[0]`). [`parse`] then names the rule from that
//! path. Only what needs the whole document happens after deserialization:
//! numbering distinct conditions and time zones, the rules' positions (for
//! lints and tools) and the lints.

mod admin;
mod approval;
mod conditions;
mod diagnostics;
mod fields;
mod positions;
mod profile;
mod proxy;
mod rules;
mod scoped;
mod time;

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::condition::{Checks, Predicate};
use crate::error::{Invalid, PolicyError};
use crate::lint;
use crate::set::{PolicySet, Profile, Rule, sees_workloads};
use crate::window::Zone;

pub use self::admin::parse_admin;
use self::diagnostics::translate;
use self::fields::checked_map;
use self::positions::{Position, rule_positions};
use self::profile::ProfileSection;
pub use self::proxy::parse_proxy;
use self::rules::{RawRule, RuleList};

/// Parses and validates a policy document (docs/policy.md).
///
/// Every error names its line and column and, inside a rule, the rule; see
/// [`PolicyError`]. The result carries its lints ([`PolicySet::lints`]).
pub fn parse(yaml: &str) -> Result<PolicySet, PolicyError> {
    let document: PolicyDocument =
        yaml_serde::from_str(yaml).map_err(|error| translate(&error, yaml))?;
    Ok(document.compile(yaml))
}

// ---------------------------------------------------------------------------
// The raw mirror.

/// The whole document.
struct PolicyDocument {
    profile: Profile,
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentFields {
    #[expect(dead_code, reason = "checked while deserializing; only \"1\" exists")]
    version: Version,
    profile: ProfileSection,
    rules: RuleList<RawRule>,
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "a policy document: a mapping with `version`, `profile` and `rules`",
            |fields: DocumentFields| {
                Ok(PolicyDocument {
                    profile: fields.profile.0,
                    rules: fields.rules.0,
                })
            },
        )
    }
}

struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the string \"1\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Version, E> {
                if v == "1" {
                    Ok(Version)
                } else {
                    Err(E::custom(
                        Invalid::new(format!("unsupported policy version `{v}`"))
                            .hint("this sentinel understands `version: \"1\"`"),
                    ))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Version, E> {
                Err(unquoted_version(&v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Version, E> {
                Err(unquoted_version(&v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Version, E> {
                Err(unquoted_version(&v))
            }
        }
        d.deserialize_any(V)
    }
}

fn unquoted_version<E: de::Error>(v: &dyn fmt::Display) -> E {
    E::custom(
        Invalid::new(format!("version `{v}` must be a quoted string"))
            .hint("write `version: \"1\"`"),
    )
}

// ---------------------------------------------------------------------------
// After deserialization.

impl PolicyDocument {
    fn compile(self, yaml: &str) -> PolicySet {
        let (rules, predicates, rules_at) = compile_rules(self.rules, yaml);
        let mut lints = lint::check(&rules, rules_at);
        lints.extend(lint::gates(&rules));
        PolicySet {
            profile: self.profile,
            rules,
            lints,
            predicates,
        }
    }
}

/// The rules of every kind of document, compiled: time zones numbered, distinct
/// conditions shared, positions found. Also returns where `rules` is.
fn compile_rules(raws: Vec<RawRule>, yaml: &str) -> (Vec<Rule>, Vec<Predicate>, Option<Position>) {
    let names: Vec<&str> = raws.iter().map(|r| r.name.as_str()).collect();
    let (rules_at, positions) = rule_positions(yaml, &names);
    let mut zones: Vec<Zone> = Vec::new();
    let mut predicates = Vec::new();
    let rules = raws
        .into_iter()
        .zip(positions)
        .map(|(raw, at)| {
            let mut conditions = raw.conditions;
            if let Some(window) = &mut conditions.time {
                window.zone_slot =
                    zones
                        .iter()
                        .position(|z| *z == window.zone)
                        .unwrap_or_else(|| {
                            zones.push(window.zone.clone());
                            zones.len() - 1
                        });
            }
            Rule {
                name: raw.name,
                effect: raw.effect,
                checks: Checks::compile(
                    &conditions,
                    sees_workloads(raw.effect, &conditions),
                    &mut predicates,
                ),
                conditions,
                max_duration: raw.max_duration,
                reason: raw.reason,
                approval: raw.approval,
                break_glass: raw.break_glass,
                line: at.map(|(l, _)| l),
                column: at.map(|(_, c)| c),
            }
        })
        .collect();
    (rules, predicates, rules_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_types::SessionDuration;

    const HEAD: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules:\n";

    fn with_rules(rules: &str) -> String {
        format!("{HEAD}{rules}")
    }

    fn error(yaml: &str) -> PolicyError {
        parse(yaml).unwrap_err()
    }

    #[test]
    fn a_minimal_policy_parses_with_defaults() {
        let set = parse(&with_rules("  - name: all\n    effect: allow\n")).unwrap();
        assert_eq!(
            set.profile().default_duration,
            SessionDuration::DEFAULT.secs()
        );
        assert_eq!(set.profile().max_duration, None);
        assert!(set.profile().session_tags.is_empty());
        assert_eq!(set.rules().len(), 1);
        assert_eq!(set.rules()[0].name(), "all");
        assert_eq!(set.rules()[0].line(), Some(5));
        assert_eq!(set.rules()[0].column(), Some(5));
        assert!(set.lints().is_empty());
    }

    #[test]
    fn typo_effect_is_rejected_at_load_with_rule_location_and_suggestion() {
        let e = error(&with_rules("  - name: ops\n    effect: alow\n"));
        assert_eq!(e.rule(), Some("ops"));
        assert_eq!((e.line(), e.column()), (Some(6), Some(13)));
        assert!(e.message().contains("unknown variant `alow`"), "{e}");
        assert_eq!(e.hint(), Some("did you mean `allow`?"));
    }

    #[test]
    fn unknown_keys_are_rejected_where_they_are() {
        let e = error(&with_rules(
            "  - name: ops\n    effect: allow\n    conditons:\n      users: [a]\n",
        ));
        assert_eq!(e.rule(), Some("ops"));
        assert_eq!((e.line(), e.column()), (Some(7), Some(5)));
        assert!(e.message().contains("unknown field `conditons`"), "{e}");
        assert_eq!(e.hint(), Some("did you mean `conditions`?"));
        let top = error(&format!("{HEAD}  []\nextra: 1\n"));
        assert!(top.message().contains("unknown field `extra`"), "{top}");
        assert_eq!(top.line(), Some(6));
        assert_eq!(top.rule(), None);
    }

    #[test]
    fn value_errors_point_at_the_value_and_keep_the_field_path() {
        let e = error(&with_rules(
            "  - name: ops\n    effect: allow\n    conditions:\n      users: [alice, \"ops-[12]\"]\n",
        ));
        assert_eq!(e.rule(), Some("ops"));
        assert_eq!((e.line(), e.column()), (Some(8), Some(22)));
        assert!(
            e.message()
                .starts_with("conditions.users[1]: glob `ops-[12]` uses `[`"),
            "{e}"
        );
        assert!(e.hint().unwrap().contains("`*`"));
    }

    #[test]
    fn duplicate_rule_names_point_at_the_second_rule() {
        let e = error(&with_rules(
            "  - name: a\n    effect: allow\n  - name: b\n    effect: deny\n  - name: a\n    effect: deny\n",
        ));
        assert_eq!((e.line(), e.column()), (Some(9), Some(5)));
        assert_eq!(e.rule(), Some("a"));
        assert_eq!(e.message(), "duplicate rule name `a`");
    }

    #[test]
    fn profile_errors_name_the_profile_section() {
        let e = error(
            "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/R\n  default_duration: 2h\n  max_duration: 1h\nrules: []\n",
        );
        assert_eq!(e.rule(), None);
        assert_eq!(e.line(), Some(3));
        assert!(
            e.message()
                .starts_with("profile: default_duration `2h` is longer than max_duration `1h`"),
            "{e}"
        );
    }

    #[test]
    fn explicit_nulls_and_empty_sections_are_errors() {
        let null_max = error(&with_rules(
            "  - name: a\n    effect: allow\n    max_duration:\n",
        ));
        assert!(null_max.message().contains("invalid type"), "{null_max}");
        let empty = error(&with_rules(
            "  - name: a\n    effect: allow\n    conditions: {}\n",
        ));
        assert!(empty.message().contains("conditions is empty"), "{empty}");
        let empty_list = error(&with_rules(
            "  - name: a\n    effect: allow\n    conditions:\n      users: []\n",
        ));
        assert!(
            empty_list
                .message()
                .contains("conditions.users: empty list"),
            "{empty_list}"
        );
    }

    #[test]
    fn versions_and_accounts_must_be_quoted_strings() {
        let v = error(
            "version: 1\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/R\nrules: []\n",
        );
        assert!(v.message().contains("must be a quoted string"), "{v}");
        let v2 = error(
            "version: \"2\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/R\nrules: []\n",
        );
        assert!(
            v2.message().contains("unsupported policy version `2`"),
            "{v2}"
        );
        let a = error(&with_rules(
            "  - name: a\n    effect: allow\n    conditions:\n      accounts: [123456789012]\n",
        ));
        assert!(a.message().contains("must be a quoted string"), "{a}");
        assert!(a.hint().unwrap().contains("leading zeros"));
    }

    #[test]
    fn networks_with_host_bits_are_refused_with_the_network_as_hint() {
        let e = error(&with_rules(
            "  - name: a\n    effect: allow\n    conditions:\n      source_ips: [\"10.1.2.3/8\"]\n",
        ));
        assert!(e.message().contains("host bits"), "{e}");
        assert_eq!(e.hint(), Some("did you mean `10.0.0.0/8`?"));
        let set = parse(&with_rules(
            "  - name: a\n    effect: allow\n    conditions:\n      source_ips: [\"192.0.2.7\", \"2001:db8::/32\"]\n",
        ))
        .unwrap();
        assert_eq!(set.rules().len(), 1);
    }

    #[test]
    fn syntax_errors_keep_their_location() {
        let e = error("version: \"1\"\nprofile: [\n");
        assert!(e.line().is_some(), "{e}");
        assert_eq!(e.rule(), None);
    }

    #[test]
    fn a_syntax_error_further_down_wins_over_a_missing_key_before_it() {
        let e = error(&with_rules("  - name: a\n   effect: allow\n"));
        assert!(
            e.message().contains("did not find expected '-' indicator"),
            "{e}"
        );
        assert_eq!(e.line(), Some(6));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in [
            "",
            "~",
            "[]",
            "- 1",
            "version",
            "\u{0}",
            "rules: *a",
            "a: &a [*a]",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn alias_bombs_are_refused() {
        // Ten levels of ten: 10^10 users if expanded. Both the typed parse and
        // the generic one on the error path must refuse, not expand.
        let mut anchors = String::from("x-0: &l0 [a, a, a, a, a, a, a, a, a, a]\n");
        for level in 1..10 {
            let prev = format!("*l{}", level - 1);
            let items = [prev.as_str(); 10].join(", ");
            anchors.push_str(&format!("x-{level}: &l{level} [{items}]\n"));
        }
        let yaml = format!(
            "{anchors}{HEAD}  - name: bomb\n    effect: allow\n    conditions:\n      users: *l9\n"
        );
        let e = error(&yaml);
        assert!(e.message().contains("repetition limit exceeded"), "{e}");
        let plain = format!(
            "{HEAD}  - name: x\n    effect: allow\n    conditions:\n      users: &u [a, b]\n  - name: y\n    effect: deny\n    conditions:\n      users: *u\n"
        );
        assert!(parse(&plain).is_ok(), "a plain alias is fine");
    }
}
