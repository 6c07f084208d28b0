//! The environment variables sentinel's own commands read, captured once.

use std::env;

use crate::recursion::{DEPTH_VAR, SigningEnv};

/// Environment values, read once at start-up so that commands stay testable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `HOME`.
    pub home: Option<String>,
    /// `XDG_CACHE_HOME`.
    pub xdg_cache_home: Option<String>,
    /// `AWS_CONFIG_FILE`.
    pub aws_config_file: Option<String>,
    /// `AWS_SHARED_CREDENTIALS_FILE`.
    pub aws_shared_credentials_file: Option<String>,
    /// `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`.
    pub aws_profile: Option<String>,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are both set.
    pub env_keys: bool,
    /// `SENTINEL_CREDENTIAL_PROCESS_DEPTH` is set.
    pub nested: bool,
    /// Its value as a number (0 when absent or not a number).
    pub depth: u32,
    /// `USER`, the fallback for `revoked_by`.
    pub user: Option<String>,
}

impl Environment {
    /// Reads the current process environment.
    pub fn from_process() -> Self {
        let var = |name: &str| env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            home: var("HOME"),
            xdg_cache_home: var("XDG_CACHE_HOME"),
            aws_config_file: var("AWS_CONFIG_FILE"),
            aws_shared_credentials_file: var("AWS_SHARED_CREDENTIALS_FILE"),
            aws_profile: var("AWS_PROFILE").or_else(|| var("AWS_DEFAULT_PROFILE")),
            env_keys: var("AWS_ACCESS_KEY_ID").is_some() && var("AWS_SECRET_ACCESS_KEY").is_some(),
            nested: env::var_os(DEPTH_VAR).is_some(),
            depth: var(DEPTH_VAR).and_then(|d| d.parse().ok()).unwrap_or(0),
            user: var("USER"),
        }
    }

    /// What the recursion guard needs, with the given source profile.
    pub fn signing(&self, source_profile: Option<&str>) -> SigningEnv {
        SigningEnv {
            source_profile: source_profile.map(str::to_owned),
            aws_profile: self.aws_profile.clone(),
            env_keys: self.env_keys,
            nested: self.nested,
            home: self.home.clone(),
            aws_config_file: self.aws_config_file.clone(),
            aws_shared_credentials_file: self.aws_shared_credentials_file.clone(),
        }
    }
}
