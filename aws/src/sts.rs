//! Who this process is: the account of its own credentials.

use sentinel_types::AccountId;

/// The account of this process's own credentials (`sts:GetCallerIdentity`): the home
/// account of a local `serve` when `--account-id` is not given.
pub async fn own_account(config: &aws_config::SdkConfig) -> Result<AccountId, String> {
    let identity = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot learn this process's own account (sts:GetCallerIdentity): {}; pass --account-id",
                sentinel_types::error_chain(&e)
            )
        })?;
    AccountId::parse(identity.account().unwrap_or_default())
        .map_err(|_| "sts:GetCallerIdentity answered no account; pass --account-id".to_owned())
}
