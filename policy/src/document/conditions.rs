//! `conditions`: who (users, principals, accounts; for workloads issuers,
//! subjects, claims), from where (networks) and when (`time`, in
//! [`super::time`]).

use std::fmt;

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::fields::{FromText, NonEmpty, Present, Text, checked_map};
use super::time::TimeSection;
use crate::condition::{Claim, Conditions};
use crate::error::Invalid;
use crate::glob::Glob;
use crate::network::Network;
use sentinel_types::AccountId;

/// `conditions`: when present, at least one condition (an absent key matches
/// anything, so an empty section would be an accidental catch-all).
pub(super) struct ConditionsSection(pub(super) Conditions);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConditionFields {
    #[serde(default)]
    pub(super) users: Present<NonEmpty<Text<UserGlob>>>,
    #[serde(default)]
    pub(super) principals: Present<NonEmpty<Text<PrincipalGlob>>>,
    #[serde(default)]
    pub(super) accounts: Present<NonEmpty<Account>>,
    #[serde(default)]
    pub(super) source_ips: Present<NonEmpty<Text<NetworkText>>>,
    #[serde(default)]
    pub(super) time: Present<TimeSection>,
    #[serde(default)]
    pub(super) issuers: Present<NonEmpty<Text<IssuerGlob>>>,
    #[serde(default)]
    pub(super) subjects: Present<NonEmpty<Text<SubjectGlob>>>,
    #[serde(default)]
    pub(super) claims: Present<ClaimMap>,
}

impl ConditionFields {
    /// The conditions; [`Conditions::default`] when none was given.
    pub(super) fn into_conditions(self) -> Conditions {
        Conditions {
            users: self
                .users
                .0
                .map(|l| l.0.into_iter().map(|g| g.0.0).collect()),
            principals: self
                .principals
                .0
                .map(|l| l.0.into_iter().map(|g| g.0.0).collect()),
            accounts: self
                .accounts
                .0
                .map(|l| l.0.into_iter().map(|a| a.0).collect()),
            source_ips: self
                .source_ips
                .0
                .map(|l| l.0.into_iter().map(|n| n.0.0).collect()),
            time: self.time.0.map(|t| t.0),
            issuers: self
                .issuers
                .0
                .map(|l| l.0.into_iter().map(|g| g.0.0).collect()),
            subjects: self
                .subjects
                .0
                .map(|l| l.0.into_iter().map(|g| g.0.0).collect()),
            claims: self.claims.0.map(|c| c.0),
        }
    }
}

impl<'de> Deserialize<'de> for ConditionsSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "conditions: a mapping with `users`, `principals`, `accounts`, `source_ips`, `time`, `issuers`, `subjects` or `claims`",
            |f: ConditionFields| {
                let conditions = f.into_conditions();
                if conditions == Conditions::default() {
                    return Err(Invalid::new("conditions is empty").hint(
                        "leave `conditions` out to match every request, or add a condition",
                    ));
                }
                refuse_mixed(&conditions)?;
                Ok(ConditionsSection(conditions))
            },
        )
    }
}

/// SECURITY: `principals` and `accounts` hold for IAM callers only, and
/// `issuers`, `subjects` and `claims` for workloads only, so a rule with both
/// kinds could never match: most likely a misunderstanding, refused.
fn refuse_mixed(conditions: &Conditions) -> Result<(), Invalid> {
    let iam = [
        ("principals", conditions.principals.is_some()),
        ("accounts", conditions.accounts.is_some()),
    ];
    let workload = [
        ("issuers", conditions.issuers.is_some()),
        ("subjects", conditions.subjects.is_some()),
        ("claims", conditions.claims.is_some()),
    ];
    let first = |keys: &[(&'static str, bool)]| keys.iter().find(|(_, on)| *on).map(|(k, _)| *k);
    match (first(&iam), first(&workload)) {
        (Some(iam), Some(workload)) => Err(Invalid::new(format!(
            "`{iam}` holds for IAM callers only and `{workload}` for workloads only, so this rule can never match"
        ))
        .hint("write two rules: one for IAM callers (`principals`, `accounts`) and one for workloads (`issuers`, `subjects`, `claims`)")),
        _ => Ok(()),
    }
}

/// `issuers`, `subjects` or `claims` in a document whose callers are IAM
/// callers only (the admin and proxy policies): always refused, where it is.
pub(super) struct NoWorkloadCondition;

impl<'de> Deserialize<'de> for NoWorkloadCondition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Read the value first, so that the error points at it.
        de::IgnoredAny::deserialize(d)?;
        Err(de::Error::custom(
            Invalid::new("workload conditions (`issuers`, `subjects`, `claims`) exist in profile policies only")
                .hint("this document's callers sign with AWS credentials: match them with `users`, `principals` or `accounts`"),
        ))
    }
}

pub(super) struct UserGlob(pub(super) Glob);

impl FromText for UserGlob {
    const EXPECTING: &'static str = "a user name glob";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        if text.starts_with("arn:") {
            return Err(Invalid::new(format!(
                "`{text}` is an ARN, but `users` matches user names"
            ))
            .hint("match ARNs with `principals`, or write the user name (e.g. `alice`)"));
        }
        Glob::new(text).map(UserGlob)
    }
}

pub(super) struct PrincipalGlob(pub(super) Glob);

impl FromText for PrincipalGlob {
    const EXPECTING: &'static str = "a principal ARN glob";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        if !text.starts_with("arn:") && !text.starts_with('*') {
            return Err(Invalid::new(format!(
                "`{text}` is not an ARN glob, so it can never match a caller ARN"
            ))
            .hint("principals match caller ARNs such as `arn:aws:iam::123456789012:user/*`; match user names with `users`"));
        }
        Glob::new(text).map(PrincipalGlob)
    }
}

pub(super) struct NetworkText(pub(super) Network);

impl FromText for NetworkText {
    const EXPECTING: &'static str = "an IPv4 or IPv6 CIDR";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        // A bare address means that one host (/32 or /128).
        let net = match text.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => match text.parse::<std::net::IpAddr>() {
                Ok(ip) => IpNet::from(ip),
                Err(_) => {
                    return Err(Invalid::new(format!("`{text}` is not a CIDR")).hint(
                        "write networks as `10.0.0.0/8` or `2001:db8::/32`, or a single address",
                    ));
                }
            },
        };
        // SECURITY: `10.1.2.3/8` most likely means a typo; refusing it beats
        // silently widening or narrowing who gets in.
        if net.trunc() != net {
            return Err(Invalid::new(format!("`{text}` has host bits set"))
                .hint(format!("did you mean `{}`?", net.trunc())));
        }
        Ok(NetworkText(Network::new(net)))
    }
}

/// A 12-digit account ID, which must be quoted: YAML reads unquoted digits as
/// a number and drops leading zeros.
pub(super) struct Account(pub(super) String);

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Account;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quoted 12-digit account ID")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Account, E> {
                AccountId::parse(v)
                    .map(|a| Account(a.as_str().to_owned()))
                    .map_err(|e| E::custom(Invalid::from(e)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Account, E> {
                Err(unquoted_account(&v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Account, E> {
                Err(unquoted_account(&v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Account, E> {
                Err(unquoted_account(&v))
            }
        }
        d.deserialize_any(V)
    }
}

fn unquoted_account<E: de::Error>(v: &dyn fmt::Display) -> E {
    E::custom(
        Invalid::new(format!("account `{v}` must be a quoted string"))
            .hint("quote account IDs, e.g. \"012345678901\": YAML reads bare digits as a number and drops leading zeros"),
    )
}

/// A glob on the token's `iss`. A literal one must be the issuer's URL:
/// `https://`, or `http://` on a loopback host (tests' local issuers).
pub(super) struct IssuerGlob(pub(super) Glob);

const ISSUER_HINT: &str = "write the issuer exactly as tokens carry it in `iss`, e.g. `https://token.actions.githubusercontent.com`";

impl FromText for IssuerGlob {
    const EXPECTING: &'static str = "an issuer URL glob";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        let glob = Glob::new(text)?;
        if text.contains(['*', '?']) {
            // `iss` is a URL: a glob that starts otherwise can never match.
            if !["https://", "http://", "*"]
                .iter()
                .any(|p| text.starts_with(p))
            {
                return Err(Invalid::new(format!(
                    "`{text}` is not an issuer URL glob, so it can never match a token's issuer"
                ))
                .hint(ISSUER_HINT));
            }
        } else {
            issuer_url(text)?;
        }
        Ok(IssuerGlob(glob))
    }
}

/// Checks a literal issuer: `https://host[:port][/path]`, or `http://` with
/// host `localhost` or `127.0.0.1`.
fn issuer_url(text: &str) -> Result<(), Invalid> {
    let (secure, rest) = match (text.strip_prefix("https://"), text.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => {
            return Err(
                Invalid::new(format!("issuer `{text}` is not an https URL")).hint(ISSUER_HINT)
            );
        }
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !host_ok || !port_ok || text.chars().any(char::is_whitespace) {
        return Err(Invalid::new(format!("issuer `{text}` is not a valid URL")).hint(ISSUER_HINT));
    }
    if !secure && !matches!(host, "localhost" | "127.0.0.1") {
        return Err(Invalid::new(format!("issuer `{text}` does not use https"))
            .hint("only a loopback issuer (`http://localhost`, `http://127.0.0.1`) may use http, for tests; write `https://`"));
    }
    Ok(())
}

/// A glob on the token's `sub`, e.g. `spiffe://company.internal/ns/prod/*`.
pub(super) struct SubjectGlob(pub(super) Glob);

impl FromText for SubjectGlob {
    const EXPECTING: &'static str = "a subject glob";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        Glob::new(text).map(SubjectGlob)
    }
}

/// `claims`: a non-empty mapping of claim names to non-empty glob lists, in
/// document order.
pub(super) struct ClaimMap(pub(super) Vec<Claim>);

impl<'de> Deserialize<'de> for ClaimMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClaimMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of claim names to lists of globs")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ClaimMap, A::Error> {
                let mut claims: Vec<Claim> = Vec::new();
                while let Some(name) = map.next_key::<Text<ClaimName>>()? {
                    let name = name.0.0;
                    let globs: NonEmpty<ClaimGlob> = map.next_value()?;
                    if claims.iter().any(|c| c.name == name) {
                        return Err(de::Error::custom(
                            Invalid::new(format!("claim `{name}` is listed twice"))
                                .hint("list each claim once, with all its globs"),
                        ));
                    }
                    claims.push(Claim {
                        name,
                        globs: globs.0.into_iter().map(|g| g.0).collect(),
                    });
                }
                if claims.is_empty() {
                    return Err(de::Error::custom(Invalid::new("claims is empty").hint(
                        "list at least one claim, e.g. `claims: {repository: [org/app]}`, or leave `claims` out",
                    )));
                }
                Ok(ClaimMap(claims))
            }
        }
        d.deserialize_map(V)
    }
}

/// A claim's name: not empty, no control characters.
struct ClaimName(String);

impl FromText for ClaimName {
    const EXPECTING: &'static str = "a claim name";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        if text.is_empty() || text.chars().any(char::is_control) {
            return Err(Invalid::new(format!(
                "claim name `{}` must be non-empty without control characters",
                text.escape_debug()
            )));
        }
        Ok(ClaimName(text.to_owned()))
    }
}

/// A glob on a claim's values, which must be a quoted string: tokens' numbers
/// and booleans are compared as their JSON text, and YAML would read `010`,
/// `1e3` or `true` as something else.
struct ClaimGlob(Glob);

impl<'de> Deserialize<'de> for ClaimGlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ClaimGlob;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim value glob (a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ClaimGlob, E> {
                Glob::new(v).map(ClaimGlob).map_err(E::custom)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ClaimGlob, E> {
                Err(unquoted_claim(&v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ClaimGlob, E> {
                Err(unquoted_claim(&v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ClaimGlob, E> {
                Err(unquoted_claim(&v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ClaimGlob, E> {
                Err(unquoted_claim(&v))
            }
        }
        d.deserialize_any(V)
    }
}

fn unquoted_claim<E: de::Error>(v: &dyn fmt::Display) -> E {
    E::custom(
        Invalid::new(format!("claim value `{v}` must be a quoted string")).hint(format!(
            "write \"{v}\": a token's numbers and booleans are compared as their JSON text"
        )),
    )
}

#[cfg(test)]
mod tests {
    use crate::condition::Conditions;
    use crate::error::PolicyError;
    use crate::parse;

    const HEAD: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules:\n";

    /// One allow rule `r` with `conditions` (indented by six spaces).
    fn rule(conditions: &str) -> String {
        format!("{HEAD}  - name: r\n    effect: allow\n    conditions:\n{conditions}")
    }

    fn conditions(conditions: &str) -> Conditions {
        let set = parse(&rule(conditions)).unwrap_or_else(|e| panic!("{e}"));
        set.rules()[0].conditions.clone()
    }

    fn error(conditions: &str) -> PolicyError {
        parse(&rule(conditions)).unwrap_err()
    }

    #[test]
    fn workload_conditions_parse_in_document_order() {
        let c = conditions(
            "      issuers: [\"https://token.actions.githubusercontent.com\", \"https://*.company.internal\"]\n      subjects: [\"spiffe://company.internal/ns/prod/*\"]\n      claims:\n        repository: [org/app]\n        ref: [\"refs/heads/main\", \"refs/tags/*\"]\n      users: [\"*\"]\n",
        );
        let text = |globs: &[crate::glob::Glob]| -> Vec<String> {
            globs.iter().map(ToString::to_string).collect()
        };
        assert_eq!(
            text(c.issuers.as_deref().unwrap()),
            [
                "https://token.actions.githubusercontent.com",
                "https://*.company.internal"
            ]
        );
        assert_eq!(
            text(c.subjects.as_deref().unwrap()),
            ["spiffe://company.internal/ns/prod/*"]
        );
        let claims: Vec<String> = c.claims.unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(
            claims,
            [
                "repository: [org/app]",
                "ref: [refs/heads/main, refs/tags/*]"
            ]
        );
    }

    #[test]
    fn a_rule_with_iam_and_workload_conditions_is_refused_with_rule_line_and_hint() {
        let e = parse(&format!(
            "{HEAD}  - name: ok\n    effect: allow\n  - name: mixed\n    effect: allow\n    conditions:\n      principals: [\"arn:aws:iam::123456789012:user/*\"]\n      subjects: [\"spiffe://company.internal/*\"]\n"
        ))
        .unwrap_err();
        assert_eq!(e.rule(), Some("mixed"));
        assert_eq!((e.line(), e.column()), (Some(10), Some(7)));
        assert_eq!(
            e.message(),
            "conditions: `principals` holds for IAM callers only and `subjects` for workloads only, so this rule can never match"
        );
        assert_eq!(
            e.hint(),
            Some(
                "write two rules: one for IAM callers (`principals`, `accounts`) and one for workloads (`issuers`, `subjects`, `claims`)"
            )
        );
        let accounts =
            error("      accounts: [\"123456789012\"]\n      claims: {repository: [org/app]}\n");
        assert!(
            accounts
                .message()
                .contains("`accounts` holds for IAM callers only and `claims` for workloads only"),
            "{accounts}"
        );
        assert_eq!(accounts.rule(), Some("r"));
        // A deny as much as an allow.
        let deny = parse(&format!(
            "{HEAD}  - name: d\n    effect: deny\n    conditions:\n      accounts: [\"123456789012\"]\n      issuers: [\"https://x.example\"]\n"
        ))
        .unwrap_err();
        assert_eq!(deny.rule(), Some("d"));
        assert!(deny.message().contains("can never match"), "{deny}");
    }

    #[test]
    fn an_allow_for_workloads_must_name_its_issuers() {
        // `sub` and claims mean different things at different issuers (two clusters'
        // service accounts, any repository on GitHub): an allow trusts issuers by name.
        for conditions in [
            "      subjects: [\"spiffe://company.internal/*\"]\n",
            "      claims: {repository: [org/app]}\n",
        ] {
            let e = parse(&format!(
                "{HEAD}  - name: w\n    effect: allow\n    conditions:\n{conditions}"
            ))
            .unwrap_err();
            assert_eq!(e.rule(), Some("w"), "{e}");
            assert!(e.message().contains("must name its `issuers`"), "{e}");
            assert!(e.hint().unwrap_or_default().contains("issuers:"), "{e:?}");
        }
        // A deny needs none (it only takes away), and an allow with issuers is fine.
        assert!(
            parse(&format!(
                "{HEAD}  - name: w\n    effect: deny\n    conditions:\n      subjects: [\"spiffe://company.internal/ns/dev/*\"]\n"
            ))
            .is_ok()
        );
        assert!(
            parse(&format!(
                "{HEAD}  - name: w\n    effect: allow\n    conditions:\n      issuers: [\"https://spire.company.internal\"]\n      subjects: [\"spiffe://company.internal/*\"]\n"
            ))
            .is_ok()
        );
    }

    #[test]
    fn claims_are_a_non_empty_mapping_of_names_to_non_empty_glob_lists() {
        let empty = error("      claims: {}\n");
        assert_eq!(empty.message(), "conditions.claims: claims is empty");
        assert_eq!((empty.rule(), empty.line()), (Some("r"), Some(8)));
        assert!(empty.hint().unwrap().contains("leave `claims` out"));
        let no_globs = error("      claims:\n        repository: []\n");
        assert!(
            no_globs
                .message()
                .starts_with("conditions.claims.repository: empty list"),
            "{no_globs}"
        );
        let scalar = error("      claims:\n        repository: org/app\n");
        assert!(scalar.message().contains("expected a list"), "{scalar}");
        assert!(scalar.hint().unwrap().contains("write a list"));
        let not_a_map = error("      claims: [repository]\n");
        assert!(
            not_a_map
                .message()
                .contains("expected a mapping of claim names to lists of globs"),
            "{not_a_map}"
        );
        let unnamed = error("      claims:\n        \"\": [a]\n");
        assert!(
            unnamed
                .message()
                .contains("claim name `` must be non-empty"),
            "{unnamed}"
        );
        let control = error("      claims:\n        \"a\\tb\": [a]\n");
        assert!(
            control.message().contains("claim name `a\\tb`"),
            "{control}"
        );
        let glob = error("      claims:\n        ref: [\"refs/{heads,tags}/*\"]\n");
        assert!(glob.message().contains("uses `{`"), "{glob}");
        // Refused by the typed reader (`claim `ref` is listed twice`); the
        // generic parse that finds syntax errors reports it first.
        let twice = error("      claims:\n        ref: [a]\n        ref: [b]\n");
        assert!(twice.message().contains("duplicate entry"), "{twice}");
        let typed = yaml_serde::from_str::<super::ClaimMap>("ref: [a]\nref: [b]\n")
            .err()
            .map(|e| e.to_string());
        assert!(
            typed
                .as_deref()
                .is_some_and(|e| e.contains("claim `ref` is listed twice")),
            "{typed:?}"
        );
    }

    #[test]
    fn numbers_and_booleans_in_claims_must_be_quoted() {
        for (value, text) in [("1", "1"), ("true", "true"), ("-3", "-3"), ("1.5", "1.5")] {
            let e = error(&format!("      claims:\n        run_attempt: [{value}]\n"));
            assert_eq!(
                e.message(),
                format!(
                    "conditions.claims.run_attempt[0]: claim value `{text}` must be a quoted string"
                ),
            );
            assert_eq!((e.line(), e.column()), (Some(9), Some(23)));
            assert!(e.hint().unwrap().contains("JSON text"), "{e:?}");
        }
        let quoted = conditions(
            "      issuers: [\"https://token.actions.githubusercontent.com\"]\n      claims:\n        run_attempt: [\"1\"]\n        fork: [\"false\"]\n",
        );
        assert_eq!(quoted.claims.map(|c| c.len()), Some(2));
    }

    #[test]
    fn literal_issuers_must_be_https_urls_or_loopback_http() {
        for good in [
            "https://token.actions.githubusercontent.com",
            "https://oidc.company.internal:8443/spire",
            "https://company.auth0.com/",
            "http://localhost:8080",
            "http://127.0.0.1:41234/issuer",
            "http://localhost",
            "https://*.company.internal",
            "http://127.0.0.1:*",
            "*",
        ] {
            let c = conditions(&format!("      issuers: [\"{good}\"]\n"));
            assert!(c.issuers.is_some(), "{good}");
        }
        for (bad, message) in [
            ("http://oidc.company.internal", "does not use https"),
            ("http://localhost.evil.example", "does not use https"),
            ("http://127.0.0.2", "does not use https"),
            ("token.actions.githubusercontent.com", "is not an https URL"),
            (
                "HTTPS://token.actions.githubusercontent.com",
                "is not an https URL",
            ),
            ("https://", "is not a valid URL"),
            ("https://user@oidc.company.internal", "is not a valid URL"),
            ("https://oidc.company.internal:port", "is not a valid URL"),
            ("https://oidc company.internal", "is not a valid URL"),
            ("token.actions.*", "is not an issuer URL glob"),
        ] {
            let e = error(&format!("      issuers: [\"{bad}\"]\n"));
            assert!(e.message().contains(message), "{bad}: {e}");
            assert!(e.message().starts_with("conditions.issuers[0]: "), "{e}");
            assert_eq!((e.rule(), e.line()), (Some("r"), Some(8)), "{bad}");
            assert!(e.hint().is_some(), "{bad}");
        }
        let plain_http = error("      issuers: [\"http://oidc.company.internal\"]\n");
        assert!(plain_http.hint().unwrap().contains("loopback"));
    }

    #[test]
    fn workload_keys_are_strict_like_the_others() {
        for (typo, key) in [
            ("subject", "subjects"),
            ("issuer", "issuers"),
            ("claim", "claims"),
        ] {
            let e = error(&format!("      {typo}: [x]\n"));
            assert!(
                e.message().contains(&format!("unknown field `{typo}`")),
                "{e}"
            );
            assert_eq!(e.hint(), Some(format!("did you mean `{key}`?").as_str()));
        }
        let empty = error("      subjects: []\n");
        assert!(
            empty.message().contains("conditions.subjects: empty list"),
            "{empty}"
        );
        let glob = error("      subjects: [\"spiffe://td/[a]\"]\n");
        assert!(glob.message().contains("uses `[`"), "{glob}");
        let null = error("      issuers:\n");
        assert!(null.message().contains("empty list"), "{null}");
    }
}
