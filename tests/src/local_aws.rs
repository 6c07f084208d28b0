//! What every local AWS stand-in gives a test: an endpoint, an SDK configuration that
//! reads nothing from the host, and the environment for child processes.

use std::path::PathBuf;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use tempfile::TempDir;

use crate::HarnessError;

/// The region every local endpoint is addressed in.
pub const REGION: &str = "us-east-1";
/// The access key id the harness signs with (moto and DynamoDB Local accept any).
pub const ACCESS_KEY_ID: &str = "testing";
/// The secret key the harness signs with.
pub const SECRET_ACCESS_KEY: &str = "testing";

/// Variables a child process may inherit that would override [`Moto::env`](crate::Moto::env)
/// (another profile, a session token, a web identity). Remove them with `env_remove`, or
/// start from `env_clear`.
pub const AWS_ENV_TO_REMOVE: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// An SDK configuration for a local endpoint: fixed region and test credentials, and
/// nothing read from the host (no environment variables, no `~/.aws` files, no instance
/// metadata), so parallel tests cannot disturb each other and no mutation of the process
/// environment is needed. Adjust timeouts or retries on the client config built from it.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        // Also hides HOME, so no profile file is read.
        .empty_test_environment()
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "system-tests",
        ))
        .load()
        .await
}

/// An endpoint plus the scratch folder holding the empty AWS config files and server logs.
#[derive(Debug)]
pub(crate) struct LocalAws {
    endpoint: String,
    config_file: PathBuf,
    credentials_file: PathBuf,
}

impl LocalAws {
    pub(crate) fn new(port: u16, dir: &TempDir) -> Result<Self, HarnessError> {
        let config_file = dir.path().join("aws-config");
        let credentials_file = dir.path().join("aws-credentials");
        for file in [&config_file, &credentials_file] {
            std::fs::write(file, "")
                .map_err(|e| HarnessError::Io(format!("writing {}: {e}", file.display())))?;
        }
        Ok(Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            config_file,
            credentials_file,
        })
    }

    pub(crate) fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    pub(crate) fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_DEFAULT_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_CONFIG_FILE", self.config_file.display().to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                self.credentials_file.display().to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}
