//! The admin document (`<root>/_admin`): `version` and `rules`, no `profile`.
//! Its rules are a profile policy's rules without `max_duration`, whose
//! conditions add `actions` (required) and `profiles`.

use serde::Deserialize;
use serde::de::Deserializer;

use super::diagnostics::{edit_distance, translate};
use super::fields::{FromText, NonEmpty, Present, Text, checked_map};
use super::scoped::{Kind, ScopedDocument, scoped_condition_fields};
use crate::admin::{ADMIN_ACTIONS, AdminPolicySet, Scope};
use crate::condition::Conditions;
use crate::error::{Invalid, PolicyError};
use crate::glob::{GLOB_HINT, Glob};
use crate::lint::{Lint, LintKind};
use sentinel_types::ProfileName;

/// Parses and validates the admin policy (docs/policy.md, "Admin policy").
///
/// As strict as [`crate::parse`]: every error names its line and column and,
/// inside a rule, the rule. The result carries its lints
/// ([`AdminPolicySet::lints`]).
pub fn parse_admin(yaml: &str) -> Result<AdminPolicySet, PolicyError> {
    let document: ScopedDocument<Scope> =
        yaml_serde::from_str(yaml).map_err(|error| translate(&error, yaml))?;
    let mut set = document.compile(yaml);
    for rule in &set.rules {
        for glob in &rule.scope.actions {
            if !ADMIN_ACTIONS.iter().any(|a| glob.matches(a)) {
                set.lints.push(Lint::on_rule(
                    LintKind::UnknownAction,
                    &rule.rule,
                    format!("actions: `{glob}` matches no admin action, so it never applies"),
                ));
            }
        }
    }
    Ok(set)
}

const ACTIONS_HINT: &str = "list the actions the rule covers, e.g. `actions: [sessions:list]`, or `actions: [\"*\"]` for every action";

impl Kind for Scope {
    const NAME: &'static str = "admin";
    const DOCUMENT: &'static str = "an admin policy: a mapping with `version` and `rules`";
    const RULE: &'static str = "an admin rule: a mapping with `name`, `effect`, `conditions` (with `actions`) and optional `reason`";
    const NO_PROFILE_HINT: &'static str =
        "the admin policy decides admin actions, not credentials: remove `profile`";
    const NO_MAX_DURATION_HINT: &'static str =
        "admin rules allow actions, not credentials: remove max_duration";
    type Section = AdminConditionsSection;

    fn split(section: Option<AdminConditionsSection>) -> Result<(Conditions, Scope), Invalid> {
        // SECURITY: a rule that named no actions would grant (or refuse)
        // every action, including ones added later.
        let Some(AdminConditionsSection(conditions, scope)) = section else {
            return Err(
                Invalid::new("an admin rule needs `conditions` with `actions`").hint(ACTIONS_HINT),
            );
        };
        Ok((conditions, scope))
    }
}

/// An admin rule's `conditions`: a profile rule's, plus `actions` and `profiles`.
pub(super) struct AdminConditionsSection(Conditions, Scope);

scoped_condition_fields!(AdminConditionFields {
    actions: Present<NonEmpty<Text<ActionGlob>>>,
    profiles: Present<NonEmpty<Text<ProfileGlob>>>,
});

impl<'de> Deserialize<'de> for AdminConditionsSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "conditions: a mapping with `actions` and optional `users`, `principals`, `accounts`, `source_ips`, `time`, `profiles`",
            |mut f: AdminConditionFields| {
                let conditions = f.take_conditions();
                let Some(actions) = f.actions.0 else {
                    return Err(Invalid::new("an admin rule needs `actions`").hint(ACTIONS_HINT));
                };
                let scope = Scope {
                    actions: actions.0.into_iter().map(|a| a.0.0).collect(),
                    profiles: f
                        .profiles
                        .0
                        .map(|l| l.0.into_iter().map(|p| p.0.0).collect()),
                };
                Ok(AdminConditionsSection(conditions, scope))
            },
        )
    }
}

/// A glob over `service:verb` actions whose literal parts name a known
/// service and verb: `sessions:*` and `*` are fine, `sesions:list` is a typo.
struct ActionGlob(Glob);

impl FromText for ActionGlob {
    const EXPECTING: &'static str = "an admin action glob such as `sessions:revoke`";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        let glob = Glob::new(text)?;
        let literal = |part: &str| !part.contains(['*', '?']);
        if literal(text) {
            if !ADMIN_ACTIONS.contains(&text) {
                return Err(unknown("action", text, ADMIN_ACTIONS.iter().copied()));
            }
        } else if let Some((service, verb)) = text.split_once(':') {
            let services = ADMIN_ACTIONS
                .iter()
                .filter_map(|a| a.split_once(':').map(|s| s.0));
            let verbs = ADMIN_ACTIONS
                .iter()
                .filter_map(|a| a.split_once(':').map(|s| s.1));
            if literal(service) && !services.clone().any(|s| s == service) {
                return Err(unknown("service", service, services));
            }
            if literal(verb) && !verbs.clone().any(|v| v == verb) {
                return Err(unknown("verb", verb, verbs));
            }
        }
        Ok(ActionGlob(glob))
    }
}

/// ``unknown action `x` `` with the closest known name, or all of them.
fn unknown<'a>(what: &str, given: &str, known: impl Iterator<Item = &'a str>) -> Invalid {
    let mut known: Vec<&str> = known.collect();
    known.dedup();
    let hint = match known.iter().map(|k| (edit_distance(given, k), *k)).min() {
        Some((distance, best)) if distance <= 2 => format!("did you mean `{best}`?"),
        _ => format!(
            "admin actions are {}; {GLOB_HINT}",
            ADMIN_ACTIONS
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Invalid::new(format!("unknown {what} `{given}`")).hint(hint)
}

/// A glob on profile names; a literal one must be a valid profile name.
struct ProfileGlob(Glob);

impl FromText for ProfileGlob {
    const EXPECTING: &'static str = "a profile name glob";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        let glob = Glob::new(text)?;
        if !text.contains(['*', '?']) {
            ProfileName::parse(text)?;
        }
        Ok(ProfileGlob(glob))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "version: \"1\"\nrules:\n";

    fn error(rules: &str) -> PolicyError {
        parse_admin(&format!("{HEAD}{rules}")).unwrap_err()
    }

    #[test]
    fn a_minimal_admin_policy_parses() {
        let set = parse_admin(&format!(
            "{HEAD}  - name: all\n    effect: allow\n    conditions:\n      actions: [\"*\"]\n"
        ))
        .unwrap();
        assert_eq!(set.rules().len(), 1);
        assert_eq!(set.rules()[0].name(), "all");
        assert_eq!(set.rules()[0].line(), Some(3));
        assert!(set.lints().is_empty());
        let empty = parse_admin("version: \"1\"\nrules: []\n").unwrap();
        assert_eq!(empty.lints()[0].kind, LintKind::NoRules);
    }

    #[test]
    fn a_profile_block_is_refused_where_it_is() {
        let e = parse_admin(
            "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/R\nrules: []\n",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "profile: the admin policy has no `profile` block"
        );
        assert_eq!(e.line(), Some(3));
        assert!(e.hint().unwrap().contains("remove `profile`"));
    }

    #[test]
    fn typo_actions_are_errors_naming_rule_line_and_suggestion() {
        let e = error(
            "  - name: ops\n    effect: allow\n    conditions:\n      actions: [sessions:list, sesions:list]\n",
        );
        assert_eq!(e.rule(), Some("ops"));
        assert_eq!(e.line(), Some(6));
        assert_eq!(
            e.message(),
            "conditions.actions[1]: unknown action `sesions:list`"
        );
        assert_eq!(e.hint(), Some("did you mean `sessions:list`?"));
        let service = error(
            "  - name: ops\n    effect: allow\n    conditions:\n      actions: [\"sesions:*\"]\n",
        );
        assert!(
            service.message().ends_with("unknown service `sesions`"),
            "{service}"
        );
        assert_eq!(service.hint(), Some("did you mean `sessions`?"));
        let verb = error(
            "  - name: ops\n    effect: allow\n    conditions:\n      actions: [\"*:delete\"]\n",
        );
        assert!(verb.message().ends_with("unknown verb `delete`"), "{verb}");
        assert!(verb.hint().unwrap().contains("`sessions:list`"), "{verb:?}");
        let bare =
            error("  - name: ops\n    effect: allow\n    conditions:\n      actions: [sessions]\n");
        assert!(
            bare.message().ends_with("unknown action `sessions`"),
            "{bare}"
        );
    }

    #[test]
    fn wildcard_actions_are_fine_and_those_that_match_nothing_are_linted() {
        let set = parse_admin(&format!(
            "{HEAD}  - name: ops\n    effect: allow\n    conditions:\n      actions: [\"sessions:*\", \"*:list\", \"s*\", \"sessions:re?oke\", \"requests:l*\"]\n"
        ))
        .unwrap();
        let lints: Vec<String> = set.lints().iter().map(ToString::to_string).collect();
        assert_eq!(
            lints,
            [
                "line 3, column 5: rule `ops`: actions: `requests:l*` matches no admin action, so it never applies"
            ]
        );
        assert_eq!(set.lints()[0].kind, LintKind::UnknownAction);
    }

    #[test]
    fn admin_rules_need_actions_and_refuse_max_duration() {
        let none = error("  - name: ops\n    effect: allow\n");
        assert_eq!(
            none.message(),
            "an admin rule needs `conditions` with `actions`"
        );
        assert_eq!(none.rule(), Some("ops"));
        let no_actions =
            error("  - name: ops\n    effect: deny\n    conditions:\n      users: [a]\n");
        assert!(
            no_actions
                .message()
                .ends_with("an admin rule needs `actions`"),
            "{no_actions}"
        );
        let max = error(
            "  - name: ops\n    effect: allow\n    conditions:\n      actions: [\"*\"]\n    max_duration: 1h\n",
        );
        assert!(
            max.message()
                .contains("max_duration has no meaning in the admin policy"),
            "{max}"
        );
        assert_eq!((max.rule(), max.line()), (Some("ops"), Some(3)));
    }

    #[test]
    fn parsing_is_as_strict_as_for_profiles() {
        let typo =
            error("  - name: ops\n    effect: allow\n    conditions:\n      action: [\"*\"]\n");
        assert!(typo.message().contains("unknown field `action`"), "{typo}");
        assert_eq!(typo.hint(), Some("did you mean `actions`?"));
        let dup = error(
            "  - name: a\n    effect: allow\n    conditions: {actions: [\"*\"]}\n  - name: a\n    effect: deny\n    conditions: {actions: [\"*\"]}\n",
        );
        assert_eq!(
            (dup.message(), dup.line()),
            ("duplicate rule name `a`", Some(6))
        );
        let glob = error(
            "  - name: a\n    effect: allow\n    conditions:\n      actions: [\"sessions:{list}\"]\n",
        );
        assert!(glob.message().contains("uses `{`"), "{glob}");
        let profile = error(
            "  - name: a\n    effect: allow\n    conditions:\n      actions: [\"*\"]\n      profiles: [_admin]\n",
        );
        assert!(
            profile.message().contains("is not a valid profile name"),
            "{profile}"
        );
        let effect =
            error("  - name: a\n    effect: alow\n    conditions:\n      actions: [\"*\"]\n");
        assert_eq!(effect.hint(), Some("did you mean `allow`?"));
        let empty = error("  - name: a\n    effect: allow\n    conditions:\n      actions: []\n");
        assert!(
            empty.message().contains("conditions.actions: empty list"),
            "{empty}"
        );
    }

    #[test]
    fn workload_conditions_are_refused_in_the_admin_policy() {
        for condition in [
            "issuers: [\"https://token.actions.githubusercontent.com\"]",
            "subjects: [\"spiffe://company.internal/*\"]",
            "claims: {repository: [org/app]}",
        ] {
            let e = error(&format!(
                "  - name: ops\n    effect: allow\n    conditions:\n      actions: [\"*\"]\n      {condition}\n"
            ));
            assert_eq!(
                e.message(),
                "conditions: workload conditions (`issuers`, `subjects`, `claims`) exist in profile policies only",
                "{condition}"
            );
            assert_eq!((e.rule(), e.line()), (Some("ops"), Some(6)), "{condition}");
            assert!(e.hint().unwrap().contains("AWS credentials"), "{e:?}");
        }
    }

    #[test]
    fn a_profile_document_is_not_an_admin_document_and_back() {
        let profile =
            "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/R\nrules: []\n";
        assert!(crate::parse(profile).is_ok());
        assert!(parse_admin(profile).is_err());
        let admin = format!(
            "{HEAD}  - name: a\n    effect: allow\n    conditions:\n      actions: [\"*\"]\n"
        );
        assert!(parse_admin(&admin).is_ok());
        let e = crate::parse(&admin).unwrap_err();
        assert!(e.message().contains("unknown field `actions`"), "{e}");
    }

    #[test]
    fn lints_know_actions_and_profiles() {
        let set = parse_admin(&format!(
            "{HEAD}  - name: leads\n    effect: allow\n    conditions:\n      actions: [\"sessions:*\"]\n      profiles: [\"team-*\"]\n  - name: one-team\n    effect: allow\n    conditions:\n      actions: [sessions:list]\n      profiles: [team-a]\n  - name: all-profiles\n    effect: allow\n    conditions:\n      actions: [sessions:list]\n  - name: freeze\n    effect: deny\n    conditions:\n      actions: [\"*\"]\n  - name: late\n    effect: allow\n    conditions:\n      actions: [requests:approve]\n"
        ))
        .unwrap();
        let lints: Vec<(LintKind, Option<&str>)> = set
            .lints()
            .iter()
            .map(|l| (l.kind, l.rule.as_deref()))
            .collect();
        assert_eq!(
            lints,
            [
                (LintKind::Shadowed, Some("one-team")),
                (LintKind::AllowAfterCatchAllDeny, Some("late")),
            ],
            "`all-profiles` also covers requests without a profile, so it is not shadowed"
        );
    }
}
