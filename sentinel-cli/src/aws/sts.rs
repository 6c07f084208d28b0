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
