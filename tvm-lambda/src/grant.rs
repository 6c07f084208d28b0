//! What the TVM asks STS for: the `CredentialIssuer` port and the shape of an
//! `AssumeRole` call (SPEC §5), with AWS's documented limits enforced here.
//!
//! moto accepts values real STS refuses (a SourceIdentity outside STS's charset,
//! an over-long tag value, a comma in a tag). Everything this module builds is
//! checked against AWS's rules so that green against moto means green against AWS.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};

/// Session tag keys Sentinel sets on every session.
pub const TAG_SESSION_ID: &str = "sentinel-session-id";
/// The derived user.
pub const TAG_USER: &str = "sentinel-user";
/// The profile.
pub const TAG_PROFILE: &str = "sentinel-profile";

/// STS allows at most 50 session tags per call.
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
/// SourceIdentity and RoleSessionName: 2–64 characters.
const MAX_IDENTITY: usize = 64;

/// One `sts:AssumeRole` call, already validated against STS's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    /// The protected role.
    pub role_arn: String,
    /// `sentinel-<session_id>`.
    pub session_name: String,
    /// `sentinel=<user>`, sanitised to STS's charset.
    pub source_identity: String,
    /// Granted duration in seconds.
    pub duration_secs: u32,
    /// Sentinel's three tags first, then the profile's static tags.
    pub tags: Vec<(String, String)>,
}

/// What the request is for; turned into an [`IssueRequest`] by [`IssueRequest::new`].
#[derive(Debug, Clone, Copy)]
pub struct GrantInput<'a> {
    /// Protected role ARN from the policy.
    pub role_arn: &'a str,
    /// The new session's ID (32 lowercase hex).
    pub session_id: &'a str,
    /// Derived user.
    pub user: &'a str,
    /// Profile name.
    pub profile: &'a str,
    /// Granted duration in seconds.
    pub duration_secs: u32,
    /// The profile's static session tags (validated by the policy engine).
    pub static_tags: &'a [(String, String)],
}

/// A grant that STS would refuse; never reaches STS.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct GrantError(String);

impl IssueRequest {
    /// Builds the AssumeRole parameters of SPEC §5 and checks them against STS's limits.
    pub fn new(input: GrantInput<'_>) -> Result<Self, GrantError> {
        let session_name = format!("sentinel-{}", input.session_id);
        if !(2..=MAX_IDENTITY).contains(&session_name.len())
            || !session_name.chars().all(is_sts_identity_char)
        {
            return Err(GrantError(format!(
                "role session name `{session_name}` is not valid for sts"
            )));
        }

        let mut tags = vec![
            (TAG_SESSION_ID.to_owned(), input.session_id.to_owned()),
            (TAG_USER.to_owned(), tag_value(input.user)),
            (TAG_PROFILE.to_owned(), tag_value(input.profile)),
        ];
        tags.extend(input.static_tags.iter().cloned());
        if tags.len() > MAX_TAGS {
            return Err(GrantError(format!(
                "{} session tags exceed the sts limit of {MAX_TAGS}",
                tags.len()
            )));
        }
        for (key, value) in &tags {
            let key_ok = (1..=MAX_TAG_KEY).contains(&key.chars().count())
                && key.chars().all(policy::is_session_tag_char)
                && !key.to_ascii_lowercase().starts_with("aws:");
            let value_ok = value.chars().count() <= MAX_TAG_VALUE
                && value.chars().all(policy::is_session_tag_char);
            if !key_ok || !value_ok {
                return Err(GrantError(format!(
                    "session tag `{key}` is not valid for sts"
                )));
            }
        }

        Ok(Self {
            role_arn: input.role_arn.to_owned(),
            session_name,
            source_identity: source_identity(input.user),
            duration_secs: input.duration_secs,
            tags,
        })
    }
}

/// `sentinel=<user>`: characters outside `[A-Za-z0-9_=,.@-]` become `_`, cut to 64 (SPEC §5).
pub fn source_identity(user: &str) -> String {
    "sentinel="
        .chars()
        .chain(user.chars())
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '=' | ',' | '.' | '@' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_IDENTITY)
        .collect()
}

/// STS RoleSessionName / SourceIdentity charset: `[\w+=,.@-]`.
fn is_sts_identity_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
}

/// A derived user may carry characters tags refuse (IAM names allow `,`): those become `_`.
fn tag_value(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if policy::is_session_tag_char(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_TAG_VALUE)
        .collect()
}

/// Temporary credentials from STS.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCredentials {
    /// `ASIA...`.
    pub access_key_id: String,
    /// Secret: never logged.
    pub secret_access_key: String,
    /// Secret: never logged.
    pub session_token: String,
    /// When the credentials stop working.
    pub expiration: DateTime<Utc>,
    /// `arn:aws:sts::A:assumed-role/R/sentinel-<id>` when STS reports it.
    pub assumed_role_arn: Option<String>,
}

impl fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &self.expiration)
            .field("assumed_role_arn", &self.assumed_role_arn)
            .finish()
    }
}

/// STS refused or could not be reached. The text is for logs, never for clients.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct IssueError(pub String);

/// Port: something that turns an [`IssueRequest`] into credentials (STS in production).
pub trait CredentialIssuer: Send + Sync {
    /// Performs the AssumeRole call.
    fn issue(
        &self,
        request: &IssueRequest,
    ) -> impl Future<Output = Result<IssuedCredentials, IssueError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(user: &'a str, tags: &'a [(String, String)]) -> GrantInput<'a> {
        GrantInput {
            role_arn: "arn:aws:iam::111122223333:role/SentinelProtected-prod",
            session_id: "0123456789abcdef0123456789abcdef",
            user,
            profile: "prod",
            duration_secs: 900,
            static_tags: tags,
        }
    }

    #[test]
    fn assume_role_parameters_follow_the_contract() {
        let tags = vec![("team".to_owned(), "payments".to_owned())];
        let req = IssueRequest::new(input("alice", &tags)).unwrap();
        assert_eq!(
            req.session_name,
            "sentinel-0123456789abcdef0123456789abcdef"
        );
        assert_eq!(req.source_identity, "sentinel=alice");
        assert_eq!(req.duration_secs, 900);
        let keys: Vec<&str> = req.tags.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, [TAG_SESSION_ID, TAG_USER, TAG_PROFILE, "team"]);
    }

    #[test]
    fn source_identity_is_sanitised_to_the_sts_charset_and_cut_to_64() {
        assert_eq!(
            source_identity("Engineers/alice"),
            "sentinel=Engineers_alice"
        );
        assert_eq!(source_identity("a+b c"), "sentinel=a_b_c");
        assert_eq!(source_identity("jörg"), "sentinel=j_rg");
        let long = source_identity(&"x".repeat(100));
        assert_eq!(long.len(), 64);
        assert!(long.starts_with("sentinel=xxx"));
        assert!(long.chars().all(is_sts_identity_char));
    }

    #[test]
    fn user_tag_drops_characters_sts_tags_refuse() {
        let req = IssueRequest::new(input("ops,admin/bob", &[])).unwrap();
        assert_eq!(
            req.tags[1],
            (TAG_USER.to_owned(), "ops_admin/bob".to_owned())
        );
    }

    #[test]
    fn too_many_tags_are_refused_before_sts() {
        let tags: Vec<(String, String)> =
            (0..48).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        let err = IssueRequest::new(input("alice", &tags)).unwrap_err();
        assert!(err.to_string().contains("exceed"), "{err}");
    }

    #[test]
    fn reserved_tag_prefix_is_refused_before_sts() {
        let tags = vec![("aws:foo".to_owned(), "x".to_owned())];
        assert!(IssueRequest::new(input("alice", &tags)).is_err());
    }

    #[test]
    fn issued_credentials_debug_hides_secrets() {
        let creds = IssuedCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "very-secret-key".into(),
            session_token: "very-secret-token".into(),
            expiration: DateTime::UNIX_EPOCH,
            assumed_role_arn: None,
        };
        let shown = format!("{creds:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("ASIAEXAMPLE"));
    }
}
