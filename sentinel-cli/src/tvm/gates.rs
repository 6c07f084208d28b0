//! The TVM's approval and break-glass routes (docs/approvals.md), signed like every
//! other call. The bodies are the `approvals` crate's records as the TVM writes them.

use approvals::{BreakGlassEvent, Request, RequestId};
use protocol::VendResponse;
use sentinel_types::ProfileName;

use super::{Revoked, TvmClient, TvmError, read, route};

/// `GET /requests`'s answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RequestsPage {
    /// The caller's own requests and those they may answer, newest first.
    pub requests: Vec<Request>,
    /// The `next` query parameter of the following page.
    pub next: Option<String>,
}

/// `POST /requests/{id}/revoke`'s answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RequestRevoked {
    /// The request as it now stands.
    pub request: Request,
    /// The sessions vended under it, revoked (the shape of a session revoke's answer).
    pub sessions: Option<Revoked>,
}

/// `POST /breakglass`'s answer: a vend body plus the event's ID.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BreakGlassVend {
    /// The credentials (its `Debug` keeps the secrets out).
    #[serde(flatten)]
    pub vend: VendResponse,
    /// The event that now needs review.
    #[serde(rename = "BreakGlassId")]
    pub breakglass_id: RequestId,
}

/// `GET /breakglass`'s answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct EventsPage {
    /// Events of the profiles the caller may review, newest first.
    pub events: Vec<BreakGlassEvent>,
    /// The `next` query parameter of the following page.
    pub next: Option<String>,
}

/// `{"profile", "reason", "duration"?}`, the body of `POST /requests` and `POST /breakglass`.
fn ask(profile: &ProfileName, reason: &str, duration: Option<u32>) -> String {
    let mut fields = serde_json::Map::new();
    fields.insert("profile".to_owned(), profile.as_str().into());
    fields.insert("reason".to_owned(), reason.into());
    if let Some(secs) = duration {
        fields.insert("duration".to_owned(), secs.into());
    }
    serde_json::Value::Object(fields).to_string()
}

impl TvmClient {
    /// `POST /requests`: a pending request (201).
    pub async fn create_request(
        &self,
        profile: &ProfileName,
        reason: &str,
        duration: Option<u32>,
    ) -> Result<Request, TvmError> {
        let body = ask(profile, reason, duration);
        let answer = self
            .post(route(&self.base, "requests"), body.as_bytes())
            .await?;
        read(&answer, "request")
    }

    /// `GET /requests?...`: one page.
    pub async fn requests(&self, query: &[(&str, &str)]) -> Result<RequestsPage, TvmError> {
        let mut url = route(&self.base, "requests");
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        read(&self.get(url).await?, "requests page")
    }

    /// `GET /requests/{id}`: the request with its current status.
    pub async fn request(&self, id: &RequestId) -> Result<Request, TvmError> {
        let url = route(&self.base, &format!("requests/{id}"));
        read(&self.get(url).await?, "request")
    }

    /// `POST /requests/{id}/approve {"comment"?}`.
    pub async fn approve(
        &self,
        id: &RequestId,
        comment: Option<&str>,
    ) -> Result<Request, TvmError> {
        let url = route(&self.base, &format!("requests/{id}/approve"));
        let body = match comment {
            Some(comment) => serde_json::json!({ "comment": comment }),
            None => serde_json::json!({}),
        }
        .to_string();
        read(&self.post(url, body.as_bytes()).await?, "request")
    }

    /// `POST /requests/{id}/deny {"reason"}`.
    pub async fn deny(&self, id: &RequestId, reason: &str) -> Result<Request, TvmError> {
        let url = route(&self.base, &format!("requests/{id}/deny"));
        let body = serde_json::json!({ "reason": reason }).to_string();
        read(&self.post(url, body.as_bytes()).await?, "request")
    }

    /// `POST /requests/{id}/revoke {"reason"}`: the request ends and its sessions are revoked.
    pub async fn revoke_request(
        &self,
        id: &RequestId,
        reason: &str,
    ) -> Result<RequestRevoked, TvmError> {
        let url = route(&self.base, &format!("requests/{id}/revoke"));
        let body = serde_json::json!({ "reason": reason }).to_string();
        read(
            &self.post(url, body.as_bytes()).await?,
            "request revoke answer",
        )
    }

    /// `POST /breakglass`: credentials without an approver, and the event's ID.
    pub async fn break_glass(
        &self,
        profile: &ProfileName,
        reason: &str,
        duration: Option<u32>,
    ) -> Result<BreakGlassVend, TvmError> {
        let body = ask(profile, reason, duration);
        let answer = self
            .post(route(&self.base, "breakglass"), body.as_bytes())
            .await?;
        read(&answer, "break-glass credentials response")
    }

    /// `GET /breakglass?...`: one page of events.
    pub async fn breakglass_events(&self, query: &[(&str, &str)]) -> Result<EventsPage, TvmError> {
        let mut url = route(&self.base, "breakglass");
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        read(&self.get(url).await?, "break-glass events page")
    }

    /// `GET /breakglass/{id}`.
    pub async fn breakglass_event(&self, id: &RequestId) -> Result<BreakGlassEvent, TvmError> {
        let url = route(&self.base, &format!("breakglass/{id}"));
        read(&self.get(url).await?, "break-glass event")
    }

    /// `POST /breakglass/{id}/review {"notes"}`: closes the event.
    pub async fn review(&self, id: &RequestId, notes: &str) -> Result<BreakGlassEvent, TvmError> {
        let url = route(&self.base, &format!("breakglass/{id}/review"));
        let body = serde_json::json!({ "notes": notes }).to_string();
        read(&self.post(url, body.as_bytes()).await?, "break-glass event")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_break_glass_answer_is_a_vend_body_plus_its_id() {
        let body = serde_json::json!({
            "Version": 1, "AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t",
            "Token": "t", "Expiration": "2026-11-22T14:30:00Z",
            "SessionId": "0123456789abcdef0123456789abcdef", "SourceIdentity": "sentinel=dan",
            "Profile": "prod", "RoleArn": "arn:aws:iam::111122223333:role/SentinelProtected-prod",
            "BreakGlassId": "fedcba9876543210fedcba9876543210",
        });
        let answer: BreakGlassVend = serde_json::from_value(body).unwrap();
        assert_eq!(answer.vend.access_key_id, "ASIA1");
        assert_eq!(
            answer.breakglass_id.as_str(),
            "fedcba9876543210fedcba9876543210"
        );
        let shown = format!("{answer:?}");
        assert!(
            !shown.contains("\"s\"") && !shown.contains("\"t\""),
            "{shown}"
        );
    }

    #[test]
    fn asks_carry_the_duration_only_when_given() {
        let prod = ProfileName::parse("prod").unwrap();
        let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();
        assert_eq!(
            json(ask(&prod, "CHG-1 x", None)),
            serde_json::json!({"profile": "prod", "reason": "CHG-1 x"})
        );
        assert_eq!(
            json(ask(&prod, "CHG-1 x", Some(3600))),
            serde_json::json!({"profile": "prod", "reason": "CHG-1 x", "duration": 3600})
        );
    }
}
