//! Who is calling: the ARN that signs this shell's AWS calls.

use aws_sdk_sts::Client;

use super::sdk_failure;
use crate::failure::Failure;

/// `sts:GetCallerIdentity`'s ARN.
pub async fn caller_arn(config: &aws_config::SdkConfig) -> Result<String, Failure> {
    let out = Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| sdk_failure("sts GetCallerIdentity", &e))?;
    out.arn
        .ok_or_else(|| Failure::error("sts GetCallerIdentity returned no arn"))
}

/// A configuration whose credentials are a session of `role_arn`, assumed with this
/// shell's credentials (`config`).
pub async fn assume(
    config: &aws_config::SdkConfig,
    role_arn: &str,
) -> Result<aws_config::SdkConfig, Failure> {
    let out = Client::new(config)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("sentinel-revoke")
        .send()
        .await
        .map_err(|e| sdk_failure(&format!("sts AssumeRole `{role_arn}`"), &e))?;
    let credentials = out.credentials().ok_or_else(|| {
        Failure::error(format!(
            "sts AssumeRole `{role_arn}` returned no credentials"
        ))
    })?;
    let session = aws_credential_types::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
        None,
        "sentinel-revoker",
    );
    Ok(config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(session),
        )
        .build())
}
