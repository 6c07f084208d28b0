//! What a notification says: [`NoticeKind`], [`Notice`] and its text, subject and
//! payload, with the helpers that neutralise caller-supplied text.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Caller-supplied names (users, profile, ID) in the text: longer ones are cut.
pub(super) const MAX_NAME_CHARS: usize = 128;
/// Caller-supplied prose (reason, detail): in the text and in the `sentinel` object.
const MAX_PROSE_CHARS: usize = 1000;
/// SNS: "less than 100 characters", ASCII without control characters.
const MAX_SUBJECT_CHARS: usize = 99;

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
pub(super) fn one_line(raw: &str) -> String {
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
pub(super) fn clip(raw: &str, max: usize) -> String {
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
