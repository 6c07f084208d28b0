//! The webhook channel: [`WebhookUrl`] and [`WebhookChannel`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use sentinel_aws::https::HttpsClient;

use super::notice::{clip, one_line};
use super::{Channel, Notice, SendFuture};

/// A webhook's error body in the log: enough for Slack's `invalid_token`-style codes.
const MAX_ERROR_BODY_CHARS: usize = 100;

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
