#![cfg(test)]
//! The TVM's notifications (`tvm_lambda::notify`) against a local webhook receiver and
//! moto's SNS.
//!
//! How the SNS tests prove what was published: moto delivers a topic's messages to its
//! HTTP subscriptions during `Publish`, in SNS's JSON envelope (`Type`, `TopicArn`,
//! `Subject`, `Message`), so a subscription pointing at the local receiver sees the
//! subject and the body exactly as a real subscriber would. moto's HTTP delivery leaves
//! the message attributes out of that envelope, so the attributes are proven through
//! subscription filter policies, which moto evaluates against them: a subscription
//! filtered on `{kind: break_glass_used, profile: prod}` must get the notice, one filtered
//! on another kind or profile must not. No SQS client (a new SDK crate) and no moto
//! internals are needed.
//!
//! The runtime is multi-threaded: the receiver answers moto's deliveries while the test
//! awaits moto's answer to `Publish`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use system_tests::Moto;
use tokio::net::TcpListener;
use tvm_lambda::notify::{Notice, NoticeKind, Notifier, RecordingChannel};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub content_type: Option<String>,
    pub body: Value,
}

/// A local HTTP receiver that records every request. `/hang/…` never answers in time,
/// `/gone/…` answers 404 `no_service`, `/moved/…` redirects to `/elsewhere`, every other
/// path answers 200 `ok`.
pub struct Receiver {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let record = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let record = Arc::clone(&record);
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let record = Arc::clone(&record);
                        async move { Ok::<_, std::convert::Infallible>(answer(request, &record).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver { port, seen, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn at(&self, path: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|s| s.path == path).cloned().collect()
    }

    fn paths(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter().map(|s| s.path.clone()).collect()
    }
}

async fn answer(request: Request<Incoming>, record: &Mutex<Vec<Seen>>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let body = body.collect().await.unwrap().to_bytes();
    record.lock().unwrap().push(Seen {
        path: path.clone(),
        content_type: parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let (status, location, text) = if path.starts_with("/hang/") {
        tokio::time::sleep(Duration::from_secs(60)).await;
        (200, None, "late")
    } else if path.starts_with("/gone/") {
        (404, None, "no_service")
    } else if path.starts_with("/moved/") {
        (302, Some("/elsewhere"), "")
    } else {
        (200, None, "ok")
    };
    let mut response = Response::builder().status(status);
    if let Some(location) = location {
        response = response.header("location", location);
    }
    response.body(Full::new(Bytes::from(text))).unwrap()
}

fn notice(kind: NoticeKind, reason: &str) -> Notice {
    Notice {
        kind,
        profile: "prod".into(),
        subject_user: "carol".into(),
        actor: "carol".into(),
        id: "9c1e0000000000000000000000000001".into(),
        reason: Some(reason.into()),
        detail: None,
        at: chrono::Utc::now(),
    }
}

/// An SDK configuration for notifiers without a topic (nothing reads it).
fn no_aws() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder().build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_gets_the_notice_as_json_with_caller_text_escaped() {
    let receiver = Receiver::start().await;
    let hook = receiver.url("/services/T0/B0/s3cr3t");
    let notifier = Notifier::from_env_values(None, Some(&hook), &no_aws()).unwrap();
    let sent = notice(
        NoticeKind::RequestCreated,
        "CHG-1234 <!channel> rotate keys",
    );

    let failures = notifier.deliver(&sent).await;

    assert!(failures.is_empty(), "{failures:?}");
    let seen = receiver.at("/services/T0/B0/s3cr3t");
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    assert_eq!(seen.content_type.as_deref(), Some("application/json"));
    let machine = &seen.body["sentinel"];
    assert_eq!(machine["kind"], "request_created");
    assert_eq!(machine["profile"], "prod");
    assert_eq!(machine["user"], "carol");
    assert_eq!(machine["id"], "9c1e0000000000000000000000000001");
    // Machines get the raw reason; Slack's text cannot ping the channel.
    assert_eq!(machine["reason"], "CHG-1234 <!channel> rotate keys");
    let text = seen.body["text"].as_str().unwrap();
    assert!(
        text.contains("CHG-1234 &lt;!channel&gt; rotate keys"),
        "{text}"
    );
    assert!(!text.contains("<!channel>"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_webhook_neither_holds_the_send_nor_stops_the_other_channel() {
    let receiver = Receiver::start().await;
    let record = RecordingChannel::default();
    let hook = receiver.url("/hang/s3cr3t");
    let notifier = Notifier::from_env_values(None, Some(&hook), &no_aws())
        .unwrap()
        .with_channel(record.clone());
    let sent = notice(NoticeKind::BreakGlassUsed, "INC-42 database down");

    // The receiver answers after 60 s; the notifier's own bound is 3 s.
    let failures = tokio::time::timeout(Duration::from_secs(30), notifier.deliver(&sent))
        .await
        .expect("deliver returns although the webhook hangs");

    assert_eq!(record.notices(), vec![sent.clone()]);
    assert_eq!(failures.len(), 1, "{failures:?}");
    let line = failures[0].log_line(chrono::Utc::now());
    assert!(
        line.contains(&format!("webhook http://127.0.0.1:{}", receiver.port)),
        "{line}"
    );
    assert!(
        !line.contains("s3cr3t") && !line.contains("/hang"),
        "{line}"
    );
    assert_eq!(receiver.paths(), ["/hang/s3cr3t"]);

    // `send` is the same, with the failure printed instead of returned.
    tokio::time::timeout(Duration::from_secs(30), notifier.send(&sent))
        .await
        .expect("send returns although the webhook hangs");
    assert_eq!(record.notices().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_refusals_and_redirects_are_failures_without_the_secret() {
    let receiver = Receiver::start().await;
    for (path, expected) in [
        ("/gone/s3cr3t", "answered HTTP 404 Not Found: no_service"),
        ("/moved/s3cr3t", "answered HTTP 302 Found"),
    ] {
        let notifier =
            Notifier::from_env_values(None, Some(&receiver.url(path)), &no_aws()).unwrap();
        let failures = notifier
            .deliver(&notice(NoticeKind::RequestDenied, "no"))
            .await;
        assert_eq!(failures.len(), 1, "{path}: {failures:?}");
        assert_eq!(failures[0].error, expected);
        let line = failures[0].log_line(chrono::Utc::now());
        assert!(!line.contains("s3cr3t"), "{line}");
    }
    // The redirect was not followed.
    assert_eq!(receiver.paths(), ["/gone/s3cr3t", "/moved/s3cr3t"]);
}

#[tokio::test]
async fn a_webhook_that_is_not_https_is_refused_at_start() {
    let e = Notifier::from_env_values(
        None,
        Some("http://hooks.slack.com/services/T0/B0/s3cr3t"),
        &no_aws(),
    )
    .unwrap_err();
    let message = e.to_string();
    assert!(
        message.starts_with("invalid setting `SENTINEL_NOTIFY_WEBHOOK_URL`: must be an https URL"),
        "{message}"
    );
    assert!(!message.contains("s3cr3t"), "{message}");
}

async fn subscribe(sns: &aws_sdk_sns::Client, topic: &str, endpoint: &str, filter: &str) {
    sns.subscribe()
        .topic_arn(topic)
        .protocol("http")
        .endpoint(endpoint)
        .attributes("FilterPolicy", filter)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_subscribers_get_the_subject_the_json_body_and_can_filter_on_attributes() {
    let moto = Moto::start();
    let receiver = Receiver::start().await;
    let sdk = moto.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name("sentinel-notifications")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let wanted = receiver.url("/break-glass-on-prod");
    subscribe(
        &sns,
        &topic,
        &wanted,
        r#"{"kind": ["break_glass_used"], "profile": ["prod"]}"#,
    )
    .await;
    let other_kind = receiver.url("/requests");
    subscribe(
        &sns,
        &topic,
        &other_kind,
        r#"{"kind": ["request_created"]}"#,
    )
    .await;
    let other_profile = receiver.url("/staging");
    subscribe(&sns, &topic, &other_profile, r#"{"profile": ["staging"]}"#).await;

    let notifier = Notifier::from_env_values(Some(&topic), None, &sdk).unwrap();
    let sent = notice(NoticeKind::BreakGlassUsed, "INC-42 <!here> database down");
    let failures = notifier.deliver(&sent).await;

    assert!(failures.is_empty(), "{failures:?}\n{}", moto.log());
    let seen = receiver.at("/break-glass-on-prod");
    assert_eq!(seen.len(), 1, "moto's output:\n{}", moto.log());
    let envelope = &seen[0].body;
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert_eq!(
        envelope["Subject"],
        "Sentinel: BREAK-GLASS on prod by carol"
    );
    let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message, sent.payload());
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .starts_with(":rotating_light: BREAK-GLASS")
    );
    // The filter policies saw `kind` and `profile`: the others got nothing.
    assert_eq!(receiver.paths(), ["/break-glass-on-prod"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_that_does_not_exist_is_a_logged_failure_not_an_error() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
    let record = RecordingChannel::default();
    let notifier = Notifier::from_env_values(Some(missing), None, &sdk)
        .unwrap()
        .with_channel(record.clone());
    let sent = notice(NoticeKind::RequestApproved, "ok");

    let failures = notifier.deliver(&sent).await;

    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].channel, format!("sns {missing}"));
    let line: Value = serde_json::from_str(&failures[0].log_line(chrono::Utc::now())).unwrap();
    assert_eq!(line["level"], "warn");
    assert_eq!(line["event"], "notify");
    assert_eq!(line["kind"], "request_approved");
    assert!(
        !line["detail"].as_str().unwrap().is_empty(),
        "the error chain is logged: {line}"
    );
    eprintln!("the logged failure: {line}");
    notifier.send(&sent).await;
    assert_eq!(record.notices().len(), 2);
}
