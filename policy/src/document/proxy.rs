//! The proxy document: `version` and `rules`, no `profile`. Its rules are a
//! profile policy's rules without `max_duration`, whose conditions add an
//! optional `routes`.

use serde::Deserialize;
use serde::de::Deserializer;

use super::diagnostics::translate;
use super::fields::{FromText, NonEmpty, Present, Text, checked_map};
use super::scoped::{Kind, ScopedDocument, scoped_condition_fields};
use crate::condition::Conditions;
use crate::error::{Invalid, PolicyError};
use crate::proxy::{ProxyPolicySet, Routes};
use crate::route::Route;

/// Parses and validates the proxy policy (docs/policy.md, "Proxy policy").
///
/// As strict as [`crate::parse`]: every error names its line and column and,
/// inside a rule, the rule. The result carries its lints
/// ([`ProxyPolicySet::lints`]).
pub fn parse_proxy(yaml: &str) -> Result<ProxyPolicySet, PolicyError> {
    let document: ScopedDocument<Routes> =
        yaml_serde::from_str(yaml).map_err(|error| translate(&error, yaml))?;
    Ok(document.compile(yaml))
}

impl Kind for Routes {
    const NAME: &'static str = "proxy";
    const DOCUMENT: &'static str = "a proxy policy: a mapping with `version` and `rules`";
    const RULE: &'static str =
        "a proxy rule: a mapping with `name`, `effect` and optional `conditions`, `reason`";
    const NO_PROFILE_HINT: &'static str =
        "the proxy policy decides who may call which route, not credentials: remove `profile`";
    const NO_MAX_DURATION_HINT: &'static str =
        "proxy rules allow requests, not credentials: remove max_duration";
    type Section = ProxyConditionsSection;

    fn split(section: Option<ProxyConditionsSection>) -> Result<(Conditions, Routes), Invalid> {
        Ok(section.map_or_else(
            || (Conditions::default(), Routes(None)),
            |c| (c.0, Routes(c.1)),
        ))
    }
}

/// A proxy rule's `conditions`: a profile rule's, plus `routes`.
pub(super) struct ProxyConditionsSection(Conditions, Option<Vec<Route>>);

scoped_condition_fields!(ProxyConditionFields {
    routes: Present<NonEmpty<Text<Route>>>,
});

impl<'de> Deserialize<'de> for ProxyConditionsSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "conditions: a mapping with `users`, `principals`, `accounts`, `source_ips`, `time` or `routes`",
            |mut f: ProxyConditionFields| {
                let conditions = f.take_conditions();
                let routes: Option<Vec<Route>> =
                    f.routes.0.map(|l| l.0.into_iter().map(|r| r.0).collect());
                if routes.is_none() && conditions == Conditions::default() {
                    return Err(Invalid::new("conditions is empty").hint(
                        "leave `conditions` out to match every request, or add a condition",
                    ));
                }
                Ok(ProxyConditionsSection(conditions, routes))
            },
        )
    }
}

impl FromText for Route {
    const EXPECTING: &'static str = "a route such as `GET /v1/rates/*`";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        Route::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintKind;
    use crate::set::Effect;

    const HEAD: &str = "version: \"1\"\nrules:\n";

    fn error(rules: &str) -> PolicyError {
        parse_proxy(&format!("{HEAD}{rules}")).unwrap_err()
    }

    #[test]
    fn a_minimal_proxy_policy_parses() {
        let set = parse_proxy(&format!("{HEAD}  - name: all\n    effect: allow\n")).unwrap();
        assert_eq!(set.rules().len(), 1);
        assert_eq!(set.rules()[0].name(), "all");
        assert_eq!(set.rules()[0].effect(), Effect::Allow);
        assert_eq!(set.rules()[0].routes(), None);
        assert_eq!(
            (set.rules()[0].line(), set.rules()[0].column()),
            (Some(3), Some(5))
        );
        assert!(set.rules()[0].is_catch_all());
        assert!(set.lints().is_empty());
        let routed = parse_proxy(&format!(
            "{HEAD}  - name: rates\n    effect: allow\n    conditions:\n      routes: [\"GET /v1/rates/*\", \"* /health\"]\n    reason: rates are public\n"
        ))
        .unwrap();
        let rule = &routed.rules()[0];
        assert_eq!(rule.reason(), Some("rates are public"));
        let routes: Vec<String> = rule
            .routes()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(routes, ["GET /v1/rates/*", "* /health"]);
        assert!(!rule.is_catch_all());
        let empty = parse_proxy("version: \"1\"\nrules: []\n").unwrap();
        assert_eq!(empty.lints()[0].kind, LintKind::NoRules);
        assert_eq!(empty.lints()[0].line(), Some(2));
    }

    #[test]
    fn a_profile_block_is_refused_where_it_is() {
        let e = parse_proxy(
            "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/R\nrules: []\n",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "profile: the proxy policy has no `profile` block"
        );
        assert_eq!(e.line(), Some(3));
        assert_eq!(
            e.hint(),
            Some(
                "the proxy policy decides who may call which route, not credentials: remove `profile`"
            )
        );
    }

    #[test]
    fn max_duration_is_refused_with_a_hint() {
        let e = error(
            "  - name: ops\n    effect: allow\n    conditions:\n      routes: [\"GET /*\"]\n    max_duration: 1h\n",
        );
        assert!(
            e.message()
                .contains("max_duration has no meaning in the proxy policy"),
            "{e}"
        );
        assert_eq!((e.rule(), e.line()), (Some("ops"), Some(3)));
        assert!(e.hint().unwrap().contains("remove max_duration"), "{e:?}");
    }

    #[test]
    fn typo_fields_get_a_suggestion() {
        let e =
            error("  - name: ops\n    effect: allow\n    conditions:\n      route: [\"GET /*\"]\n");
        assert_eq!(e.rule(), Some("ops"));
        assert_eq!(e.line(), Some(6));
        assert!(e.message().contains("unknown field `route`"), "{e}");
        assert_eq!(e.hint(), Some("did you mean `routes`?"));
        let rule = error("  - name: ops\n    efect: allow\n");
        assert_eq!(rule.hint(), Some("did you mean `effect`?"));
        let top = parse_proxy("version: \"1\"\nrule: []\n").unwrap_err();
        assert_eq!(top.hint(), Some("did you mean `rules`?"));
    }

    #[test]
    fn bad_routes_are_errors_naming_rule_line_and_column() {
        let rules = |route: &str| {
            format!(
                "  - name: ops\n    effect: allow\n    conditions:\n      users: [alice]\n      routes: [\"GET /v1/*\", \"{route}\"]\n"
            )
        };
        let cases = [
            (
                "GETT /x",
                "conditions.routes[1]: route `GETT /x`: unknown method `GETT` (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or `*`)",
            ),
            (
                "GET v1",
                "conditions.routes[1]: route `GET v1`: the path must start with `/`",
            ),
            (
                "GET",
                "conditions.routes[1]: route `GET`: expected `METHOD /path-glob`",
            ),
            (
                "GET /v1/{a,b}",
                "conditions.routes[1]: route `GET /v1/{a,b}`: glob `/v1/{a,b}` uses `{`, which is not supported",
            ),
        ];
        for (route, message) in cases {
            let e = error(&rules(route));
            assert_eq!(e.message(), message, "{route}");
            assert_eq!(e.rule(), Some("ops"), "{route}");
            assert_eq!((e.line(), e.column()), (Some(7), Some(29)), "{route}");
        }
        assert!(
            error(&rules("get /x"))
                .hint()
                .is_some_and(|h| h.contains("did you mean `GET`?"))
        );
        assert!(
            error(&rules("GET /{a}"))
                .hint()
                .is_some_and(|h| h.contains("`*`"))
        );
        let empty = error("  - name: ops\n    effect: allow\n    conditions:\n      routes: []\n");
        assert!(
            empty.message().contains("conditions.routes: empty list"),
            "{empty}"
        );
        let scalar =
            error("  - name: ops\n    effect: allow\n    conditions:\n      routes: GET /x\n");
        assert!(scalar.message().contains("invalid type"), "{scalar}");
        let empty_conditions = error("  - name: ops\n    effect: allow\n    conditions: {}\n");
        assert!(
            empty_conditions.message().contains("conditions is empty"),
            "{empty_conditions}"
        );
    }

    #[test]
    fn workload_conditions_are_refused_in_the_proxy_policy() {
        for condition in [
            "issuers: [\"https://token.actions.githubusercontent.com\"]",
            "subjects: [\"spiffe://company.internal/*\"]",
            "claims: {repository: [org/app]}",
        ] {
            let e = error(&format!(
                "  - name: rates\n    effect: allow\n    conditions:\n      {condition}\n      routes: [\"GET /v1/*\"]\n"
            ));
            assert_eq!(
                e.message(),
                "conditions: workload conditions (`issuers`, `subjects`, `claims`) exist in profile policies only",
                "{condition}"
            );
            assert_eq!(
                (e.rule(), e.line()),
                (Some("rates"), Some(6)),
                "{condition}"
            );
            assert!(e.hint().unwrap().contains("AWS credentials"), "{e:?}");
        }
    }

    #[test]
    fn parsing_is_as_strict_as_for_profiles() {
        let dup = error(
            "  - name: a\n    effect: allow\n    conditions: {routes: [\"GET /*\"]}\n  - name: a\n    effect: deny\n",
        );
        assert_eq!(
            (dup.message(), dup.line()),
            ("duplicate rule name `a`", Some(6))
        );
        let glob =
            error("  - name: a\n    effect: allow\n    conditions:\n      users: [\"a{b}\"]\n");
        assert!(glob.message().contains("uses `{`"), "{glob}");
        let network = error(
            "  - name: a\n    effect: allow\n    conditions:\n      source_ips: [\"10.1.2.3/8\"]\n",
        );
        assert_eq!(network.hint(), Some("did you mean `10.0.0.0/8`?"));
        let effect = error("  - name: a\n    effect: alow\n");
        assert_eq!(effect.hint(), Some("did you mean `allow`?"));
        let version = parse_proxy("version: \"2\"\nrules: []\n").unwrap_err();
        assert!(
            version.message().contains("unsupported policy version"),
            "{version}"
        );
        let missing = parse_proxy("version: \"1\"\n").unwrap_err();
        assert!(
            missing.message().contains("missing field `rules`"),
            "{missing}"
        );
    }

    #[test]
    fn profile_admin_and_proxy_documents_are_told_apart() {
        let profile =
            "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/R\nrules: []\n";
        assert!(crate::parse(profile).is_ok());
        assert!(parse_proxy(profile).is_err());
        let admin = format!(
            "{HEAD}  - name: a\n    effect: allow\n    conditions:\n      actions: [\"*\"]\n"
        );
        assert!(crate::parse_admin(&admin).is_ok());
        let e = parse_proxy(&admin).unwrap_err();
        assert!(e.message().contains("unknown field `actions`"), "{e}");
        let proxy = format!(
            "{HEAD}  - name: a\n    effect: allow\n    conditions:\n      routes: [\"GET /*\"]\n"
        );
        assert!(parse_proxy(&proxy).is_ok());
        let as_admin = crate::parse_admin(&proxy).unwrap_err();
        assert!(
            as_admin.message().contains("unknown field `routes`"),
            "{as_admin}"
        );
        let as_profile = crate::parse(&proxy).unwrap_err();
        assert!(
            as_profile.message().contains("unknown field `routes`"),
            "{as_profile}"
        );
        let with_profile = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/R\nrules:\n  - name: a\n    effect: allow\n    conditions:\n      routes: [\"GET /*\"]\n";
        let e = crate::parse(with_profile).unwrap_err();
        assert!(e.message().contains("unknown field `routes`"), "{e}");
    }

    #[test]
    fn lints_know_routes() {
        let set = parse_proxy(&format!(
            "{HEAD}  - name: v1\n    effect: allow\n    conditions:\n      users: [\"ops-*\"]\n      routes: [\"* /v1/*\"]\n  - name: rates\n    effect: allow\n    conditions:\n      users: [ops-1]\n      routes: [\"GET /v1/rates/*\", \"POST /v1/quotes\"]\n  - name: health\n    effect: allow\n    conditions:\n      users: [ops-1]\n      routes: [\"GET /v1/*\", \"GET /health\"]\n  - name: everything\n    effect: allow\n    conditions:\n      users: [ops-2]\n  - name: freeze\n    effect: deny\n    conditions:\n      routes: [\"* /*\"]\n  - name: late\n    effect: allow\n    conditions:\n      users: [bob]\n      routes: [\"GET /v1/x\"]\n"
        ))
        .unwrap();
        let lints: Vec<(LintKind, Option<&str>, Option<usize>)> = set
            .lints()
            .iter()
            .map(|l| (l.kind, l.rule.as_deref(), l.line()))
            .collect();
        assert_eq!(
            lints,
            [
                (LintKind::Shadowed, Some("rates"), Some(8)),
                (LintKind::AllowAfterCatchAllDeny, Some("late"), Some(26)),
            ],
            "`health` also covers `GET /health`, and `everything` every route"
        );
        assert!(
            set.lints()[0].message.contains("rule `v1` (line 3)"),
            "{}",
            set.lints()[0]
        );
        let shadowed_by_no_routes = parse_proxy(&format!(
            "{HEAD}  - name: ops\n    effect: allow\n    conditions:\n      users: [ops]\n  - name: ops-rates\n    effect: deny\n    conditions:\n      users: [ops]\n      routes: [\"GET /v1/rates\"]\n"
        ))
        .unwrap();
        assert_eq!(
            shadowed_by_no_routes
                .lints()
                .iter()
                .map(|l| (l.kind, l.rule.as_deref()))
                .collect::<Vec<_>>(),
            [(LintKind::Shadowed, Some("ops-rates"))],
            "a rule without routes covers every route"
        );
    }
}
