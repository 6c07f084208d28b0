//! Policy evaluation and parsing, as the TVM pays for them on every request
//! (evaluation) and on every cache miss (parsing). Results: `BENCHMARKS.md`.
#![expect(
    clippy::expect_used,
    reason = "benchmark driver: a broken setup must stop loudly"
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::net::IpAddr;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use policy::{Decision, PolicySet, Request};

const HEAD: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-prod\n  max_duration: 4h\nrules:\n";
const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "UTC",
    "Australia/Sydney",
];

/// `count` rules; every rule but the last matches the caller's user and
/// network and fails only on its time window (so the window is evaluated),
/// the last one matches. The rules share their user list and networks, and
/// their windows differ only by zone (`zones` of them), as rules written for
/// one team do.
fn windowed(count: usize, zones: usize) -> String {
    let mut yaml = HEAD.to_owned();
    for i in 0..count.saturating_sub(1) {
        let zone = ZONES.get(i % zones).copied().unwrap_or("UTC");
        write!(
            yaml,
            "  - name: window-{i}\n    effect: allow\n    conditions:\n      users: [alice, \"ops-*\"]\n      source_ips: [\"10.0.0.0/8\", \"2001:db8::/32\"]\n      time:\n        days: [sat, sun]\n        hours: {{start: \"22:00\", end: \"02:00\"}}\n        timezone: {zone}\n    max_duration: 1h\n"
        )
        .expect("write");
    }
    yaml.push_str("  - name: engineers\n    effect: allow\n    conditions:\n      principals: [\"arn:aws:iam::123456789012:user/eng/*\"]\n      source_ips: [\"10.0.0.0/8\"]\n    max_duration: 2h\n");
    yaml
}

/// Like [`windowed`], but no two rules share a condition, so every rule's
/// users, networks and window are evaluated: the worst case for 50 rules.
fn windowed_distinct(count: usize) -> String {
    let mut yaml = HEAD.to_owned();
    for i in 0..count.saturating_sub(1) {
        let zone = ZONES.get(i % ZONES.len()).copied().unwrap_or("UTC");
        let end = i % 9 + 1;
        write!(
            yaml,
            "  - name: window-{i}\n    effect: allow\n    conditions:\n      users: [alice, \"ops-{i}-*\"]\n      source_ips: [\"10.0.0.0/8\", \"172.16.{i}.0/24\"]\n      time:\n        days: [sat, sun]\n        hours: {{start: \"22:00\", end: \"0{end}:00\"}}\n        timezone: {zone}\n    max_duration: 1h\n"
        )
        .expect("write");
    }
    yaml.push_str("  - name: engineers\n    effect: allow\n    conditions:\n      principals: [\"arn:aws:iam::123456789012:user/eng/*\"]\n      source_ips: [\"10.0.0.0/8\"]\n    max_duration: 2h\n");
    yaml
}

/// `count` rules that fail on the user glob (the cheap path), the last matches.
fn many(count: usize) -> String {
    let mut yaml = HEAD.to_owned();
    for i in 0..count.saturating_sub(1) {
        write!(
            yaml,
            "  - name: team-{i}\n    effect: allow\n    conditions:\n      users: [\"team-{i}-*\", \"lead-{i}\"]\n      accounts: [\"123456789012\"]\n"
        )
        .expect("write");
    }
    yaml.push_str("  - name: engineers\n    effect: allow\n    conditions:\n      principals: [\"arn:aws:iam::123456789012:user/eng/*\"]\n");
    yaml
}

fn set(yaml: &str) -> PolicySet {
    policy::parse(yaml).expect("benchmark policy parses")
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

    let mut group = c.benchmark_group("evaluate");
    for (name, yaml) in [
        ("1_rule", windowed(1, 1)),
        ("50_rules_time_windows_1_zone_match_last", windowed(50, 1)),
        ("50_rules_time_windows_5_zones_match_last", windowed(50, 5)),
        (
            "50_rules_distinct_conditions_match_last",
            windowed_distinct(50),
        ),
        ("1000_rules_match_last", many(1000)),
    ] {
        let set = set(&yaml);
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
        group.bench_function(name, |b| {
            b.iter(|| policy::evaluate(black_box(&set), black_box(&request), black_box(now)));
        });
    }
    group.finish();

    let document = windowed(50, 5);
    c.bench_function("parse/50_rules", |b| {
        b.iter(|| policy::parse(black_box(&document)).expect("parses"));
    });
    let explained = set(&windowed(50, 5));
    c.bench_function("explain/50_rules", |b| {
        b.iter(|| policy::explain(black_box(&explained), black_box(&request), black_box(now)));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
