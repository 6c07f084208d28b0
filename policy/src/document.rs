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

use std::fmt;
use std::marker::PhantomData;

use chrono_tz::Tz;
use ipnet::IpNet;
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::condition::{Checks, Conditions};
use crate::error::{HINT_MARK, Invalid, PolicyError};
use crate::glob::Glob;
use crate::lint;
use crate::network::Network;
use crate::set::{Effect, PolicySet, Profile, Rule};
use crate::window::{self, Days, Hours, TimeWindow};
use sentinel_types::{AccountId, RoleArn, SessionDuration};

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
    rules: RuleList,
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

/// `profile`: checked as a whole (default within max, tags) before it is left.
struct ProfileSection(Profile);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFields {
    role_arn: Text<RoleArn>,
    #[serde(default)]
    default_duration: Present<Seconds>,
    #[serde(default)]
    max_duration: Present<Seconds>,
    #[serde(default)]
    session_tags: Present<TagList>,
}

impl<'de> Deserialize<'de> for ProfileSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "the profile: a mapping with `role_arn` and optional `default_duration`, `max_duration`, `session_tags`",
            |f: ProfileFields| {
                let default_duration = f
                    .default_duration
                    .0
                    .map_or(SessionDuration::DEFAULT, |s| s.0);
                let max_duration = f.max_duration.0.map(|s| s.0);
                if let Some(max) = max_duration.filter(|max| default_duration > *max) {
                    return Err(Invalid::new(format!(
                        "default_duration `{}` is longer than max_duration `{}`",
                        default_duration,
                        max
                    ))
                    .hint("lower default_duration or raise max_duration (default_duration is 15m when left out)"));
                }
                Ok(ProfileSection(Profile {
                    role_arn: f.role_arn.0,
                    default_duration: default_duration.secs(),
                    max_duration: max_duration.map(SessionDuration::secs),
                    session_tags: f.session_tags.0.map(|t| t.0).unwrap_or_default(),
                }))
            },
        )
    }
}

/// `session_tags`: a mapping of strings, kept in document order.
struct TagList(Vec<(String, String)>);

impl<'de> Deserialize<'de> for TagList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of session tag keys to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TagList, A::Error> {
                let mut tags = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    tags.push((key, value));
                }
                sentinel_types::tags::check_profile_tags(&tags)
                    .map_err(|e| de::Error::custom(Invalid::from(e)))?;
                Ok(TagList(tags))
            }
        }
        d.deserialize_map(V)
    }
}

/// `rules`: a list of rules with unique names.
struct RuleList(Vec<RawRule>);

impl<'de> Deserialize<'de> for RuleList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RuleList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of rules")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RuleList, A::Error> {
                let mut rules: Vec<RawRule> = Vec::new();
                while let Some(rule) = seq.next_element_seed(RuleSeed { earlier: &rules })? {
                    rules.push(rule);
                }
                Ok(RuleList(rules))
            }
        }
        d.deserialize_seq(V)
    }
}

/// One rule, checked (including against the rules before it) while its
/// mapping is current, so errors point at the rule.
struct RuleSeed<'a> {
    earlier: &'a [RawRule],
}

struct RawRule {
    name: String,
    effect: Effect,
    conditions: Conditions,
    max_duration: Option<u32>,
    reason: Option<String>,
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

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum EffectField {
    Allow,
    Deny,
}

impl<'de> DeserializeSeed<'de> for RuleSeed<'_> {
    type Value = RawRule;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawRule, D::Error> {
        checked_map(
            d,
            "a rule: a mapping with `name`, `effect` and optional `conditions`, `max_duration`, `reason`",
            |f: RuleFields| {
                let name = f.name.0.0;
                if self.earlier.iter().any(|r| r.name == name) {
                    return Err(Invalid::new(format!("duplicate rule name `{name}`"))
                        .hint("rule names must be unique in a policy"));
                }
                let effect = match f.effect {
                    EffectField::Allow => Effect::Allow,
                    EffectField::Deny => Effect::Deny,
                };
                let max_duration = f.max_duration.0.map(|s| s.0.secs());
                if effect == Effect::Deny && max_duration.is_some() {
                    return Err(Invalid::new("max_duration has no meaning on a deny rule")
                        .hint("remove max_duration, or make the rule an allow"));
                }
                Ok(RawRule {
                    name,
                    effect,
                    conditions: f.conditions.0.map(|c| c.0).unwrap_or_default(),
                    max_duration,
                    reason: f.reason.0.map(|r| r.0.0),
                })
            },
        )
    }
}

/// `conditions`: when present, at least one condition (an absent key matches
/// anything, so an empty section would be an accidental catch-all).
struct ConditionsSection(Conditions);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionFields {
    #[serde(default)]
    users: Present<NonEmpty<Text<UserGlob>>>,
    #[serde(default)]
    principals: Present<NonEmpty<Text<PrincipalGlob>>>,
    #[serde(default)]
    accounts: Present<NonEmpty<Account>>,
    #[serde(default)]
    source_ips: Present<NonEmpty<Text<NetworkText>>>,
    #[serde(default)]
    time: Present<TimeSection>,
}

impl<'de> Deserialize<'de> for ConditionsSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "conditions: a mapping with `users`, `principals`, `accounts`, `source_ips` or `time`",
            |f: ConditionFields| {
                let conditions = Conditions {
                    users: f.users.0.map(|l| l.0.into_iter().map(|g| g.0.0).collect()),
                    principals: f
                        .principals
                        .0
                        .map(|l| l.0.into_iter().map(|g| g.0.0).collect()),
                    accounts: f.accounts.0.map(|l| l.0.into_iter().map(|a| a.0).collect()),
                    source_ips: f
                        .source_ips
                        .0
                        .map(|l| l.0.into_iter().map(|n| n.0.0).collect()),
                    time: f.time.0.map(|t| t.0),
                };
                if conditions == Conditions::default() {
                    return Err(Invalid::new("conditions is empty").hint(
                        "leave `conditions` out to match every request, or add a condition",
                    ));
                }
                Ok(ConditionsSection(conditions))
            },
        )
    }
}

/// `time`: `days`, `hours` or both, in `timezone` (UTC by default).
struct TimeSection(TimeWindow);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeFields {
    #[serde(default)]
    days: Present<NonEmpty<Text<DayName>>>,
    #[serde(default)]
    hours: Present<HoursSection>,
    #[serde(default)]
    timezone: Present<Text<Zone>>,
}

impl<'de> Deserialize<'de> for TimeSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "time: a mapping with `days`, `hours` and optional `timezone`",
            |f: TimeFields| {
                if f.days.0.is_none() && f.hours.0.is_none() {
                    return Err(Invalid::new("time has neither `days` nor `hours`")
                        .hint("add `days: [mon, tue, wed, thu, fri]` or `hours: {start: \"09:00\", end: \"17:00\"}`"));
                }
                Ok(TimeSection(TimeWindow {
                    days: f.days.0.map(|l| {
                        l.0.into_iter()
                            .fold(Days::empty(), |all, d| all.union(d.0.0))
                    }),
                    hours: f.hours.0.map(|h| h.0),
                    zone: f.timezone.0.map_or(Tz::UTC, |z| z.0.0),
                    zone_slot: 0,
                }))
            },
        )
    }
}

struct HoursSection(Hours);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFields {
    start: Text<StartTime>,
    end: Text<EndTime>,
}

impl<'de> Deserialize<'de> for HoursSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "hours: a mapping with `start` and `end`",
            |f: HoursFields| Hours::new(f.start.0.0, f.end.0.0).map(HoursSection),
        )
    }
}

// ---------------------------------------------------------------------------
// Building blocks.

/// Deserializes `R` from a mapping, then runs `check` while the YAML
/// deserializer still stands on that mapping, so a refusal carries the
/// mapping's line, column and path.
fn checked_map<'de, D, R, T, F>(d: D, expecting: &'static str, check: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    R: Deserialize<'de>,
    F: FnOnce(R) -> Result<T, Invalid>,
{
    struct V<R, F> {
        expecting: &'static str,
        check: F,
        raw: PhantomData<R>,
    }
    impl<'de, R, T, F> Visitor<'de> for V<R, F>
    where
        R: Deserialize<'de>,
        F: FnOnce(R) -> Result<T, Invalid>,
    {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let raw = R::deserialize(MapAccessDeserializer::new(map))?;
            (self.check)(raw).map_err(de::Error::custom)
        }
    }
    d.deserialize_map(V {
        expecting,
        check,
        raw: PhantomData,
    })
}

/// An optional key: absent is `None`, but an explicit null is an error
/// (`max_duration:` with nothing after it is a mistake, not "no maximum").
struct Present<T>(Option<T>);

impl<T> Default for Present<T> {
    fn default() -> Self {
        Present(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Present<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|v| Present(Some(v)))
    }
}

/// A list with at least one item: an empty condition list would never hold.
struct NonEmpty<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NonEmpty<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = NonEmpty<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NonEmpty<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                if items.is_empty() {
                    return Err(de::Error::custom(Invalid::new("empty list").hint(
                        "a condition with no values never holds: list at least one, or leave the key out to match anything",
                    )));
                }
                Ok(NonEmpty(items))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// A scalar checked by `T::from_text`.
struct Text<T>(T);

trait FromText: Sized {
    const EXPECTING: &'static str;
    fn from_text(text: &str) -> Result<Self, Invalid>;
}

impl<'de, T: FromText> Deserialize<'de> for Text<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<T: FromText> Visitor<'_> for V<T> {
            type Value = Text<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<T>, E> {
                T::from_text(v).map(Text).map_err(E::custom)
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

impl FromText for RoleArn {
    const EXPECTING: &'static str = "an IAM role ARN";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        Ok(RoleArn::parse(text)?)
    }
}

struct RuleName(String);

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

struct Reason(String);

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

struct UserGlob(Glob);

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

struct PrincipalGlob(Glob);

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

struct NetworkText(Network);

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

struct DayName(Days);

impl FromText for DayName {
    const EXPECTING: &'static str = "a day (mon..sun)";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        let mut day = Days::empty();
        day.insert(text)?;
        Ok(DayName(day))
    }
}

struct Zone(Tz);

impl FromText for Zone {
    const EXPECTING: &'static str = "an IANA time zone name";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        window::zone(text).map(Zone)
    }
}

struct StartTime(u32);

impl FromText for StartTime {
    const EXPECTING: &'static str = "a time of day such as \"09:00\"";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        window::start_time(text).map(StartTime)
    }
}

struct EndTime(u32);

impl FromText for EndTime {
    const EXPECTING: &'static str = "a time of day such as \"17:00\" or \"24:00\"";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        window::end_time(text).map(EndTime)
    }
}

/// A duration: seconds as an integer, or text such as `15m`.
struct Seconds(SessionDuration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 900, 900s, 15m or 1h")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                SessionDuration::from_secs(v)
                    .map(Seconds)
                    .map_err(|e| E::custom(Invalid::from(e)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                // A negative number is as out of range as zero.
                self.visit_u64(u64::try_from(v).unwrap_or(0))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                v.parse::<SessionDuration>()
                    .map(Seconds)
                    .map_err(|e| E::custom(Invalid::from(e)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A 12-digit account ID, which must be quoted: YAML reads unquoted digits as
/// a number and drops leading zeros.
struct Account(String);

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

// ---------------------------------------------------------------------------
// After deserialization.

impl PolicyDocument {
    fn compile(self, yaml: &str) -> PolicySet {
        let names: Vec<&str> = self.rules.iter().map(|r| r.name.as_str()).collect();
        let (rules_at, positions) = rule_positions(yaml, &names);
        let mut zones: Vec<Tz> = Vec::new();
        let mut predicates = Vec::new();
        let rules: Vec<Rule> =
            self.rules
                .into_iter()
                .zip(positions)
                .map(|(raw, at)| {
                    let mut conditions = raw.conditions;
                    if let Some(window) = &mut conditions.time {
                        window.zone_slot = zones
                            .iter()
                            .position(|z| *z == window.zone)
                            .unwrap_or_else(|| {
                                zones.push(window.zone);
                                zones.len() - 1
                            });
                    }
                    Rule {
                        name: raw.name,
                        effect: raw.effect,
                        checks: Checks::compile(&conditions, &mut predicates),
                        conditions,
                        max_duration: raw.max_duration,
                        reason: raw.reason,
                        line: at.map(|(l, _)| l),
                        column: at.map(|(_, c)| c),
                    }
                })
                .collect();
        let lints = lint::check(&rules, rules_at);
        PolicySet {
            profile: self.profile,
            rules,
            lints,
            predicates,
        }
    }
}

type Position = (usize, usize);

/// Where the top-level `rules` key and each rule's `name:` are, for lints and
/// tools. A light scan of block-style YAML (the deserializer reports no
/// positions for values it accepted); a rule written in flow style gets `None`.
fn rule_positions(yaml: &str, names: &[&str]) -> (Option<Position>, Vec<Option<Position>>) {
    let mut rules_at = None;
    let mut in_rules = false;
    let mut found: Vec<(Position, String)> = Vec::new();
    for (index, line) in yaml.lines().enumerate() {
        let number = index + 1;
        let first = line.chars().next();
        if first.is_some_and(|c| !c.is_whitespace() && c != '#' && c != '-') {
            in_rules = key_value(line, "rules").is_some();
            if in_rules {
                rules_at = Some((number, 1));
            }
            continue;
        }
        if !in_rules {
            continue;
        }
        // Skip indentation and sequence dashes: `  - name: x`.
        let mut rest = line;
        loop {
            let trimmed = rest.trim_start_matches(' ');
            if let Some(after) = trimmed.strip_prefix('-').filter(|a| a.starts_with(' ')) {
                rest = after;
            } else {
                rest = trimmed;
                break;
            }
        }
        if let Some(value) = key_value(rest, "name") {
            let column = line.len() - rest.len() + 1;
            found.push(((number, column), value));
        }
    }
    let mut used = vec![false; found.len()];
    let positions = names
        .iter()
        .map(|name| {
            let hit = found
                .iter()
                .zip(used.iter_mut())
                .find(|((_, value), used)| !**used && value == name)?;
            *hit.1 = true;
            Some(hit.0.0)
        })
        .collect();
    (rules_at, positions)
}

/// `key: value` at the start of `text` -> the value, unquoted, without comment.
fn key_value(text: &str, key: &str) -> Option<String> {
    let after = text.strip_prefix(key)?.trim_start_matches(' ');
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) {
        return None;
    }
    let value = value.trim();
    Some(if let Some(inner) = value.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        out
    } else if let Some(inner) = value.strip_prefix('\'') {
        inner.split("'").next().unwrap_or_default().to_owned()
    } else {
        value
            .split(" #")
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_owned()
    })
}

/// Turns the YAML deserializer's error into a [`PolicyError`]: location,
/// rule name (looked up from the path), message and hint.
///
/// The typed deserializer reads events lazily, so in a document that is broken
/// further down it may first trip over a missing key; the generic parse finds
/// the syntax error, which is the one to report.
fn translate(typed: &yaml_serde::Error, yaml: &str) -> PolicyError {
    let document = yaml_serde::from_str::<yaml_serde::Value>(yaml);
    let error = document.as_ref().err().unwrap_or(typed);
    let location = error.location();
    let mut text = error.to_string();
    if let Some(at) = &location {
        let suffix = format!(" at line {} column {}", at.line(), at.column());
        if let Some(start) = text.find(&suffix) {
            text.replace_range(start..start + suffix.len(), "");
        }
    }
    let (path, rest) = match text.split_once(": ") {
        Some((path, rest)) if is_path(path) => (Some(path.to_owned()), rest.to_owned()),
        _ => (None, text.clone()),
    };
    let (message, hint) = match rest.split_once(HINT_MARK) {
        Some((message, hint)) => (message.to_owned(), Some(hint.to_owned())),
        None => (rest.clone(), None),
    };
    let hint = hint.or_else(|| suggestion(&message));
    let (rule, field) = match (&path, document.ok()) {
        (Some(path), Some(document)) => split_rule(path, &document),
        (path, _) => (None, path.clone()),
    };
    let message = match field {
        Some(field) => format!("{field}: {message}"),
        None => message,
    };
    let mut out = PolicyError::new(message).in_rule(rule).with_hint(hint);
    if let Some(at) = location {
        out = out.at(at.line(), at.column());
    }
    out
}

fn is_path(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-' | '?'))
}

/// `rules[2].conditions.users[0]` -> (name of rule 2, `conditions.users[0]`);
/// other paths stay whole.
fn split_rule(path: &str, document: &yaml_serde::Value) -> (Option<String>, Option<String>) {
    let whole = (None, Some(path.to_owned()));
    let Some(rest) = path.strip_prefix("rules[") else {
        return whole;
    };
    let Some((index, field)) = rest.split_once(']') else {
        return whole;
    };
    let Ok(index) = index.parse::<usize>() else {
        return whole;
    };
    let name = document
        .get("rules")
        .and_then(|rules| rules.get(index))
        .and_then(|rule| rule.get("name"))
        .and_then(yaml_serde::Value::as_str)
        .map(str::to_owned);
    let field = field.strip_prefix('.').unwrap_or(field);
    match name {
        Some(name) => (Some(name), (!field.is_empty()).then(|| field.to_owned())),
        None => whole,
    }
}

/// `did you mean ...?` for unknown keys and effects.
fn suggestion(message: &str) -> Option<String> {
    if message.starts_with("invalid type: ") && message.ends_with("expected a list") {
        return Some("write a list, such as `[alice, bob]` or one `- item` per line".to_owned());
    }
    let (kind, rest) = if let Some(rest) = message.strip_prefix("unknown field `") {
        ("key", rest)
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        ("value", rest)
    } else {
        return None;
    };
    let (given, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (edit_distance(&given.to_lowercase(), c), *c))
        .min()?;
    if best.0 <= 2 {
        Some(format!("did you mean `{}`?", best.1))
    } else if candidates.is_empty() {
        None
    } else {
        Some(format!(
            "valid {kind}s here: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute =
                previous.get(j).copied().unwrap_or(usize::MAX) + usize::from(ca != *cb);
            let delete = previous
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insert = current
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_scan_finds_rule_names_in_block_style() {
        let yaml = "version: \"1\"\nrules:\n- name: \"a b\"  # c\n  effect: allow\n-   name: 'c'\n    effect: deny\n- {name: d, effect: deny}\n";
        let (rules_at, at) = rule_positions(yaml, &["a b", "c", "d"]);
        assert_eq!(rules_at, Some((2, 1)));
        assert_eq!(at, vec![Some((3, 3)), Some((5, 5)), None]);
    }

    #[test]
    fn suggestions_use_edit_distance() {
        assert_eq!(edit_distance("alow", "allow"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(
            suggestion("unknown field `source_ip`, expected one of `users`, `source_ips`")
                .as_deref(),
            Some("did you mean `source_ips`?")
        );
        assert_eq!(
            suggestion("unknown variant `permit`, expected `allow` or `deny`").as_deref(),
            Some("valid values here: `allow`, `deny`")
        );
    }
}
