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
    /// Who signs TVM calls when no `--source-profile` is given, as the SDK's default
    /// chain will choose: every variable that selects its credentials (never a secret).
    pub signer: String,
}

/// The variables the SDK's default credential chain reads to pick the signer, in its
/// order: keys in the environment, a profile (and the files it lives in), web identity,
/// container credentials. Secrets are left out; the key ID names the key.
const SIGNER_VARIABLES: [&str; 10] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "HOME",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
];

/// `NAME=value` for each set signer variable, NUL-separated.
pub fn signer_of(var: impl Fn(&str) -> Option<String>) -> String {
    SIGNER_VARIABLES
        .iter()
        .filter_map(|name| var(name).map(|value| format!("{name}={value}")))
        .collect::<Vec<_>>()
        .join("\0")
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
            signer: signer_of(var),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signer_names_the_profile_and_key_but_no_secret() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            signer_of(move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        let a = env(&[("AWS_PROFILE", "a"), ("AWS_SECRET_ACCESS_KEY", "s")]);
        let b = env(&[("AWS_PROFILE", "b")]);
        assert_ne!(a, b);
        assert!(!a.contains("SECRET"), "{a}");
        assert_ne!(
            env(&[("AWS_ACCESS_KEY_ID", "AKIDA")]),
            env(&[("AWS_ACCESS_KEY_ID", "AKIDB")])
        );
        assert_eq!(env(&[]), "");
    }
}
