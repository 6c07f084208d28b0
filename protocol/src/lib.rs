//! Sentinel's wire contract: what the TVM and its clients say to each other (SPEC §5, §8).
//!
//! This crate is the request, the 200 response, the error body and the
//! `credential_process` output as serde types, plus the two input rules both
//! sides must agree on (profile names and durations). It is serde only: no I/O,
//! no async, no AWS. It is **not** the policy language (crate `policy`) nor the
//! session record (crate `sessions`).
//!
//! ```
//! use protocol::{CredentialProcessOutput, VendResponse};
//!
//! let body = r#"{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s","SessionToken":"t",
//!   "Token":"t","Expiration":"2026-11-22T14:30:00Z","SessionId":"00112233445566778899aabbccddeeff",
//!   "SourceIdentity":"sentinel=alice","Profile":"prod",
//!   "RoleArn":"arn:aws:iam::111122223333:role/SentinelProtected-prod"}"#;
//! let vended: VendResponse = serde_json::from_str(body).unwrap();
//! let out = CredentialProcessOutput::from(&vended);
//! assert_eq!(out.access_key_id, "ASIAEXAMPLE");
//! assert!(!format!("{vended:?}").contains("\"s\""));
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Shortest credentials STS issues for a role session (seconds).
pub const MIN_DURATION_SECS: u32 = 900;
/// Longest credentials STS issues for a role session (seconds).
pub const MAX_DURATION_SECS: u32 = 43_200;
/// `credential_process` output format version.
pub const CREDENTIAL_PROCESS_VERSION: u8 = 1;

/// An input the contract does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Profile names match `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`.
    #[error(
        "profile `{0}` is not a valid profile name (letters, digits, `_`, `.`, `-`; up to 128; starting with a letter or digit)"
    )]
    InvalidProfile(String),
    /// Durations are whole seconds in 900..=43200.
    #[error("duration `{0}` must be whole seconds between 900 and 43200")]
    InvalidDuration(String),
    /// Not one of the codes of SPEC §5.
    #[error("unknown error code `{0}`")]
    UnknownCode(String),
}

/// A profile name as SPEC §4 allows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileName(String);

impl ProfileName {
    /// Checks `raw` against `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`.
    pub fn parse(raw: &str) -> Result<Self, ProtocolError> {
        let mut chars = raw.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if first_ok && rest_ok && raw.len() <= 128 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ProtocolError::InvalidProfile(raw.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ProfileName {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Parses a `duration` as sent in a query string: ASCII digits only, 900..=43200.
pub fn parse_duration_param(raw: &str) -> Result<u32, ProtocolError> {
    let invalid = || ProtocolError::InvalidDuration(raw.to_owned());
    if raw.is_empty() || raw.len() > 6 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let secs: u32 = raw.parse().map_err(|_| invalid())?;
    check_duration(i64::from(secs)).map_err(|_| invalid())
}

/// Checks a numeric duration (seconds) against 900..=43200.
pub fn check_duration(secs: i64) -> Result<u32, ProtocolError> {
    u32::try_from(secs)
        .ok()
        .filter(|s| (MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(s))
        .ok_or_else(|| ProtocolError::InvalidDuration(secs.to_string()))
}

/// `POST /` body. `duration` is kept wide so that a negative or huge number is an
/// `INVALID_DURATION`, not a JSON error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendRequest {
    /// Profile to vend for.
    pub profile: String,
    /// Requested lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
}

/// The 200 body of a vend (SPEC §5). Also a valid `credential_process` document and
/// an ECS container-credentials response (`Token`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VendResponse {
    /// Always 1.
    pub version: u8,
    /// `ASIA...`.
    pub access_key_id: String,
    /// Secret; never logged.
    pub secret_access_key: String,
    /// Secret; never logged.
    pub session_token: String,
    /// Copy of `SessionToken` for ECS-style consumers.
    pub token: String,
    /// When the credentials stop working.
    #[serde(with = "wire_time")]
    pub expiration: DateTime<Utc>,
    /// 32 lowercase hex.
    pub session_id: String,
    /// `sentinel=<user>`.
    pub source_identity: String,
    /// The profile vended for.
    pub profile: String,
    /// The protected role assumed.
    pub role_arn: String,
}

impl VendResponse {
    /// Builds a response; `Token` is filled from `session_token`.
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the ten fields of the wire contract"
    )]
    pub fn new(
        access_key_id: String,
        secret_access_key: String,
        session_token: String,
        expiration: DateTime<Utc>,
        session_id: String,
        source_identity: String,
        profile: String,
        role_arn: String,
    ) -> Self {
        Self {
            version: CREDENTIAL_PROCESS_VERSION,
            access_key_id,
            secret_access_key,
            token: session_token.clone(),
            session_token,
            expiration,
            session_id,
            source_identity,
            profile,
            role_arn,
        }
    }
}

impl fmt::Debug for VendResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendResponse")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .field("session_id", &self.session_id)
            .field("source_identity", &self.source_identity)
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .finish()
    }
}

/// Exactly what `credential_process` prints on stdout (SPEC §8).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CredentialProcessOutput {
    /// Always 1.
    pub version: u8,
    /// `ASIA...`.
    pub access_key_id: String,
    /// Secret; never logged.
    pub secret_access_key: String,
    /// Secret; never logged.
    pub session_token: String,
    /// When the SDK must ask again.
    #[serde(with = "wire_time")]
    pub expiration: DateTime<Utc>,
}

impl From<&VendResponse> for CredentialProcessOutput {
    fn from(v: &VendResponse) -> Self {
        Self {
            version: CREDENTIAL_PROCESS_VERSION,
            access_key_id: v.access_key_id.clone(),
            secret_access_key: v.secret_access_key.clone(),
            session_token: v.session_token.clone(),
            expiration: v.expiration,
        }
    }
}

impl fmt::Debug for CredentialProcessOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialProcessOutput")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// One entry of `GET /profiles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileEntry {
    /// Profile name.
    pub name: String,
    /// Where its policy lives in SSM.
    pub policy_path: String,
}

/// `GET /profiles` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilesResponse {
    /// Every profile with a policy, sorted by name.
    pub profiles: Vec<ProfileEntry>,
    /// The SSM path holding the policies.
    pub root: String,
}

/// Error codes of SPEC §5. Each has exactly one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 400: no `profile`.
    MissingProfile,
    /// 400: `profile` is not a valid name.
    InvalidProfile,
    /// 400: `duration` outside 900..=43200 or not a number.
    InvalidDuration,
    /// 400: anything else malformed.
    InvalidRequest,
    /// 403: no IAM identity on the request.
    IamAuthRequired,
    /// 403: identity refused (root, unparsable).
    InvalidIdentity,
    /// 403: account or organization not allowed.
    AccountNotAllowed,
    /// 403: the policy did not allow.
    PolicyDeny,
    /// 404: no policy for the profile.
    ProfileNotFound,
    /// 404: unknown path.
    NotFound,
    /// 405: method not allowed on the path.
    MethodNotAllowed,
    /// 500: the profile's policy is invalid or unreadable.
    PolicyError,
    /// 500: the TVM is misconfigured (for example not allowed to read SSM).
    ConfigError,
    /// 500: STS refused or failed.
    CredentialError,
    /// 500: the session could not be recorded.
    SessionStoreError,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 15] = [
        Self::MissingProfile,
        Self::InvalidProfile,
        Self::InvalidDuration,
        Self::InvalidRequest,
        Self::IamAuthRequired,
        Self::InvalidIdentity,
        Self::AccountNotAllowed,
        Self::PolicyDeny,
        Self::ProfileNotFound,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::PolicyError,
        Self::ConfigError,
        Self::CredentialError,
        Self::SessionStoreError,
    ];

    /// The wire name, e.g. `POLICY_DENY`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingProfile => "MISSING_PROFILE",
            Self::InvalidProfile => "INVALID_PROFILE",
            Self::InvalidDuration => "INVALID_DURATION",
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::IamAuthRequired => "IAM_AUTH_REQUIRED",
            Self::InvalidIdentity => "INVALID_IDENTITY",
            Self::AccountNotAllowed => "ACCOUNT_NOT_ALLOWED",
            Self::PolicyDeny => "POLICY_DENY",
            Self::ProfileNotFound => "PROFILE_NOT_FOUND",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::PolicyError => "POLICY_ERROR",
            Self::ConfigError => "CONFIG_ERROR",
            Self::CredentialError => "CREDENTIAL_ERROR",
            Self::SessionStoreError => "SESSION_STORE_ERROR",
        }
    }

    /// The HTTP status this code is always sent with.
    pub fn status(self) -> u16 {
        match self {
            Self::MissingProfile
            | Self::InvalidProfile
            | Self::InvalidDuration
            | Self::InvalidRequest => 400,
            Self::IamAuthRequired
            | Self::InvalidIdentity
            | Self::AccountNotAllowed
            | Self::PolicyDeny => 403,
            Self::ProfileNotFound | Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::PolicyError
            | Self::ConfigError
            | Self::CredentialError
            | Self::SessionStoreError => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorCode {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ProtocolError::UnknownCode(s.to_owned()))
    }
}

/// Error body of SPEC §5. `code` stays a string on the way in so that a client
/// still shows a code a newer server invented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorBody {
    /// For example `POLICY_DENY`.
    pub code: String,
    /// Human-readable, safe for the caller.
    pub message: String,
    /// Correlates with the TVM's decision log line.
    pub request_id: String,
}

impl ErrorBody {
    /// An error body for `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>, request_id: impl Into<String>) -> Self {
        Self {
            code: code.as_str().to_owned(),
            message: message.into(),
            request_id: request_id.into(),
        }
    }

    /// The code, when it is one this version knows.
    pub fn known_code(&self) -> Option<ErrorCode> {
        self.code.parse().ok()
    }
}

/// RFC 3339 in UTC with whole seconds and `Z`, as every AWS SDK parses it.
pub mod wire_time {
    use super::*;

    /// Formats `at` as `2026-11-22T14:30:00Z`.
    pub fn format(at: &DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// serde `with` serializer.
    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(at))
    }

    /// serde `with` deserializer; accepts any RFC 3339 offset.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VEND: &str = include_str!("../tests/fixtures/vend-response.json");
    const ERROR: &str = include_str!("../tests/fixtures/error-policy-deny.json");
    const PROFILES: &str = include_str!("../tests/fixtures/profiles.json");
    const CREDENTIAL_PROCESS: &str = include_str!("../tests/fixtures/credential-process.json");

    fn json(raw: &str) -> serde_json::Value {
        serde_json::from_str(raw).unwrap()
    }

    #[test]
    fn vend_response_round_trips_the_saved_fixture() {
        let parsed: VendResponse = serde_json::from_str(VEND).unwrap();
        assert_eq!(parsed.token, parsed.session_token);
        assert_eq!(parsed.expiration.to_rfc3339(), "2026-11-22T14:30:00+00:00");
        assert_eq!(json(&serde_json::to_string(&parsed).unwrap()), json(VEND));
    }

    #[test]
    fn new_vend_response_copies_the_token_for_ecs_consumers() {
        let v = VendResponse::new(
            "ASIA1".into(),
            "secret".into(),
            "tok".into(),
            Utc::now(),
            "0".repeat(32),
            "sentinel=alice".into(),
            "prod".into(),
            "arn:aws:iam::111122223333:role/R".into(),
        );
        assert_eq!(v.token, "tok");
        assert_eq!(v.version, 1);
    }

    #[test]
    fn credential_process_output_matches_the_saved_fixture() {
        let vended: VendResponse = serde_json::from_str(VEND).unwrap();
        let out = CredentialProcessOutput::from(&vended);
        assert_eq!(
            json(&serde_json::to_string(&out).unwrap()),
            json(CREDENTIAL_PROCESS)
        );
    }

    #[test]
    fn secrets_never_print_in_debug() {
        let vended: VendResponse = serde_json::from_str(VEND).unwrap();
        let out = CredentialProcessOutput::from(&vended);
        for text in [format!("{vended:?}"), format!("{out:?}")] {
            assert!(!text.contains(&vended.secret_access_key), "{text}");
            assert!(!text.contains(&vended.session_token), "{text}");
            assert!(text.contains("<redacted>"));
            assert!(text.contains(&vended.access_key_id));
        }
    }

    #[test]
    fn error_body_round_trips_and_keeps_unknown_codes() {
        let parsed: ErrorBody = serde_json::from_str(ERROR).unwrap();
        assert_eq!(parsed.known_code(), Some(ErrorCode::PolicyDeny));
        assert_eq!(json(&serde_json::to_string(&parsed).unwrap()), json(ERROR));
        let future: ErrorBody =
            serde_json::from_str(r#"{"Code":"NEW_THING","Message":"m","RequestId":"r"}"#).unwrap();
        assert_eq!(future.known_code(), None);
        assert_eq!(future.code, "NEW_THING");
    }

    #[test]
    fn profiles_response_round_trips() {
        let parsed: ProfilesResponse = serde_json::from_str(PROFILES).unwrap();
        assert_eq!(parsed.profiles.len(), 2);
        assert_eq!(
            json(&serde_json::to_string(&parsed).unwrap()),
            json(PROFILES)
        );
    }

    #[test]
    fn every_code_has_its_spec_status_and_parses_back() {
        let expected = [
            400, 400, 400, 400, 403, 403, 403, 403, 404, 404, 405, 500, 500, 500, 500,
        ];
        for (code, status) in ErrorCode::ALL.into_iter().zip(expected) {
            assert_eq!(code.status(), status, "{code}");
            assert_eq!(code.as_str().parse::<ErrorCode>().unwrap(), code);
        }
        assert!("nope".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn profile_names_follow_the_spec_pattern() {
        for ok in ["prod", "a", "Dev_1.x-y", &"a".repeat(128)] {
            assert!(ProfileName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-x",
            ".x",
            "_x",
            "a/b",
            "a b",
            "ü",
            &"a".repeat(129),
            "a\n",
        ] {
            assert!(ProfileName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_are_whole_seconds_within_sts_limits() {
        assert_eq!(parse_duration_param("900"), Ok(900));
        assert_eq!(parse_duration_param("43200"), Ok(43_200));
        for bad in [
            "",
            "899",
            "43201",
            "-900",
            "+900",
            "1e3",
            "9000000000",
            " 900",
            "900s",
        ] {
            assert!(parse_duration_param(bad).is_err(), "{bad:?}");
        }
        assert!(check_duration(-1).is_err());
        assert!(check_duration(i64::MAX).is_err());
        assert_eq!(check_duration(3600), Ok(3600));
    }

    #[test]
    fn vend_request_rejects_unknown_fields_and_accepts_missing_duration() {
        let r: VendRequest = serde_json::from_str(r#"{"profile":"prod"}"#).unwrap();
        assert_eq!(r.duration, None);
        let r: VendRequest = serde_json::from_str(r#"{"profile":"prod","duration":-5}"#).unwrap();
        assert_eq!(r.duration, Some(-5));
        assert!(serde_json::from_str::<VendRequest>(r#"{"profile":"p","role":"x"}"#).is_err());
    }
}
