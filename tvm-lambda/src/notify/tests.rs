//! Unit tests of the notices, the settings and the notifier.

use chrono::TimeZone;
use serde_json::Value;

use super::*;

fn notice(kind: NoticeKind) -> Notice {
    Notice {
        kind,
        profile: "prod".into(),
        subject_user: "carol".into(),
        actor: "alice".into(),
        id: "9c1e0000000000000000000000000001".into(),
        reason: Some("CHG-1234 rotate keys".into()),
        detail: None,
        at: Utc.with_ymd_and_hms(2026, 11, 22, 14, 0, 0).unwrap(),
    }
}

#[test]
fn kinds_have_stable_snake_case_names() {
    let names: Vec<&str> = NoticeKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "request_created",
            "request_approved",
            "request_denied",
            "request_revoked",
            "break_glass_used",
            "break_glass_reviewed"
        ]
    );
}

#[test]
fn a_new_request_says_who_asks_and_how_to_approve() {
    let text = notice(NoticeKind::RequestCreated).text();
    assert_eq!(
        text,
        "carol asks for prod: CHG-1234 rotate keys (request 9c1e0000000000000000000000000001); \
         approve with `sentinel approve 9c1e0000000000000000000000000001`"
    );
}

#[test]
fn each_transition_names_its_actor_and_detail() {
    let mut approved = notice(NoticeKind::RequestApproved);
    approved.reason = Some("ok".into());
    approved.detail = Some("final: credentials until 15:00Z".into());
    assert_eq!(
        approved.text(),
        "alice approved carol's request for prod: ok \
         (request 9c1e0000000000000000000000000001, final: credentials until 15:00Z)"
    );
    let mut denied = notice(NoticeKind::RequestDenied);
    denied.reason = None;
    assert_eq!(
        denied.text(),
        "alice denied carol's request for prod (request 9c1e0000000000000000000000000001)"
    );
    assert!(
        notice(NoticeKind::RequestRevoked)
            .text()
            .starts_with("alice revoked carol's request for prod")
    );
    assert!(
        notice(NoticeKind::BreakGlassReviewed)
            .text()
            .contains("alice closed carol's break-glass on prod")
    );
}

#[test]
fn break_glass_is_loud() {
    let text = notice(NoticeKind::BreakGlassUsed).text();
    assert!(text.starts_with(":rotating_light: BREAK-GLASS: carol broke glass on prod"));
    assert!(text.contains("sentinel breakglass review 9c1e0000000000000000000000000001"));
    for kind in NoticeKind::ALL {
        let loud = notice(kind).text().starts_with(":rotating_light:");
        assert_eq!(loud, kind == NoticeKind::BreakGlassUsed, "{kind}");
    }
}

#[test]
fn caller_text_cannot_ping_link_or_break_the_line() {
    let mut n = notice(NoticeKind::RequestCreated);
    n.reason = Some("fix <!channel> <https://evil.example|docs> & co\nsecond line\u{202e}".into());
    n.subject_user = "<@U123>`".into();
    n.profile = "prod\r\n*bold*".into();
    let text = n.text();
    assert!(!text.contains('<') && !text.contains('>'), "{text}");
    assert!(!text.contains('\n') && !text.contains('\r') && !text.contains('\u{202e}'));
    assert!(
        text.contains(
            "fix &lt;!channel&gt; &lt;https://evil.example|docs&gt; &amp; co second line"
        )
    );
    assert!(
        text.starts_with("&lt;@U123&gt;' asks for prod  \u{2217}bold\u{2217}"),
        "{text}"
    );
}

/// Attack review F8: a reason could open its own code span and bold text (a fake
/// ``approve with `sentinel approve <another id>` ``), or hide characters that are
/// invisible in Slack.
#[test]
fn caller_text_cannot_format_or_hide_characters() {
    let mut n = notice(NoticeKind::RequestCreated);
    n.reason = Some(
        "ok`; *approve with* `sentinel approve 0123 ~now~ a\u{200b}b\u{200d}c\u{feff}d\u{061c}e\u{2060}f"
            .into(),
    );
    let text = n.text();
    assert_eq!(
        text.matches('`').count(),
        2,
        "only the hint's code span: {text}"
    );
    assert!(text.ends_with("approve with `sentinel approve 9c1e0000000000000000000000000001`"));
    for c in [
        '*', '~', '\u{200b}', '\u{200d}', '\u{feff}', '\u{061c}', '\u{2060}',
    ] {
        assert!(!text.contains(c), "{c:?} in {text}");
    }
}

#[test]
fn long_reasons_are_cut() {
    let mut n = notice(NoticeKind::RequestCreated);
    n.reason = Some("x".repeat(5000));
    assert!(n.text().contains(&format!("{}…", "x".repeat(1000))));
    assert!(!n.text().contains(&"x".repeat(1001)));
    let payload = n.payload();
    let reason = payload["sentinel"]["reason"].as_str().unwrap();
    assert_eq!(reason.chars().count(), 1001);
}

#[test]
fn payload_has_text_and_the_machine_readable_fields() {
    let mut n = notice(NoticeKind::RequestApproved);
    n.reason = Some("a <b>".into());
    n.detail = Some("1 of 2 groups".into());
    assert_eq!(
        n.payload(),
        json!({
            "text": n.text(),
            "sentinel": {
                "kind": "request_approved",
                "profile": "prod",
                "user": "carol",
                "actor": "alice",
                "id": "9c1e0000000000000000000000000001",
                "reason": "a <b>",
                "detail": "1 of 2 groups",
                "at": "2026-11-22T14:00:00Z",
            }
        })
    );
    n.reason = None;
    n.detail = None;
    assert_eq!(n.payload()["sentinel"]["reason"], Value::Null);
}

#[test]
fn subjects_are_short_printable_ascii() {
    assert_eq!(
        notice(NoticeKind::BreakGlassUsed).subject(),
        "Sentinel: BREAK-GLASS on prod by carol"
    );
    assert_eq!(
        notice(NoticeKind::RequestCreated).subject(),
        "Sentinel: carol requests prod"
    );
    for kind in NoticeKind::ALL {
        let mut n = notice(kind);
        n.profile = format!("prød\n{}", "p".repeat(300));
        n.subject_user = "ü".repeat(300);
        let subject = n.subject();
        assert!(subject.chars().count() < 100, "{subject}");
        assert!(
            subject.chars().all(|c| (' '..='~').contains(&c)),
            "{subject}"
        );
        assert!(subject.starts_with("Sentinel: "));
    }
}

#[test]
fn topic_arns_are_checked() {
    let arn: TopicArn = "arn:aws:sns:eu-west-1:111122223333:sentinel-approvals"
        .parse()
        .unwrap();
    assert_eq!(arn.region(), "eu-west-1");
    assert!(
        "arn:aws-us-gov:sns:us-gov-west-1:111122223333:a_b"
            .parse::<TopicArn>()
            .is_ok()
    );
    for bad in [
        "sentinel-approvals",
        "arn:aws:sqs:eu-west-1:111122223333:q",
        "arn:aws:sns:eu-west-1:1111:t",
        "arn:aws:sns:eu-west-1:111122223333:",
        "arn:aws:sns:eu-west-1:111122223333:a:b",
        "arn:aws:sns::111122223333:t",
        "arn:gcp:sns:eu-west-1:111122223333:t",
        "arn:aws:sns:eu-west-1:111122223333:t.fifo",
        "arn:aws:sns:eu-west-1:111122223333:t t",
    ] {
        assert!(bad.parse::<TopicArn>().is_err(), "{bad}");
    }
}

#[test]
fn webhook_urls_are_https_or_loopback_http() {
    for good in [
        "https://hooks.slack.com/services/T0/B0/secret",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9/hook",
    ] {
        assert!(good.parse::<WebhookUrl>().is_ok(), "{good}");
    }
    for bad in [
        "http://hooks.slack.com/services/T0/B0/s3cr3t",
        "ftp://hooks.slack.com/s3cr3t",
        "hooks.slack.com/services/T0/B0/s3cr3t",
        "http://127.0.0.1.evil.example/s3cr3t",
    ] {
        let error = bad.parse::<WebhookUrl>().unwrap_err();
        assert!(!error.contains("s3cr3t"), "{error}");
    }
}

#[test]
fn settings_name_the_variable_and_never_show_the_webhook_secret() {
    let targets = NotifyTargets::from_values(
        Some(" arn:aws:sns:eu-west-1:111122223333:t "),
        Some("https://hooks.slack.com/services/T0/B0/s3cr3t"),
    )
    .unwrap();
    assert_eq!(
        targets.topic.as_ref().unwrap().as_str(),
        "arn:aws:sns:eu-west-1:111122223333:t"
    );
    let shown = format!("{targets:?} {}", targets.webhook.as_ref().unwrap());
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("services"),
        "{shown}"
    );
    assert!(shown.contains("https://hooks.slack.com"));

    assert!(
        NotifyTargets::from_values(Some("  "), None)
            .unwrap()
            .is_empty()
    );
    let e = NotifyTargets::from_values(None, Some("http://hooks.slack.com/services/s3cr3t"))
        .unwrap_err();
    assert_eq!(e.variable, WEBHOOK_VARIABLE);
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
    assert!(
        e.to_string()
            .starts_with("invalid setting `SENTINEL_NOTIFY_WEBHOOK_URL`: must be an https URL")
    );
    let e = NotifyTargets::from_values(Some("arn:aws:sns:x"), None).unwrap_err();
    assert_eq!(e.variable, TOPIC_VARIABLE);
}

struct Failing;
impl Channel for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    fn send<'a>(&'a self, _: &'a Notice) -> SendFuture<'a> {
        Box::pin(std::future::ready(Err("connection refused".into())))
    }
}

struct Hanging;
impl Channel for Hanging {
    fn name(&self) -> &str {
        "hanging"
    }
    fn send<'a>(&'a self, _: &'a Notice) -> SendFuture<'a> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn a_failing_or_hanging_channel_does_not_stop_the_others() {
    let record = RecordingChannel::default();
    let notifier = Notifier::none()
        .with_channel(Failing)
        .with_channel(Hanging)
        .with_channel(record.clone())
        .with_timeout(Duration::from_millis(50));
    let n = notice(NoticeKind::BreakGlassUsed);
    let failures = notifier.deliver(&n).await;
    assert_eq!(record.notices(), vec![n.clone()]);
    let channels: Vec<&str> = failures.iter().map(|f| f.channel.as_str()).collect();
    assert_eq!(channels, ["failing", "hanging"]);
    assert_eq!(failures[0].error, "connection refused");
    assert_eq!(failures[1].error, "no answer within 50 ms");

    let line: Value = serde_json::from_str(&failures[0].log_line(n.at)).unwrap();
    assert_eq!(line["level"], "warn");
    assert_eq!(line["event"], "notify");
    assert_eq!(line["kind"], "break_glass_used");
    assert_eq!(line["id"], "9c1e0000000000000000000000000001");
    notifier.send(&n).await;
    assert_eq!(record.notices().len(), 2);
}

#[tokio::test]
async fn no_channel_is_a_no_op() {
    assert!(
        Notifier::none()
            .deliver(&notice(NoticeKind::RequestCreated))
            .await
            .is_empty()
    );
}
