//! What a `/requests` call carries, checked: the request ID of its path and the fields of
//! its JSON body.

use approvals::RequestId;
use protocol::ErrorCode;
use sentinel_types::{ProfileName, SessionDuration};
use serde_json::Value;

use crate::service::ApiError;
use crate::service::admin::Body;

/// Longest comment or denial reason kept.
const MAX_NOTE_CHARS: usize = 512;

/// The request ID of a path, checked.
pub(in crate::service) fn parse_id(raw: &str) -> Result<RequestId, ApiError> {
    RequestId::parse(raw).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "an id is 32 lowercase hex characters",
        )
        .with_cause(&e)
    })
}

/// An optional one-line note (`comment`), trimmed and bounded.
pub(super) fn note(body: &mut Body, name: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = body.string(name)? else {
        return Ok(None);
    };
    let text = text.trim();
    if text.chars().count() > MAX_NOTE_CHARS || text.chars().any(sentinel_types::is_hidden_char) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("`{name}` must be one line of at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// A required one-line note (`reason` of a denial or revocation).
pub(super) fn required_note(body: &mut Body, name: &str) -> Result<String, ApiError> {
    note(body, name)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            format!("the `{name}` field is required"),
        )
    })
}

/// The `duration` of a JSON body: whole seconds in range, or absent.
pub(in crate::service) fn body_duration(body: &mut Body) -> Result<Option<u32>, ApiError> {
    let raw = match body.take("duration") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidDuration,
                format!("`duration` must be a whole number of seconds, not {other}"),
            ));
        }
    };
    SessionDuration::parse_seconds(&raw)
        .map(|d| Some(d.secs()))
        .map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidDuration,
                format!(
                    "duration `{raw}` must be whole seconds between {} and {}",
                    SessionDuration::MIN.secs(),
                    SessionDuration::MAX.secs()
                ),
            )
            .with_cause(&e)
        })
}

/// The body's `profile`, checked.
pub(in crate::service) fn body_profile(body: &mut Body) -> Result<ProfileName, ApiError> {
    let raw = body.string("profile")?.ok_or_else(|| {
        ApiError::new(ErrorCode::MissingProfile, "the `profile` field is required")
    })?;
    ProfileName::parse(&raw).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidProfile,
            format!("profile `{raw}` is not a valid profile name"),
        )
        .with_cause(&e)
    })
}
