//! Arbitrary bytes as a policy document and a request: parsing must never
//! panic, and whatever parses must evaluate without panicking, with `explain`
//! agreeing and the granted duration within its caps.
//!
//! Input: `<policy text> NUL <request bytes>`; the request bytes pick the
//! caller, source IP, requested duration and instant.
#![no_main]

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use policy::{Decision, Request};
use sentinel_types::SessionDuration;

const MIN_DURATION_SECS: u32 = SessionDuration::MIN.secs();
const MAX_DURATION_SECS: u32 = SessionDuration::MAX.secs();

const PRINCIPALS: [(&str, &str); 4] = [
    ("arn:aws:iam::123456789012:user/eng/alice", "alice"),
    ("arn:aws:iam::123456789012:user/ops-1", "ops-1"),
    ("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_A/bob", "bob"),
    ("arn:aws:sts::123456789012:assumed-role/deployer/ci", "deployer/ci"),
];

fuzz_target!(|data: &[u8]| {
    let (text, rest) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(set) = policy::parse(text) else {
        return;
    };
    let byte = |i: usize| rest.get(i).copied().unwrap_or(0);
    let (principal, user) = PRINCIPALS[usize::from(byte(0)) % PRINCIPALS.len()];
    let source_ip = match byte(1) % 3 {
        0 => None,
        1 => Some(IpAddr::from([byte(2), byte(3), byte(4), byte(5)])),
        _ => Some(IpAddr::from([0x2001, 0xdb8, u16::from(byte(2)), 0, 0, 0, 0, u16::from(byte(3))])),
    };
    let requested_duration = (byte(6) % 2 == 1).then(|| u32::from_le_bytes([byte(7), byte(8), byte(9), 0]));
    let secs = i64::from(u32::from_le_bytes([byte(10), byte(11), byte(12), byte(13)])) + 1_500_000_000;
    let Some(now) = DateTime::<Utc>::from_timestamp(secs, 0) else {
        return;
    };
    let request = Request {
        principal_arn: principal,
        user,
        account_id: "123456789012",
        source_ip,
        requested_duration,
        workload: None,
    };
    let decision = policy::evaluate(&set, &request, now);
    assert_eq!(policy::explain(&set, &request, now).decision, decision);
    if let Decision::Allow { duration, cap, .. } = decision {
        assert!((MIN_DURATION_SECS..=cap).contains(&duration));
        assert!(cap <= MAX_DURATION_SECS);
    }
    let _ = set.lints();
});
