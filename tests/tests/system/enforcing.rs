//! moto in auth mode (`INITIAL_NO_AUTH_ACTION_COUNT`): after a few free requests it
//! verifies every SigV4 signature and evaluates IAM policies. One IAM user, allowed
//! everything, plays the deployment's own principal (the TVM, the authorizer).
//!
//! What moto's evaluation does not model (so tests say what they cannot show): SCPs and
//! RCPs, the expiry of the session credentials it issued, and every condition but
//! `StringEquals` on `sts:ExternalId`: a statement whose condition keys it cannot
//! resolve (`aws:PrincipalTag/...`, `aws:TokenIssueTime`) applies as if it matched.

#![cfg(test)]

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use system_tests::Moto;

/// Requests moto lets through unchecked: enough for the harness's readiness probes and
/// the user below; what is left is used up before [`start`] returns.
const FREE_REQUESTS: u32 = 40;

/// An enforcing moto and its all-powerful principal.
pub struct Enforcing {
    pub moto: Moto,
    /// The principal's access key ID and secret.
    pub key: (String, String),
    /// An SDK configuration signed with [`Enforcing::key`].
    pub config: SdkConfig,
}

impl Enforcing {
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` of the principal, for a child process.
    pub fn key_env(&self) -> [(&'static str, &str); 2] {
        [
            ("AWS_ACCESS_KEY_ID", self.key.0.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.key.1.as_str()),
        ]
    }
}

/// Starts moto in auth mode with the IAM user `user` (in moto's default account) allowed
/// `*` on `*`, and returns once moto refuses an unknown key.
pub async fn start(user: &str) -> Enforcing {
    let moto = Moto::start_with_auth(FREE_REQUESTS);
    let open = aws_sdk_iam::Client::new(&moto.sdk_config().await);
    open.create_user().user_name(user).send().await.unwrap();
    let key = open
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    open.put_user_policy()
        .user_name(user)
        .policy_name("all")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    );

    // Use up the free requests with an unknown key until moto refuses it: from then on
    // it checks every signature and policy.
    let config = system_tests::sdk_config_for(&moto.endpoint()).await;
    let stranger = aws_sdk_sts::Client::new(&config);
    let mut enforcing = false;
    for _ in 0..=FREE_REQUESTS {
        if stranger.get_caller_identity().send().await.is_err() {
            enforcing = true;
            break;
        }
    }
    assert!(enforcing, "moto never started checking signatures");
    let config = signed(&moto, &key.0, &key.1, None);
    Enforcing { moto, key, config }
}

/// An SDK configuration for `moto` signed with the given keys.
pub fn signed(moto: &Moto, access_key_id: &str, secret: &str, token: Option<&str>) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            access_key_id,
            secret,
            token.map(str::to_owned),
            None,
            "enforcing",
        )))
        .build()
}
