//! Notifications of approval and break-glass transitions (SPEC §9, docs/approvals.md
//! "Notifications"): an SNS topic (`SENTINEL_NOTIFY_TOPIC_ARN`) and/or a Slack-compatible
//! webhook (`SENTINEL_NOTIFY_WEBHOOK_URL`) hear of every request created, approval,
//! denial, revocation, break-glass use and break-glass review.
//!
//! A notification is best effort and bounded: [`Notifier::send`] sends to every channel
//! at once, each within [`DEFAULT_TIMEOUT`], writes one `"event": "notify"` warn line per
//! failure and returns nothing, so a broken or hanging endpoint can neither fail nor hold
//! a decision. It is not the record of a transition: the approval and break-glass tables
//! are, and a lost notification loses no state.
//!
//! Settings are parsed once at start-up ([`NotifyTargets::from_values`], no AWS needed);
//! the clients are built once from them ([`Notifier::new`]).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use tvm_lambda::notify::{Notice, NoticeKind};
//!
//! let notice = Notice {
//!     kind: NoticeKind::BreakGlassUsed,
//!     profile: "prod".into(),
//!     subject_user: "carol".into(),
//!     actor: "carol".into(),
//!     id: "7f3a".into(),
//!     reason: Some("INC-42 <!channel> db down".into()),
//!     detail: None,
//!     at: Utc.with_ymd_and_hms(2026, 11, 22, 14, 0, 0).unwrap(),
//! };
//! assert!(notice.text().starts_with(":rotating_light: BREAK-GLASS"));
//! // Caller-supplied text cannot ping a channel or inject a link.
//! assert!(notice.text().contains("INC-42 &lt;!channel&gt; db down"));
//! assert_eq!(notice.payload()["sentinel"]["kind"], "break_glass_used");
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use aws_config::SdkConfig;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

mod notice;
mod sns;
#[cfg(test)]
mod tests;
mod webhook;

pub use notice::{Notice, NoticeKind};
pub use sns::{SnsChannel, TopicArn};
pub use webhook::{WebhookChannel, WebhookUrl};

/// The SNS topic variable.
pub const TOPIC_VARIABLE: &str = "SENTINEL_NOTIFY_TOPIC_ARN";
/// The webhook variable. Its value is a secret (a Slack webhook URL is a bearer
/// credential): only its scheme and host are ever shown.
pub const WEBHOOK_VARIABLE: &str = "SENTINEL_NOTIFY_WEBHOOK_URL";
/// How long one channel may take for one notice, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// A setting that stops start-up; names the variable, never shows a webhook URL's
/// secret part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting `{variable}`: {message}")]
pub struct NotifySettingError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// Where notifications go, as read from the environment at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyTargets {
    /// `SENTINEL_NOTIFY_TOPIC_ARN`.
    pub topic: Option<TopicArn>,
    /// `SENTINEL_NOTIFY_WEBHOOK_URL`.
    pub webhook: Option<WebhookUrl>,
}

impl NotifyTargets {
    /// Parses the two variables' values; unset, empty or blank means no such channel.
    pub fn from_values(
        topic: Option<&str>,
        webhook: Option<&str>,
    ) -> Result<Self, NotifySettingError> {
        fn set(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let invalid = |variable| move |message| NotifySettingError { variable, message };
        Ok(Self {
            topic: set(topic)
                .map(str::parse)
                .transpose()
                .map_err(invalid(TOPIC_VARIABLE))?,
            webhook: set(webhook)
                .map(str::parse)
                .transpose()
                .map_err(invalid(WEBHOOK_VARIABLE))?,
        })
    }

    /// Whether any channel is configured.
    pub fn is_empty(&self) -> bool {
        self.topic.is_none() && self.webhook.is_none()
    }
}

/// What one channel's send returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One place notices go. `send` reports a failure as its error chain, with nothing
/// secret in it; the [`Notifier`] logs it and bounds the time.
pub trait Channel: Send + Sync {
    /// For logs: `sns arn:aws:sns:…`, `webhook https://hooks.slack.com`; no secrets.
    fn name(&self) -> &str;
    /// Delivers one notice.
    fn send<'a>(&'a self, notice: &'a Notice) -> SendFuture<'a>;
}

/// A channel that failed one notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyFailure {
    /// The channel's [`Channel::name`].
    pub channel: String,
    pub kind: NoticeKind,
    pub profile: String,
    /// The request or break-glass ID.
    pub id: String,
    /// The error chain, or that the channel did not answer in time.
    pub error: String,
}

impl NotifyFailure {
    /// One `"event": "notify"` JSON line at level `warn`, like the decision log's lines.
    pub fn log_line(&self, now: DateTime<Utc>) -> String {
        json!({
            "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
            "level": "warn",
            "event": "notify",
            "channel": self.channel,
            "kind": self.kind.as_str(),
            "profile": self.profile,
            "id": self.id,
            "detail": self.error,
        })
        .to_string()
    }
}

/// Every configured channel; built once at start-up, shared by all requests.
pub struct Notifier {
    channels: Vec<Box<dyn Channel>>,
    timeout: Duration,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("channels", &self.channel_names())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for Notifier {
    fn default() -> Self {
        Self::none()
    }
}

impl Notifier {
    /// No channel: [`Notifier::send`] does nothing.
    pub fn none() -> Self {
        Self {
            channels: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The channels `targets` name, each bounded by [`DEFAULT_TIMEOUT`]; SNS uses
    /// `sdk_config`'s credentials and endpoint in the topic's region.
    pub fn new(
        targets: &NotifyTargets,
        sdk_config: &SdkConfig,
    ) -> Result<Self, NotifySettingError> {
        let mut notifier = Self::none();
        if let Some(topic) = &targets.topic {
            notifier =
                notifier.with_channel(SnsChannel::new(topic.clone(), sdk_config, DEFAULT_TIMEOUT));
        }
        if let Some(url) = &targets.webhook {
            notifier = notifier.with_channel(WebhookChannel::new(url.clone(), DEFAULT_TIMEOUT));
        }
        Ok(notifier)
    }

    /// [`NotifyTargets::from_values`] then [`Notifier::new`].
    pub fn from_env_values(
        topic: Option<&str>,
        webhook: Option<&str>,
        sdk_config: &SdkConfig,
    ) -> Result<Self, NotifySettingError> {
        Self::new(&NotifyTargets::from_values(topic, webhook)?, sdk_config)
    }

    /// Adds a channel (tests, or a channel of another kind).
    pub fn with_channel(mut self, channel: impl Channel + 'static) -> Self {
        self.channels.push(Box::new(channel));
        self
    }

    /// Bounds every channel's send by `timeout` (default [`DEFAULT_TIMEOUT`]), whatever
    /// the channel's own limits.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The channels' names, for a start-up line.
    pub fn channel_names(&self) -> Vec<&str> {
        self.channels.iter().map(|c| c.name()).collect()
    }

    /// Tells every channel, concurrently, and prints one warn line on stdout per
    /// failure (where Lambda's logs and `serve`'s decision lines go). Never fails and
    /// returns within the timeout: call it after the transition is stored, before
    /// answering.
    pub async fn send(&self, notice: &Notice) {
        for failure in self.deliver(notice).await {
            println!("{}", failure.log_line(Utc::now()));
        }
    }

    /// [`Notifier::send`] without the printing: the failures, for a caller that collects
    /// log lines itself, and for tests.
    pub async fn deliver(&self, notice: &Notice) -> Vec<NotifyFailure> {
        let timeout = self.timeout;
        let sends = self
            .channels
            .iter()
            .map(|channel| {
                Box::pin(async move {
                    let outcome = tokio::time::timeout(timeout, channel.send(notice))
                        .await
                        .unwrap_or_else(|_| {
                            Err(format!("no answer within {} ms", timeout.as_millis()))
                        });
                    outcome.err().map(|error| NotifyFailure {
                        channel: channel.name().to_owned(),
                        kind: notice.kind,
                        profile: notice.profile.clone(),
                        id: notice.id.clone(),
                        error,
                    })
                })
            })
            .collect();
        join_all(sends).await.into_iter().flatten().collect()
    }
}

/// Runs `futures` concurrently on the caller's task and returns their outputs in order.
async fn join_all<F: Future + Unpin>(futures: Vec<F>) -> Vec<F::Output> {
    let mut slots: Vec<(F, Option<F::Output>)> = futures.into_iter().map(|f| (f, None)).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (future, output) in &mut slots {
            if output.is_none() {
                match Pin::new(future).poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    slots.into_iter().filter_map(|(_, output)| output).collect()
}

/// A channel that keeps every notice it is sent, for tests of the callers.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug, Clone, Default)]
pub struct RecordingChannel {
    notices: std::sync::Arc<std::sync::Mutex<Vec<Notice>>>,
}

#[cfg(any(test, feature = "test-util"))]
impl RecordingChannel {
    /// Every notice so far, oldest first. Clones share one record.
    pub fn notices(&self) -> Vec<Notice> {
        self.notices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Channel for RecordingChannel {
    fn name(&self) -> &str {
        "recording"
    }

    fn send<'a>(&'a self, notice: &'a Notice) -> SendFuture<'a> {
        self.notices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(notice.clone());
        Box::pin(std::future::ready(Ok(())))
    }
}
