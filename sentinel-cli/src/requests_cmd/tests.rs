//! Unit tests of the request commands: backoff, decisions, input checks and rendering.

use super::wait::MAX_POLL;
use super::*;
use crate::failure::ExitKind;
use approvals::{Approval, Closure};
use chrono::{DateTime, Utc};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn pending(n: u32, requester: &str) -> Request {
    Request {
        request_id: RequestId::parse(&format!("{n:032x}")).unwrap(),
        profile: "prod".parse().unwrap(),
        requester: requester.into(),
        principal_arn: format!("arn:aws:iam::111122223333:user/{requester}"),
        reason: "CHG-1234 rotate keys".into(),
        duration_seconds: 3600,
        status: RequestStatus::Pending,
        approvals: Vec::new(),
        created_at: at("2026-11-22T13:50:00Z"),
        expires_at: at("2026-11-23T13:50:00Z"),
        approved_until: None,
        rule: "prod-changes".into(),
        closure: None,
        version: 1,
    }
}

fn approved(n: u32) -> Request {
    let mut r = pending(n, "carol");
    r.status = RequestStatus::Approved;
    r.approved_until = Some(at("2026-11-22T15:00:00Z"));
    r.approvals.push(Approval {
        approver: "alice".into(),
        principal_arn: "arn:aws:iam::111122223333:user/alice".into(),
        group: 0,
        approvers_digest: None,
        at: at("2026-11-22T14:00:00Z"),
        comment: Some("ok".into()),
    });
    r
}

fn closed(status: RequestStatus) -> Request {
    let mut r = pending(3, "carol");
    r.status = status;
    r.closure = Some(Closure {
        by: "bob".into(),
        principal_arn: "arn:aws:iam::111122223333:user/bob".into(),
        reason: "not during the freeze".into(),
        at: at("2026-11-22T14:00:00Z"),
    });
    r
}

#[test]
fn polls_back_off_from_the_first_pause_by_half_up_to_thirty_seconds() {
    let ms: Vec<u128> = backoff(Duration::from_secs(2))
        .take(10)
        .map(|d| d.as_millis())
        .collect();
    assert_eq!(
        ms,
        [
            2000, 3000, 4500, 6750, 10125, 15187, 22781, 30000, 30000, 30000
        ]
    );
    let quick: Vec<u128> = backoff(Duration::from_millis(40))
        .take(3)
        .map(|d| d.as_millis())
        .collect();
    assert_eq!(quick, [40, 60, 90]);
    assert_eq!(
        backoff(Duration::ZERO).next(),
        Some(Duration::from_millis(1))
    );
    assert_eq!(backoff(Duration::from_secs(90)).next(), Some(MAX_POLL));
}

#[test]
fn a_decision_is_exit_0_only_when_approved() {
    assert_eq!(
        decision(&approved(1)).unwrap(),
        "approved by alice; run `sentinel credentials --profile prod` (or your AWS profile) now"
    );
    let denied = decision(&closed(RequestStatus::Denied)).unwrap_err();
    assert_eq!(denied.kind, ExitKind::Denied);
    assert_eq!(
        denied.message,
        format!(
            "request {:032x} was denied by bob: not during the freeze",
            3
        )
    );
    let revoked = decision(&closed(RequestStatus::Revoked)).unwrap_err();
    assert_eq!(revoked.kind, ExitKind::Denied);
    assert!(revoked.message.contains("was revoked by bob"));
    let mut expired = pending(4, "carol");
    expired.status = RequestStatus::Expired;
    let expired = decision(&expired).unwrap_err();
    assert_eq!(expired.kind, ExitKind::Denied);
    assert!(
        expired
            .hint
            .unwrap()
            .contains("sentinel request --profile prod")
    );
}

#[test]
fn blank_reasons_ids_and_timeouts_are_invalid_input() {
    assert_eq!(
        required("--reason", "  ").unwrap_err().kind,
        ExitKind::Invalid
    );
    assert_eq!(required("--reason", " CHG-1 ").unwrap(), "CHG-1");
    assert_eq!(parse_id("nope").unwrap_err().kind, ExitKind::Invalid);
    assert!(parse_id(&"a".repeat(32)).is_ok());
    assert_eq!(parse_timeout("30m").unwrap(), Duration::from_secs(1800));
    assert_eq!(parse_timeout("1h30m").unwrap(), Duration::from_secs(5400));
    for bad in ["0", "", "soon", "-5m", "721h", "99999999999999999999h"] {
        assert_eq!(
            parse_timeout(bad).unwrap_err().kind,
            ExitKind::Invalid,
            "{bad:?}"
        );
    }
    assert_eq!(humane(Duration::from_secs(5400)), "1h30m");
}

#[test]
fn the_created_request_names_the_command_an_approver_runs() {
    let id = format!("{:032x}", 7);
    assert_eq!(
        render_created(&pending(7, "carol")),
        format!(
            "request {id} is pending for profile prod: 1h of access once approved; it expires at 2026-11-23T13:50:00Z\nan approver of rule prod-changes runs: sentinel approve {id}\n"
        )
    );
}

#[test]
fn the_list_is_a_table_with_printable_shortened_reasons() {
    let mut long = pending(2, "dave");
    long.reason = format!("CHG-9 \u{1b}[31m{}", "x".repeat(80));
    let table = render_list(&[approved(1), long], false);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("REQUEST                           PROFILE  REQUESTER  STATUS    CREATED               REASON"),
        "{table}"
    );
    assert!(lines[1].contains("carol      approved  2026-11-22T13:50:00Z  CHG-1234 rotate keys"));
    assert!(!table.contains('\u{1b}'));
    assert!(lines[2].ends_with('…'), "{table}");
    assert_eq!(lines[2].split("  ").last().unwrap().chars().count(), 60);
    assert_eq!(render_list(&[], false), "no requests\n");
    let json = render_list(&[approved(1)], true);
    let back: Request = serde_json::from_str(json.trim_end()).unwrap();
    assert_eq!(back, approved(1));
}

#[test]
fn show_prints_every_field_and_each_approval() {
    let text = render_request(&approved(1));
    assert!(text.starts_with(&format!("request_id      {:032x}\n", 1)));
    assert!(text.contains("status          approved\n"));
    assert!(text.contains("duration        1h\n"));
    assert!(text.contains(
        "approval        alice (group 1, arn:aws:iam::111122223333:user/alice) at 2026-11-22T14:00:00Z: ok\n"
    ));
    assert!(text.contains("approved_until  2026-11-22T15:00:00Z\n"));
    assert!(text.ends_with("closed_reason   -\n"), "{text}");
    let denied = render_request(&closed(RequestStatus::Denied));
    assert!(denied.contains("approvals       -\n"));
    assert!(denied.contains("closed_by       bob\n"));
    assert!(denied.contains("closed_reason   not during the freeze\n"));
}
