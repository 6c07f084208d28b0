//! Sentinel's policy engine against `cedar-policy` on the same 50-rule sets as
//! `policy/benches/evaluate.rs`. Optional: `scripts/bench.sh --cedar`; results
//! in BENCHMARKS.md ("Side by side: cedar-policy").
//!
//! Both documents are generated from one description of the rules
//! ([`Rule`]), so they say the same thing:
//!
//! - `users` globs become `principal.user == "alice"` / `principal.user like "ops-*"`,
//!   `principals` globs `principal.arn like "arn:...:user/eng/*"`;
//! - `source_ips` become `context has source_ip && context.source_ip.isInRange(ip("10.0.0.0/8"))`
//!   (a request without a source IP matches no network);
//! - a time window becomes comparisons of `context.day_<zone>` (0 = Monday) and
//!   `context.minute_<zone>` (minutes after local midnight). Cedar has no IANA
//!   time zones, so the caller converts the UTC instant into each zone the
//!   policy uses, with chrono-tz, and passes the results in the context. That
//!   conversion is inside Cedar's timed closure, as is everything else a TVM
//!   would do per request: the context (source IP, day and minute per zone),
//!   the principal entity with its attributes, `Entities`, the `Request`, and
//!   `Authorizer::is_authorized`.
//!
//! Every rule is an allow, so the first-match-wins order of Sentinel and
//! Cedar's "some permit and no forbid" give the same allow or deny. Before
//! timing, both engines decide the same grid of requests and instants (two
//! weeks every 15 minutes, across the European and Australian daylight-saving
//! changes) and must agree, with Sentinel's deciding rule among the permits
//! Cedar reports; the benchmarked request must be allowed by `engineers` alone
//! in both, and a request from outside every network denied by both.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::hint::black_box;
use std::net::IpAddr;
use std::str::FromStr as _;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet,
    Response, RestrictedExpression,
};
use chrono::{DateTime, Duration, Offset as _, TimeZone as _, Utc};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};
use policy::{Decision, Request};

const HEAD: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-prod\n  max_duration: 4h\nrules:\n";
const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "UTC",
    "Australia/Sydney",
];
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEKEND: &[u8] = &[5, 6];

/// A time window: days (0 = Monday), `[start, end)` in minutes after local
/// midnight (wrapping midnight when `end < start`), and an IANA zone.
struct Window {
    days: &'static [u8],
    start: u32,
    end: u32,
    zone: &'static str,
}

/// One allow rule, written once and rendered for both engines.
struct Rule {
    name: String,
    users: Vec<String>,
    principals: Vec<String>,
    source_ips: Vec<String>,
    window: Option<Window>,
    max_duration: &'static str,
}

fn engineers() -> Rule {
    Rule {
        name: "engineers".to_owned(),
        users: vec![],
        principals: vec!["arn:aws:iam::123456789012:user/eng/*".to_owned()],
        source_ips: vec!["10.0.0.0/8".to_owned()],
        window: None,
        max_duration: "2h",
    }
}

/// `policy/benches/evaluate.rs`'s `windowed(count, zones)`: every rule but the
/// last matches the caller's user and network and fails only on its window;
/// the rules share their users and networks, their windows differ by zone.
fn windowed(count: usize, zones: usize) -> Vec<Rule> {
    let mut rules: Vec<Rule> = (0..count - 1)
        .map(|i| Rule {
            name: format!("window-{i}"),
            users: vec!["alice".to_owned(), "ops-*".to_owned()],
            principals: vec![],
            source_ips: vec!["10.0.0.0/8".to_owned(), "2001:db8::/32".to_owned()],
            window: Some(Window {
                days: WEEKEND,
                start: 22 * 60,
                end: 2 * 60,
                zone: ZONES[i % zones],
            }),
            max_duration: "1h",
        })
        .collect();
    rules.push(engineers());
    rules
}

/// `policy/benches/evaluate.rs`'s `windowed_distinct(count)`: no two rules
/// share a condition, so every rule's users, networks and window are evaluated.
fn windowed_distinct(count: usize) -> Vec<Rule> {
    let mut rules: Vec<Rule> = (0..count - 1)
        .map(|i| Rule {
            name: format!("window-{i}"),
            users: vec!["alice".to_owned(), format!("ops-{i}-*")],
            principals: vec![],
            source_ips: vec!["10.0.0.0/8".to_owned(), format!("172.16.{i}.0/24")],
            window: Some(Window {
                days: WEEKEND,
                start: 22 * 60,
                end: u32::try_from(i % 9 + 1).expect("small") * 60,
                zone: ZONES[i % ZONES.len()],
            }),
            max_duration: "1h",
        })
        .collect();
    rules.push(engineers());
    rules
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn quoted(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    parts.join(", ")
}

/// The Sentinel policy document.
fn to_yaml(rules: &[Rule]) -> String {
    let mut yaml = HEAD.to_owned();
    for rule in rules {
        write!(
            yaml,
            "  - name: {}\n    effect: allow\n    conditions:\n",
            rule.name
        )
        .expect("write");
        if !rule.users.is_empty() {
            writeln!(yaml, "      users: [{}]", quoted(&rule.users)).expect("write");
        }
        if !rule.principals.is_empty() {
            writeln!(yaml, "      principals: [{}]", quoted(&rule.principals)).expect("write");
        }
        if !rule.source_ips.is_empty() {
            writeln!(yaml, "      source_ips: [{}]", quoted(&rule.source_ips)).expect("write");
        }
        if let Some(w) = &rule.window {
            let days: Vec<&str> = w.days.iter().map(|d| DAY_NAMES[usize::from(*d)]).collect();
            write!(
                yaml,
                "      time:\n        days: [{}]\n        hours: {{start: \"{}\", end: \"{}\"}}\n        timezone: {}\n",
                days.join(", "),
                hhmm(w.start),
                hhmm(w.end),
                w.zone
            )
            .expect("write");
        }
        writeln!(yaml, "    max_duration: {}", rule.max_duration).expect("write");
    }
    yaml
}

/// The context key suffix for a zone: `Europe/Berlin` -> `europe_berlin`.
fn zone_key(zone: &str) -> String {
    zone.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A Sentinel glob as a Cedar string test. Only `*` is used by these sets;
/// Cedar's `like` has no `?`.
fn glob(attribute: &str, pattern: &str) -> String {
    assert!(!pattern.contains('?'), "`?` has no Cedar equivalent");
    if pattern.contains('*') {
        format!("{attribute} like \"{pattern}\"")
    } else {
        format!("{attribute} == \"{pattern}\"")
    }
}

fn any(parts: Vec<String>) -> String {
    format!("({})", parts.join(" || "))
}

fn day_in(day: &str, days: &[u8]) -> String {
    any(days.iter().map(|d| format!("{day} == {d}")).collect())
}

/// The Cedar policy set: one `permit` per rule, `@id` naming the rule.
fn to_cedar(rules: &[Rule]) -> String {
    let mut cedar = String::new();
    for rule in rules {
        let mut when: Vec<String> = Vec::new();
        if !rule.users.is_empty() {
            when.push(any(rule
                .users
                .iter()
                .map(|u| glob("principal.user", u))
                .collect()));
        }
        if !rule.principals.is_empty() {
            when.push(any(rule
                .principals
                .iter()
                .map(|p| glob("principal.arn", p))
                .collect()));
        }
        if !rule.source_ips.is_empty() {
            // A request without a source IP matches no network (and reading
            // an absent attribute would be an evaluation error in Cedar).
            when.push(format!(
                "(context has source_ip && {})",
                any(rule
                    .source_ips
                    .iter()
                    .map(|n| format!("context.source_ip.isInRange(ip(\"{n}\"))"))
                    .collect())
            ));
        }
        if let Some(w) = &rule.window {
            let key = zone_key(w.zone);
            let (day, minute) = (
                format!("context.day_{key}"),
                format!("context.minute_{key}"),
            );
            let end = if w.end >= 24 * 60 {
                "true".to_owned()
            } else {
                format!("{minute} < {}", w.end)
            };
            if w.end < w.start {
                // Wraps midnight and belongs to the day it starts: the days
                // themselves from `start`, and the day after each until `end`.
                let next: Vec<u8> = w.days.iter().map(|d| (d + 1) % 7).collect();
                when.push(format!(
                    "(({} && {minute} >= {}) || ({} && {end}))",
                    day_in(&day, w.days),
                    w.start,
                    day_in(&day, &next)
                ));
            } else {
                when.push(format!(
                    "({} && {minute} >= {} && {end})",
                    day_in(&day, w.days),
                    w.start
                ));
            }
        }
        write!(
            cedar,
            "@id(\"{}\")\npermit (principal, action, resource)\nwhen {{\n  {}\n}};\n\n",
            rule.name,
            when.join(" &&\n  ")
        )
        .expect("write");
    }
    cedar
}

/// The zones a rule set's windows use, in first-use order.
fn zones_of(rules: &[Rule]) -> Vec<&'static str> {
    let mut zones: Vec<&'static str> = Vec::new();
    for zone in rules
        .iter()
        .filter_map(|r| r.window.as_ref().map(|w| w.zone))
    {
        if !zones.contains(&zone) {
            zones.push(zone);
        }
    }
    zones
}

/// What the Cedar caller prepares once per policy: the engine, the policies,
/// the fixed parts of every request, and per zone its context keys.
struct CedarSide {
    authorizer: Authorizer,
    policies: PolicySet,
    user_type: EntityTypeName,
    action: EntityUid,
    resource: EntityUid,
    zones: Vec<(Tz, String, String)>,
}

impl CedarSide {
    fn new(rules: &[Rule]) -> Self {
        let policies = PolicySet::from_str(&to_cedar(rules)).expect("Cedar policies parse");
        let zones = zones_of(rules)
            .into_iter()
            .map(|z| {
                let key = zone_key(z);
                (
                    z.parse::<Tz>().expect("IANA zone"),
                    format!("day_{key}"),
                    format!("minute_{key}"),
                )
            })
            .collect();
        Self {
            authorizer: Authorizer::new(),
            policies,
            user_type: EntityTypeName::from_str("User").expect("type name"),
            action: EntityUid::from_str(r#"Action::"AssumeRole""#).expect("action"),
            resource: EntityUid::from_str(r#"Profile::"prod""#).expect("resource"),
            zones,
        }
    }

    /// The per-request work of a TVM deciding with Cedar, from the same
    /// inputs as [`policy::evaluate`]: the request and the UTC instant.
    fn decide(&self, request: &Request<'_>, now: DateTime<Utc>) -> Response {
        let timestamp = now.timestamp();
        let mut context: Vec<(String, RestrictedExpression)> =
            Vec::with_capacity(1 + 2 * self.zones.len());
        if let Some(ip) = request.source_ip {
            context.push((
                "source_ip".to_owned(),
                RestrictedExpression::new_ip(ip.to_string()),
            ));
        }
        for (zone, day_key, minute_key) in &self.zones {
            let (day, minute) = local(now, timestamp, *zone);
            context.push((day_key.clone(), RestrictedExpression::new_long(day)));
            context.push((minute_key.clone(), RestrictedExpression::new_long(minute)));
        }
        let context = Context::from_pairs(context).expect("context");
        let principal = EntityUid::from_type_name_and_id(
            self.user_type.clone(),
            EntityId::new(request.principal_arn),
        );
        let user = Entity::new(
            principal.clone(),
            HashMap::from([
                (
                    "user".to_owned(),
                    RestrictedExpression::new_string(request.user.to_owned()),
                ),
                (
                    "arn".to_owned(),
                    RestrictedExpression::new_string(request.principal_arn.to_owned()),
                ),
                (
                    "account".to_owned(),
                    RestrictedExpression::new_string(request.account_id.to_owned()),
                ),
            ]),
            HashSet::new(),
        )
        .expect("entity");
        let entities = Entities::from_entities([user], None).expect("entities");
        let cedar_request = cedar_policy::Request::new(
            principal,
            self.action.clone(),
            self.resource.clone(),
            context,
            None,
        )
        .expect("request");
        self.authorizer
            .is_authorized(&cedar_request, &self.policies, &entities)
    }

    /// The rules (by `@id`) whose permits held; panics on evaluation errors,
    /// which Cedar would otherwise skip silently.
    fn permits(&self, response: &Response) -> BTreeSet<String> {
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "Cedar evaluation errors: {errors:?}");
        response
            .diagnostics()
            .reason()
            .map(|id| {
                self.policies
                    .annotation(id, "id")
                    .expect("every policy has an @id")
                    .to_owned()
            })
            .collect()
    }
}

/// Local weekday (0 = Monday) and minute after local midnight, the way the
/// policy engine computes them (the zone's offset, then arithmetic).
fn local(now: DateTime<Utc>, timestamp: i64, zone: Tz) -> (i64, i64) {
    let offset = zone.offset_from_utc_datetime(&now.naive_utc()).fix();
    let local = timestamp + i64::from(offset.local_minus_utc());
    let day = (local.div_euclid(86_400) + 3).rem_euclid(7);
    (day, local.rem_euclid(86_400) / 60)
}

/// Both engines decide a grid of requests and instants and must agree.
fn check_equivalent(name: &str, set: &policy::PolicySet, cedar: &CedarSide) {
    let callers = [
        ("arn:aws:iam::123456789012:user/eng/alice", "alice"),
        ("arn:aws:iam::123456789012:user/ops/ops-3-bob", "ops-3-bob"),
        ("arn:aws:iam::123456789012:user/alice", "alice"),
        ("arn:aws:iam::123456789012:user/mallory", "mallory"),
    ];
    let sources: [Option<IpAddr>; 5] = [
        Some(IpAddr::from([10, 1, 2, 3])),
        Some(IpAddr::from([172, 16, 3, 9])),
        Some(IpAddr::from([192, 0, 2, 1])),
        Some("2001:db8::1".parse().expect("address")),
        None,
    ];
    // Two weeks from Monday 2026-03-23, every 15 minutes: Europe moves to
    // summer time on the 29th, Sydney to winter time on 5 April.
    let start = Utc
        .with_ymd_and_hms(2026, 3, 23, 0, 0, 0)
        .single()
        .expect("instant");
    let (mut allowed, mut by_window, mut denied) = (0, 0, 0);
    for step in 0..14 * 96 {
        let now = start + Duration::minutes(15 * step);
        for (principal_arn, user) in callers {
            for source_ip in sources {
                let request = Request {
                    principal_arn,
                    user,
                    account_id: "123456789012",
                    source_ip,
                    requested_duration: Some(3600),
                    workload: None,
                };
                let ours = policy::evaluate(set, &request, now);
                let theirs = cedar.decide(&request, now);
                let permits = cedar.permits(&theirs);
                assert_eq!(
                    ours.is_allow(),
                    theirs.decision() == cedar_policy::Decision::Allow,
                    "{name}: {request:?} at {now}: {ours:?} vs {permits:?}"
                );
                match ours {
                    Decision::Allow { rule, .. } => {
                        assert!(
                            permits.contains(rule),
                            "{name}: {request:?} at {now}: {rule} not in {permits:?}"
                        );
                        allowed += 1;
                        if rule != "engineers" {
                            by_window += 1;
                        }
                    }
                    Decision::Deny { rule, .. } => {
                        assert_eq!(rule, None, "{name}: only allow rules");
                        assert!(permits.is_empty(), "{name}: {permits:?}");
                        denied += 1;
                    }
                }
            }
        }
    }
    assert!(
        allowed > 0 && by_window > 0 && denied > 0,
        "{name}: the grid must exercise every outcome ({allowed} allowed, {by_window} by a window, {denied} denied)"
    );
    eprintln!(
        "{name}: both engines agree on {} decisions ({allowed} allowed, {by_window} of them by a time window, {denied} denied)",
        allowed + denied
    );
}

fn bench(c: &mut Criterion) {
    let request = Request {
        principal_arn: "arn:aws:iam::123456789012:user/eng/alice",
        user: "alice",
        account_id: "123456789012",
        source_ip: Some(IpAddr::from([10, 1, 2, 3])),
        requested_duration: Some(3600),
        workload: None,
    };
    // A Wednesday noon: no weekend-night window holds.
    let now = Utc
        .with_ymd_and_hms(2026, 3, 4, 12, 0, 0)
        .single()
        .expect("valid instant");
    let outsider = Request {
        source_ip: Some(IpAddr::from([192, 0, 2, 1])),
        ..request
    };

    let sets = [
        ("50_rules_time_windows_1_zone_match_last", windowed(50, 1)),
        ("50_rules_time_windows_5_zones_match_last", windowed(50, 5)),
        (
            "50_rules_distinct_conditions_match_last",
            windowed_distinct(50),
        ),
    ];
    let mut group = c.benchmark_group("evaluate");
    for (name, rules) in &sets {
        let set = policy::parse(&to_yaml(rules)).expect("Sentinel policy parses");
        let cedar = CedarSide::new(rules);
        check_equivalent(name, &set, &cedar);

        // The benchmarked request: allowed by `engineers` alone, in both.
        assert!(
            matches!(
                policy::evaluate(&set, &request, now),
                Decision::Allow {
                    rule: "engineers",
                    ..
                }
            ),
            "{name}: the last rule must decide"
        );
        let response = cedar.decide(&request, now);
        assert_eq!(response.decision(), cedar_policy::Decision::Allow, "{name}");
        assert_eq!(
            cedar.permits(&response),
            BTreeSet::from(["engineers".to_owned()]),
            "{name}"
        );
        // And one both must deny: outside every network.
        assert_eq!(
            policy::evaluate(&set, &outsider, now),
            Decision::Deny {
                rule: None,
                reason: None
            },
            "{name}"
        );
        let response = cedar.decide(&outsider, now);
        assert_eq!(response.decision(), cedar_policy::Decision::Deny, "{name}");
        assert!(cedar.permits(&response).is_empty(), "{name}");

        group.bench_function(format!("sentinel/{name}"), |b| {
            b.iter(|| policy::evaluate(black_box(&set), black_box(&request), black_box(now)));
        });
        group.bench_function(format!("cedar/{name}"), |b| {
            b.iter(|| cedar.decide(black_box(&request), black_box(now)));
        });
        // Where Cedar's time goes: `is_authorized` alone, on a request built
        // once outside the loop (not what a TVM can do: its context changes).
        let prebuilt = {
            let mut context: Vec<(String, RestrictedExpression)> = vec![(
                "source_ip".to_owned(),
                RestrictedExpression::new_ip("10.1.2.3"),
            )];
            for (zone, day_key, minute_key) in &cedar.zones {
                let (day, minute) = local(now, now.timestamp(), *zone);
                context.push((day_key.clone(), RestrictedExpression::new_long(day)));
                context.push((minute_key.clone(), RestrictedExpression::new_long(minute)));
            }
            let principal = EntityUid::from_type_name_and_id(
                cedar.user_type.clone(),
                EntityId::new(request.principal_arn),
            );
            let user = Entity::new(
                principal.clone(),
                HashMap::from([
                    (
                        "user".to_owned(),
                        RestrictedExpression::new_string("alice".to_owned()),
                    ),
                    (
                        "arn".to_owned(),
                        RestrictedExpression::new_string(request.principal_arn.to_owned()),
                    ),
                    (
                        "account".to_owned(),
                        RestrictedExpression::new_string("123456789012".to_owned()),
                    ),
                ]),
                HashSet::new(),
            )
            .expect("entity");
            (
                cedar_policy::Request::new(
                    principal,
                    cedar.action.clone(),
                    cedar.resource.clone(),
                    Context::from_pairs(context).expect("context"),
                    None,
                )
                .expect("request"),
                Entities::from_entities([user], None).expect("entities"),
            )
        };
        let (cedar_request, entities) = &prebuilt;
        assert_eq!(
            cedar
                .authorizer
                .is_authorized(cedar_request, &cedar.policies, entities)
                .decision(),
            cedar_policy::Decision::Allow
        );
        group.bench_function(format!("cedar_is_authorized_only/{name}"), |b| {
            b.iter(|| {
                cedar.authorizer.is_authorized(
                    black_box(cedar_request),
                    black_box(&cedar.policies),
                    black_box(entities),
                )
            });
        });
    }
    group.finish();

    let rules = windowed(50, 5);
    let (yaml, cedar_text) = (to_yaml(&rules), to_cedar(&rules));
    eprintln!(
        "parse/50_rules: Sentinel document {} bytes, Cedar policy set {} bytes",
        yaml.len(),
        cedar_text.len()
    );
    let mut group = c.benchmark_group("parse");
    group.bench_function("sentinel/50_rules", |b| {
        b.iter(|| policy::parse(black_box(&yaml)).expect("parses"));
    });
    group.bench_function("cedar/50_rules", |b| {
        b.iter(|| PolicySet::from_str(black_box(&cedar_text)).expect("parses"));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
