//! `CredentialIssuer` on STS `AssumeRole`.

use aws_sdk_sts::Client;
use aws_sdk_sts::types::Tag;
use chrono::{DateTime, Utc};

use crate::grant::{CredentialIssuer, IssueError, IssueRequest, IssuedCredentials};
use sentinel_aws::classify;

/// Calls `sts:AssumeRole` with the TVM's own credentials.
#[derive(Debug, Clone)]
pub struct StsIssuer {
    client: Client,
}

impl StsIssuer {
    /// Wraps a client built once per container.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl CredentialIssuer for StsIssuer {
    async fn issue(&self, request: &IssueRequest) -> Result<IssuedCredentials, IssueError> {
        let tags = request
            .tags
            .iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| IssueError(format!("session tag: {e}")))?;
        let duration = i32::try_from(request.duration_secs)
            .map_err(|_| IssueError(format!("duration {} out of range", request.duration_secs)))?;
        let output = self
            .client
            .assume_role()
            .role_arn(request.role_arn.as_str())
            .role_session_name(request.session_name.as_str())
            .source_identity(request.source_identity.as_str())
            .duration_seconds(duration)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| {
                IssueError(format!(
                    "sts:AssumeRole on `{}`: {}",
                    request.role_arn,
                    classify(&e).detail
                ))
            })?;
        let credentials = output
            .credentials()
            .ok_or_else(|| IssueError("sts:AssumeRole returned no credentials".into()))?;
        let expiration = credentials.expiration();
        let expiration =
            DateTime::<Utc>::from_timestamp(expiration.secs(), expiration.subsec_nanos())
                .ok_or_else(|| {
                    IssueError("sts:AssumeRole returned an invalid expiration".into())
                })?;
        Ok(IssuedCredentials {
            credentials: protocol::Credentials {
                access_key_id: credentials.access_key_id().to_owned(),
                secret_access_key: credentials.secret_access_key().to_owned(),
                session_token: credentials.session_token().to_owned(),
                expiration,
            },
            assumed_role_arn: output.assumed_role_user().map(|u| u.arn().to_owned()),
        })
    }
}
