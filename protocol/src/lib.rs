//! Sentinel's wire contract: what the TVM and its clients say to each other (docs/api.md, docs/cli.md).
//!
//! This crate is the 200 response, the error body and the `credential_process`
//! output as serde types; the names in them (profile, session ID, role ARN,
//! SourceIdentity) are the validated types of `sentinel-types`. It is serde only:
//! no I/O, no async, no AWS. It is **not** the policy language (crate `policy`) nor the
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
use sentinel_types::{ProfileName, RoleArn, SessionId, SourceIdentity};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `credential_process` output format version.
pub const CREDENTIAL_PROCESS_VERSION: u8 = 1;

/// An input the contract does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Not one of the codes of docs/api.md.
    #[error("unknown error code `{0}`")]
    UnknownCode(String),
}

/// The 200 body of a vend (docs/api.md). Also a valid `credential_process` document and
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
    pub session_id: SessionId,
    /// `sentinel=<user>`.
    pub source_identity: SourceIdentity,
    /// The profile vended for.
    pub profile: ProfileName,
    /// The protected role assumed.
    pub role_arn: RoleArn,
}

/// Temporary AWS credentials: what STS answers and `credential_process` prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `ASIA...`.
    pub access_key_id: String,
    /// Secret; never logged.
    pub secret_access_key: String,
    /// Secret; never logged.
    pub session_token: String,
    /// When the credentials stop working.
    pub expiration: DateTime<Utc>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Which session the credentials of a [`VendResponse`] belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendedSession {
    /// The session's ID (also in its role session name).
    pub session_id: SessionId,
    /// The SourceIdentity set on the role session.
    pub source_identity: SourceIdentity,
    /// The profile vended for.
    pub profile: ProfileName,
    /// The protected role assumed.
    pub role_arn: RoleArn,
}

impl VendResponse {
    /// The body for `credentials` of `session`; `Token` is filled from the session token.
    pub fn new(credentials: Credentials, session: VendedSession) -> Self {
        Self {
            version: CREDENTIAL_PROCESS_VERSION,
            access_key_id: credentials.access_key_id,
            secret_access_key: credentials.secret_access_key,
            token: credentials.session_token.clone(),
            session_token: credentials.session_token,
            expiration: credentials.expiration,
            session_id: session.session_id,
            source_identity: session.source_identity,
            profile: session.profile,
            role_arn: session.role_arn,
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

/// Exactly what `credential_process` prints on stdout (docs/cli.md).
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
    pub name: ProfileName,
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

/// Error codes of docs/api.md. Each has exactly one HTTP status.
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
    /// 401: `/exchange`'s bearer token does not verify (the reason is in the log only).
    InvalidToken,
    /// 403: no IAM identity on the request.
    IamAuthRequired,
    /// 403: identity refused (root, unparsable).
    InvalidIdentity,
    /// 403: account or organization not allowed.
    AccountNotAllowed,
    /// 403: the policy did not allow.
    PolicyDeny,
    /// 403: the admin policy did not allow an admin route (or there is none).
    AdminDeny,
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
    /// 404 (`sentinel-proxy`): method and path match no allowed route.
    RouteNotAllowed,
    /// 413 (`sentinel-proxy`): the request body is over the limit.
    BodyTooLarge,
    /// 502 (`sentinel-proxy`): the upstream could not be reached or answered badly.
    UpstreamError,
    /// 504 (`sentinel-proxy`): the upstream did not answer in time.
    UpstreamTimeout,
    /// 403: the deciding rule is `require_approval` and the caller holds no approved,
    /// unexpired request for the profile.
    ApprovalRequired,
    /// 403: the caller may not approve, deny or see this request.
    ApprovalDeny,
    /// 409: the request's state does not allow the transition.
    RequestConflict,
    /// 400: the reason breaks the rule's `reason` constraints.
    InvalidReason,
    /// 429: a break-glass use inside the rule's cooldown.
    Cooldown,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 26] = [
        Self::MissingProfile,
        Self::InvalidProfile,
        Self::InvalidDuration,
        Self::InvalidRequest,
        Self::IamAuthRequired,
        Self::InvalidIdentity,
        Self::AccountNotAllowed,
        Self::PolicyDeny,
        Self::AdminDeny,
        Self::ProfileNotFound,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::PolicyError,
        Self::ConfigError,
        Self::CredentialError,
        Self::SessionStoreError,
        Self::RouteNotAllowed,
        Self::BodyTooLarge,
        Self::UpstreamError,
        Self::UpstreamTimeout,
        Self::InvalidToken,
        Self::ApprovalRequired,
        Self::ApprovalDeny,
        Self::RequestConflict,
        Self::InvalidReason,
        Self::Cooldown,
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
            Self::AdminDeny => "ADMIN_DENY",
            Self::ProfileNotFound => "PROFILE_NOT_FOUND",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::PolicyError => "POLICY_ERROR",
            Self::ConfigError => "CONFIG_ERROR",
            Self::CredentialError => "CREDENTIAL_ERROR",
            Self::SessionStoreError => "SESSION_STORE_ERROR",
            Self::RouteNotAllowed => "ROUTE_NOT_ALLOWED",
            Self::BodyTooLarge => "BODY_TOO_LARGE",
            Self::UpstreamError => "UPSTREAM_ERROR",
            Self::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::ApprovalRequired => "APPROVAL_REQUIRED",
            Self::ApprovalDeny => "APPROVAL_DENY",
            Self::RequestConflict => "REQUEST_CONFLICT",
            Self::InvalidReason => "INVALID_REASON",
            Self::Cooldown => "COOLDOWN",
        }
    }

    /// The HTTP status this code is always sent with.
    pub fn status(self) -> u16 {
        match self {
            Self::MissingProfile
            | Self::InvalidProfile
            | Self::InvalidDuration
            | Self::InvalidRequest
            | Self::InvalidReason => 400,
            Self::InvalidToken => 401,
            Self::IamAuthRequired
            | Self::InvalidIdentity
            | Self::AccountNotAllowed
            | Self::PolicyDeny
            | Self::AdminDeny
            | Self::ApprovalRequired
            | Self::ApprovalDeny => 403,
            Self::ProfileNotFound | Self::NotFound | Self::RouteNotAllowed => 404,
            Self::MethodNotAllowed => 405,
            Self::RequestConflict => 409,
            Self::BodyTooLarge => 413,
            Self::Cooldown => 429,
            Self::PolicyError
            | Self::ConfigError
            | Self::CredentialError
            | Self::SessionStoreError => 500,
            Self::UpstreamError => 502,
            Self::UpstreamTimeout => 504,
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

/// The outcome class of a request in a decision log line (docs/api.md, "Decision
/// log"; the proxy's lines in docs/proxy.md use it too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// What was asked for was done (credentials, a list, a forwarded request).
    Allow,
    /// The caller or request was refused (4xx).
    Deny,
    /// The service failed closed (5xx).
    Error,
}

impl Effect {
    /// A refusal's class: a 5xx code is the service failing closed, any other a denial.
    pub fn of_refusal(code: ErrorCode) -> Self {
        if code.status() >= 500 {
            Self::Error
        } else {
            Self::Deny
        }
    }

    /// The level of a log line with this effect.
    pub fn level(self) -> &'static str {
        match self {
            Self::Allow => "info",
            Self::Deny => "warn",
            Self::Error => "error",
        }
    }
}

/// Error body of docs/api.md. `code` stays a string on the way in so that a client
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
            Credentials {
                access_key_id: "ASIA1".into(),
                secret_access_key: "secret".into(),
                session_token: "tok".into(),
                expiration: Utc::now(),
            },
            VendedSession {
                session_id: SessionId::from_bytes([0; 16]),
                source_identity: SourceIdentity::for_user("alice"),
                profile: "prod".parse().unwrap(),
                role_arn: "arn:aws:iam::111122223333:role/R".parse().unwrap(),
            },
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
    fn refusals_are_denials_unless_the_service_failed() {
        assert_eq!(Effect::of_refusal(ErrorCode::PolicyDeny), Effect::Deny);
        assert_eq!(Effect::of_refusal(ErrorCode::InvalidToken), Effect::Deny);
        assert_eq!(
            Effect::of_refusal(ErrorCode::UpstreamTimeout),
            Effect::Error
        );
        assert_eq!(Effect::of_refusal(ErrorCode::ConfigError), Effect::Error);
        assert_eq!(
            [Effect::Allow, Effect::Deny, Effect::Error].map(Effect::level),
            ["info", "warn", "error"]
        );
        assert_eq!(serde_json::to_string(&Effect::Deny).unwrap(), r#""deny""#);
    }

    #[test]
    fn every_code_has_its_spec_status_and_parses_back() {
        let expected = [
            400, 400, 400, 400, 403, 403, 403, 403, 403, 404, 404, 405, 500, 500, 500, 500, 404,
            413, 502, 504, 401, 403, 403, 409, 400, 429,
        ];
        assert_eq!(expected.len(), ErrorCode::ALL.len());
        for (code, status) in ErrorCode::ALL.into_iter().zip(expected) {
            assert_eq!(code.status(), status, "{code}");
            assert_eq!(code.as_str().parse::<ErrorCode>().unwrap(), code);
        }
        assert!("nope".parse::<ErrorCode>().is_err());
    }
}
