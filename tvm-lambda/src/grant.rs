//! What the TVM asks STS for: the `CredentialIssuer` port and the shape of an
//! `AssumeRole` call (docs/api.md), with AWS's documented limits enforced here.
//!
//! moto accepts values real STS refuses (a SourceIdentity outside STS's charset,
//! an over-long tag value, a comma in a tag). Everything this module builds is
//! checked against AWS's rules so that green against moto means green against AWS.

use std::future::Future;

use protocol::Credentials;
use sentinel_types::tags::{self, PROFILE_TAG, SESSION_ID_TAG, USER_TAG};
use sentinel_types::{ProfileName, RoleArn, RoleSessionName, SessionId, SourceIdentity};

/// One `sts:AssumeRole` call, already validated against STS's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    /// The protected role.
    pub role_arn: RoleArn,
    /// `sentinel-<session_id>`.
    pub session_name: RoleSessionName,
    /// `sentinel=<user>`, encoded for STS.
    pub source_identity: SourceIdentity,
    /// Granted duration in seconds.
    pub duration_secs: u32,
    /// Sentinel's three tags first, then the profile's static tags.
    pub tags: Vec<(String, String)>,
}

/// What the request is for; turned into an [`IssueRequest`] by [`IssueRequest::new`].
#[derive(Debug, Clone, Copy)]
pub struct GrantInput<'a> {
    /// Protected role ARN from the policy.
    pub role_arn: &'a RoleArn,
    /// The new session's ID.
    pub session_id: &'a SessionId,
    /// Derived user.
    pub user: &'a str,
    /// Profile name.
    pub profile: &'a ProfileName,
    /// Granted duration in seconds.
    pub duration_secs: u32,
    /// The profile's static session tags (validated by the policy engine).
    pub static_tags: &'a [(String, String)],
    /// The approved request or break-glass event the session is vended under, as its
    /// tag (`sentinel-approval-id` / `sentinel-breakglass-id`) and ID.
    pub gate: Option<(&'static str, &'a str)>,
}

/// A grant that STS would refuse; never reaches STS.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct GrantError(String);

impl IssueRequest {
    /// Builds the AssumeRole parameters of docs/api.md and checks them against STS's limits.
    pub fn new(input: GrantInput<'_>) -> Result<Self, GrantError> {
        let mut tags = vec![
            (SESSION_ID_TAG.to_owned(), input.session_id.to_string()),
            (USER_TAG.to_owned(), tags::tag_value(input.user)),
            (PROFILE_TAG.to_owned(), input.profile.to_string()),
        ];
        tags.extend(input.gate.map(|(key, id)| (key.to_owned(), id.to_owned())));
        tags.extend(input.static_tags.iter().cloned());
        tags::check_tags(&tags).map_err(|e| GrantError(e.to_string()))?;
        Ok(Self {
            role_arn: input.role_arn.clone(),
            session_name: RoleSessionName::for_session(input.session_id),
            source_identity: SourceIdentity::for_user(input.user),
            duration_secs: input.duration_secs,
            tags,
        })
    }
}

/// Temporary credentials from STS, with the session ARN STS reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCredentials {
    /// The keys (redacted in `Debug`).
    pub credentials: Credentials,
    /// `arn:aws:sts::A:assumed-role/R/sentinel-<id>` when STS reports it.
    pub assumed_role_arn: Option<String>,
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

    fn input<'a>(
        user: &'a str,
        tags: &'a [(String, String)],
        ids: &'a (RoleArn, SessionId, ProfileName),
    ) -> GrantInput<'a> {
        GrantInput {
            role_arn: &ids.0,
            session_id: &ids.1,
            user,
            profile: &ids.2,
            duration_secs: 900,
            static_tags: tags,
            gate: None,
        }
    }

    fn ids() -> (RoleArn, SessionId, ProfileName) {
        (
            "arn:aws:iam::111122223333:role/SentinelProtected-prod"
                .parse()
                .unwrap(),
            "0123456789abcdef0123456789abcdef".parse().unwrap(),
            "prod".parse().unwrap(),
        )
    }

    #[test]
    fn assume_role_parameters_follow_the_contract() {
        let tags = vec![("team".to_owned(), "payments".to_owned())];
        let ids = ids();
        let req = IssueRequest::new(input("alice", &tags, &ids)).unwrap();
        assert_eq!(
            req.session_name.as_str(),
            "sentinel-0123456789abcdef0123456789abcdef"
        );
        assert_eq!(req.source_identity.as_str(), "sentinel=alice");
        assert_eq!(req.duration_secs, 900);
        let keys: Vec<&str> = req.tags.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, [SESSION_ID_TAG, USER_TAG, PROFILE_TAG, "team"]);
    }

    #[test]
    fn user_tag_drops_characters_sts_tags_refuse() {
        let ids = ids();
        let req = IssueRequest::new(input("ops,admin/bob", &[], &ids)).unwrap();
        assert_eq!(
            req.tags[1],
            (USER_TAG.to_owned(), "ops_admin/bob".to_owned())
        );
    }

    #[test]
    fn too_many_tags_are_refused_before_sts() {
        let tags: Vec<(String, String)> =
            (0..48).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        let ids = ids();
        let err = IssueRequest::new(input("alice", &tags, &ids)).unwrap_err();
        assert!(err.to_string().contains("exceed"), "{err}");
    }

    #[test]
    fn reserved_tag_prefix_is_refused_before_sts() {
        let tags = vec![("aws:foo".to_owned(), "x".to_owned())];
        let ids = ids();
        assert!(IssueRequest::new(input("alice", &tags, &ids)).is_err());
    }
}
