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
use std::net::IpAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::task::Poll;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sns::config::Region;
use aws_sdk_sns::config::timeout::TimeoutConfig;
use aws_sdk_sns::types::MessageAttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use sentinel_aws::https::HttpsClient;
use serde_json::{Value, json};

/// The SNS topic variable.
pub const TOPIC_VARIABLE: &str = "SENTINEL_NOTIFY_TOPIC_ARN";
/// The webhook variable. Its value is a secret (a Slack webhook URL is a bearer
/// credential): only its scheme and host are ever shown.
pub const WEBHOOK_VARIABLE: &str = "SENTINEL_NOTIFY_WEBHOOK_URL";
/// How long one channel may take for one notice, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Caller-supplied names (users, profile, ID) in the text: longer ones are cut.
const MAX_NAME_CHARS: usize = 128;
/// Caller-supplied prose (reason, detail): in the text and in the `sentinel` object.
const MAX_PROSE_CHARS: usize = 1000;
/// SNS: "less than 100 characters", ASCII without control characters.
const MAX_SUBJECT_CHARS: usize = 99;
/// A webhook's error body in the log: enough for Slack's `invalid_token`-style codes.
const MAX_ERROR_BODY_CHARS: usize = 100;

/// What happened. The wire name ([`NoticeKind::as_str`]) is stable: subscribers filter
/// on it (the SNS message attribute `kind`, the webhook's `sentinel.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// A requester asked for a profile (`POST /requests`).
    RequestCreated,
    /// An approver approved: each approval, the final one included (`detail` says which).
    RequestApproved,
    /// An approver denied.
    RequestDenied,
    /// An approved request was revoked.
    RequestRevoked,
    /// Someone vended through a break-glass rule (`POST /breakglass`).
    BreakGlassUsed,
    /// A break-glass event was reviewed and closed.
    BreakGlassReviewed,
}

impl NoticeKind {
    /// Every kind, in the order above.
    pub const ALL: [NoticeKind; 6] = [
        Self::RequestCreated,
        Self::RequestApproved,
        Self::RequestDenied,
        Self::RequestRevoked,
        Self::BreakGlassUsed,
        Self::BreakGlassReviewed,
    ];

    /// The snake_case wire name: `request_created`, `break_glass_used`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RequestCreated => "request_created",
            Self::RequestApproved => "request_approved",
            Self::RequestDenied => "request_denied",
            Self::RequestRevoked => "request_revoked",
            Self::BreakGlassUsed => "break_glass_used",
            Self::BreakGlassReviewed => "break_glass_reviewed",
        }
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One transition to tell the channels about. Every string is caller-supplied as far
/// as this module is concerned: [`Notice::text`] and [`Notice::subject`] neutralise them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub profile: String,
    /// The requester, or the user who broke glass.
    pub subject_user: String,
    /// Who did it: the requester, the approver, the denier, the reviewer.
    pub actor: String,
    /// The request ID or the break-glass ID.
    pub id: String,
    /// The request's or break-glass reason, an approval's comment, a denial's reason, a
    /// review's notes.
    pub reason: Option<String>,
    /// Anything else worth one clause: `1 of 2 groups`, `final: credentials until 15:00Z`.
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

impl Notice {
    /// One line of Slack mrkdwn for people, e.g. ``carol asks for prod: CHG-1234 rotate
    /// keys (request 9c1e…); approve with `sentinel approve 9c1e…` ``. Break-glass use
    /// starts with `:rotating_light: BREAK-GLASS`.
    ///
    /// SECURITY: every caller-supplied value is escaped for mrkdwn (`&`, `<`, `>`, as
    /// Slack documents), so a reason cannot mention `<!channel>` or hide a link; loses
    /// the marks that open code spans, bold and struck text, so it cannot fake the hint;
    /// and is flattened to one line without invisible characters.
    pub fn text(&self) -> String {
        let name = |raw: &str| mrkdwn(raw, MAX_NAME_CHARS);
        let (user, actor) = (name(&self.subject_user), name(&self.actor));
        let (profile, id) = (name(&self.profile), name(&self.id));
        let reason = self
            .reason
            .as_deref()
            .map(|r| mrkdwn(r, MAX_PROSE_CHARS))
            .filter(|r| !r.is_empty())
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let detail = self
            .detail
            .as_deref()
            .map(|d| mrkdwn(d, MAX_PROSE_CHARS))
            .filter(|d| !d.is_empty())
            .map(|d| format!(", {d}"))
            .unwrap_or_default();
        match self.kind {
            NoticeKind::RequestCreated => format!(
                "{user} asks for {profile}{reason} (request {id}{detail}); approve with `sentinel approve {id}`"
            ),
            NoticeKind::RequestApproved => format!(
                "{actor} approved {user}'s request for {profile}{reason} (request {id}{detail})"
            ),
            NoticeKind::RequestDenied => format!(
                "{actor} denied {user}'s request for {profile}{reason} (request {id}{detail})"
            ),
            NoticeKind::RequestRevoked => format!(
                "{actor} revoked {user}'s request for {profile}{reason} (request {id}{detail})"
            ),
            NoticeKind::BreakGlassUsed => format!(
                ":rotating_light: BREAK-GLASS: {user} broke glass on {profile}{reason} (break-glass {id}{detail}); review with `sentinel breakglass review {id} --notes ...`"
            ),
            NoticeKind::BreakGlassReviewed => format!(
                ":white_check_mark: break-glass reviewed: {actor} closed {user}'s break-glass on {profile}{reason} (break-glass {id}{detail})"
            ),
        }
    }

    /// The SNS `Subject` (email subscribers see it): printable ASCII, fewer than 100
    /// characters, e.g. `Sentinel: BREAK-GLASS on prod by carol`.
    pub fn subject(&self) -> String {
        let profile = ascii(&self.profile, 40);
        let user = ascii(&self.subject_user, 32);
        let subject = match self.kind {
            NoticeKind::RequestCreated => format!("Sentinel: {user} requests {profile}"),
            NoticeKind::RequestApproved => format!("Sentinel: request for {profile} approved"),
            NoticeKind::RequestDenied => format!("Sentinel: request for {profile} denied"),
            NoticeKind::RequestRevoked => format!("Sentinel: request for {profile} revoked"),
            NoticeKind::BreakGlassUsed => format!("Sentinel: BREAK-GLASS on {profile} by {user}"),
            NoticeKind::BreakGlassReviewed => {
                format!("Sentinel: break-glass on {profile} reviewed")
            }
        };
        subject.chars().take(MAX_SUBJECT_CHARS).collect()
    }

    /// The webhook body and the SNS message: `{"text": …, "sentinel": {"kind", "profile",
    /// "user", "actor", "id", "reason", "detail", "at"}}`. Slack reads `text` and ignores
    /// the rest; machines read `sentinel`, whose values are the raw ones (JSON-encoded,
    /// prose cut at 1000 characters).
    pub fn payload(&self) -> Value {
        let prose = |v: &Option<String>| v.as_deref().map(|s| clip(s, MAX_PROSE_CHARS));
        json!({
            "text": self.text(),
            "sentinel": {
                "kind": self.kind.as_str(),
                "profile": self.profile,
                "user": self.subject_user,
                "actor": self.actor,
                "id": self.id,
                "reason": prose(&self.reason),
                "detail": prose(&self.detail),
                "at": self.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            }
        })
    }
}

/// `raw` as one line of Slack mrkdwn text: `&`, `<`, `>` escaped; the formatting marks
/// that could open a code span or bold or struck text (`` ` ``, `*`, `~`) replaced by
/// look-alikes that format nothing (`'`, `∗`, `∼`); control, line, bidi and invisible
/// characters turned into spaces; at most `max` characters of the original. (`_` stays:
/// it is in identifiers, and italics fake nothing.)
fn mrkdwn(raw: &str, max: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max.saturating_mul(4)));
    for c in one_line(&clip(raw, max)).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\''),
            '*' => out.push('\u{2217}'),
            '~' => out.push('\u{223c}'),
            c => out.push(c),
        }
    }
    out
}

/// Control characters, line and paragraph separators, bidi controls (which could make a
/// line read differently from what it says) and invisible characters
/// (`sentinel_types::is_hidden_char`) become spaces; trimmed.
fn one_line(raw: &str) -> String {
    let flat: String = raw
        .chars()
        .map(|c| {
            if sentinel_types::is_hidden_char(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    flat.trim().to_owned()
}

/// At most `max` characters of `raw`, with `…` when cut.
fn clip(raw: &str, max: usize) -> String {
    let mut chars = raw.chars();
    let mut out: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Printable ASCII only (others become `?`), at most `max` characters: for SNS subjects.
fn ascii(raw: &str, max: usize) -> String {
    raw.trim()
        .chars()
        .take(max)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

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

/// An SNS topic ARN, `arn:<partition>:sns:<region>:<12 digits>:<name>`, standard (not
/// FIFO) topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn {
    arn: String,
    region: String,
}

impl TopicArn {
    /// The whole ARN.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The topic's region: `Publish` must be sent there, whatever the TVM's own region.
    pub fn region(&self) -> &str {
        &self.region
    }
}

impl FromStr for TopicArn {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let shape = || {
            format!(
                "`{raw}` is not an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)"
            )
        };
        let mut parts = raw.split(':');
        let (
            Some("arn"),
            Some(partition),
            Some("sns"),
            Some(region),
            Some(account),
            Some(name),
            None,
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(shape());
        };
        let lower = |s: &str, digits: bool| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || (digits && c.is_ascii_digit()))
        };
        if !partition.starts_with("aws") || !lower(partition, false) || !lower(region, true) {
            return Err(shape());
        }
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "`{raw}`: the account must be 12 digits, not `{account}`"
            ));
        }
        if name.ends_with(".fifo") {
            return Err(format!(
                "`{raw}` is a FIFO topic; notifications need a standard topic"
            ));
        }
        let name_ok = (1..=256).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(format!(
                "`{raw}`: a topic name is 1 to 256 letters, digits, `-` and `_`"
            ));
        }
        Ok(Self {
            arn: raw.to_owned(),
            region: region.to_owned(),
        })
    }
}

/// A webhook URL: `https://…`, or `http://` to a loopback host (local receivers in tests).
///
/// SECURITY: a Slack webhook URL is a bearer credential (its path is the secret), so
/// `Debug`, `Display` and every error show only [`WebhookUrl::origin`].
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: url::Url,
}

impl WebhookUrl {
    /// `scheme://host[:port]`: the part of the URL that may be logged.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    fn is_loopback(url: &url::Url) -> bool {
        match url.host_str() {
            Some(host) if host.eq_ignore_ascii_case("localhost") => true,
            Some(host) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
            None => false,
        }
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({}/<redacted>)", self.origin())
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/<redacted>", self.origin())
    }
}

impl FromStr for WebhookUrl {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        // SECURITY: never echo `raw`: it is the secret.
        let url = url::Url::parse(raw)
            .map_err(|e| format!("not a URL ({e}); the value is not shown: it is a secret"))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL has no host".into());
        }
        match url.scheme() {
            "https" => Ok(Self { url }),
            "http" if Self::is_loopback(&url) => Ok(Self { url }),
            _ => Err(format!(
                "must be an https URL (http only to a loopback host), not `{}`",
                url.origin().ascii_serialization()
            )),
        }
    }
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

/// SNS `Publish` of [`Notice::payload`] with [`Notice::subject`] and the String message
/// attributes `kind` and `profile`, for subscription filter policies.
pub struct SnsChannel {
    client: aws_sdk_sns::Client,
    topic: TopicArn,
    name: String,
}

impl SnsChannel {
    /// A client for `topic`'s region from the process's SDK configuration (credentials,
    /// endpoint), every call bounded by `timeout` (all attempts together).
    pub fn new(topic: TopicArn, sdk_config: &SdkConfig, timeout: Duration) -> Self {
        let config = aws_sdk_sns::config::Builder::from(sdk_config)
            .region(Region::new(topic.region().to_owned()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timeout)
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            )
            .build();
        Self {
            client: aws_sdk_sns::Client::from_conf(config),
            name: format!("sns {}", topic.as_str()),
            topic,
        }
    }

    async fn publish(&self, notice: &Notice) -> Result<(), String> {
        let string = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| e.to_string())
        };
        let mut call = self
            .client
            .publish()
            .topic_arn(self.topic.as_str())
            .subject(notice.subject())
            .message(notice.payload().to_string())
            .message_attributes("kind", string(notice.kind.as_str())?);
        // SNS refuses an empty attribute value; a notice always has a profile, though.
        let profile = clip(&notice.profile, MAX_NAME_CHARS);
        if !profile.is_empty() {
            call = call.message_attributes("profile", string(&profile)?);
        }
        match call.send().await {
            Ok(_) => Ok(()),
            // The error chain only: `classify`'s detail adds the SDK's debug dump of the
            // whole response, too much for a line per failed notice.
            Err(e) => Err(match sentinel_aws::classify(&e).kind {
                sentinel_aws::FailureKind::AccessDenied => format!("access denied: {}", chain(&e)),
                sentinel_aws::FailureKind::Unavailable => chain(&e),
            }),
        }
    }
}

impl Channel for SnsChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn send<'a>(&'a self, notice: &'a Notice) -> SendFuture<'a> {
        Box::pin(self.publish(notice))
    }
}

/// An HTTP `POST` of [`Notice::payload`] as JSON to a Slack-compatible incoming webhook,
/// over the workspace's one HTTP client (`sentinel_aws::https`). Redirects are not
/// followed (a redirect would carry the notice somewhere unconfigured).
pub struct WebhookChannel {
    client: HttpsClient,
    url: WebhookUrl,
    name: String,
}

/// The most of a refusal's body read for the log line.
const MAX_REFUSAL_BODY: usize = 16 * 1024;

impl WebhookChannel {
    /// A client bounded by `timeout` (connect, send and answer together).
    pub fn new(url: WebhookUrl, timeout: Duration) -> Self {
        Self {
            client: HttpsClient::new(timeout, timeout),
            name: format!("webhook {}", url.origin()),
            url,
        }
    }

    async fn post(&self, notice: &Notice) -> Result<(), String> {
        let body = serde_json::to_vec(&notice.payload()).map_err(|e| e.to_string())?;
        // SECURITY: the client's errors never name the URL (its path is the secret).
        let request = http::Request::post(self.url.url.as_str())
            .header("content-type", "application/json")
            .body(body)
            .map_err(|_| "the webhook URL is not a valid request target".to_owned())?;
        let response = self.client.send(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // Slack explains a refusal in a short body (`invalid_token`, `channel_is_archived`).
        let body = match response.body(MAX_REFUSAL_BODY).await {
            Ok(bytes) => one_line(&String::from_utf8_lossy(&bytes)),
            Err(_) => String::new(),
        };
        // SECURITY: a receiver that echoes the URL's secret part gets no body in the log.
        let path = self.url.url.path();
        let query = self.url.url.query().unwrap_or_default();
        let echoes =
            (path.len() > 1 && body.contains(path)) || (!query.is_empty() && body.contains(query));
        let body = if echoes {
            String::new()
        } else {
            clip(&body, MAX_ERROR_BODY_CHARS)
        };
        Err(if body.is_empty() {
            format!("answered HTTP {status}")
        } else {
            format!("answered HTTP {status}: {body}")
        })
    }
}

impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn send<'a>(&'a self, notice: &'a Notice) -> SendFuture<'a> {
        Box::pin(self.post(notice))
    }
}

/// An error and its sources, `a: b: c`, each once.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

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
        n.reason =
            Some("fix <!channel> <https://evil.example|docs> & co\nsecond line\u{202e}".into());
        n.subject_user = "<@U123>`".into();
        n.profile = "prod\r\n*bold*".into();
        let text = n.text();
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
        assert!(!text.contains('\n') && !text.contains('\r') && !text.contains('\u{202e}'));
        assert!(text.contains(
            "fix &lt;!channel&gt; &lt;https://evil.example|docs&gt; &amp; co second line"
        ));
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
}
