//! Detects that signing a TVM call would run sentinel again.
//!
//! `sentinel credentials` signs with the AWS SDK's credential chain. When that
//! chain resolves to a profile whose `credential_process` is sentinel itself
//! (typically `AWS_PROFILE=prod aws ...` where `prod` is a sentinel profile),
//! every call would start another sentinel, without end. This module finds
//! that situation before any credentials are loaded, reading the shared config
//! and credentials files with the SDK's own profile loader so that it sees the
//! profiles the credential chain will see.

use std::borrow::Cow;

use aws_config::profile::{Profile, ProfileSet};
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use crate::failure::Failure;

/// Set on every process sentinel starts; `credentials` refuses to run under it.
pub const DEPTH_VAR: &str = "SENTINEL_CREDENTIAL_PROCESS_DEPTH";

const SOURCE_PROFILE_HINT: &str = "set --source-profile (or SENTINEL_SOURCE_PROFILE) to the profile whose credentials sign calls to the TVM";

/// What the guard looks at, read from the environment once by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningEnv {
    /// `--source-profile` / `SENTINEL_SOURCE_PROFILE`.
    pub source_profile: Option<String>,
    /// `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`.
    pub aws_profile: Option<String>,
    /// Both `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set.
    pub env_keys: bool,
    /// `SENTINEL_CREDENTIAL_PROCESS_DEPTH` is set.
    pub nested: bool,
    /// `HOME`: the SDK's files default to `~/.aws/config` and `~/.aws/credentials`.
    pub home: Option<String>,
    /// `AWS_CONFIG_FILE`.
    pub aws_config_file: Option<String>,
    /// `AWS_SHARED_CREDENTIALS_FILE`.
    pub aws_shared_credentials_file: Option<String>,
}

/// Fails when signing would invoke sentinel again.
pub async fn check(env: &SigningEnv) -> Result<(), Failure> {
    check_files(env, &Fs::real()).await
}

async fn check_files(env: &SigningEnv, fs: &Fs) -> Result<(), Failure> {
    if env.nested {
        return Err(Failure::error(format!(
            "`sentinel credentials` was started by sentinel itself (`{DEPTH_VAR}` is set), refusing to recurse"
        ))
        .with_hint(SOURCE_PROFILE_HINT));
    }
    let profile = match (&env.source_profile, &env.aws_profile) {
        (Some(source), _) => source.as_str(),
        // The SDK's chain takes keys from the environment before any profile.
        (None, _) if env.env_keys => return Ok(()),
        (None, Some(profile)) => profile.as_str(),
        (None, None) => "default",
    };
    match load_profiles(env, fs, profile).await {
        Some(profiles) => check_chain(&profiles, profile),
        None => Ok(()),
    }
}

/// The profiles as the SDK's credential chain reads them: `AWS_CONFIG_FILE`
/// and `AWS_SHARED_CREDENTIALS_FILE` (else the files under `HOME`), `[profile
/// x]` sections in the config file and `[x]` in the credentials file.
async fn load_profiles(env: &SigningEnv, fs: &Fs, profile: &str) -> Option<ProfileSet> {
    let vars: Vec<(&str, &str)> = [
        ("HOME", &env.home),
        ("AWS_CONFIG_FILE", &env.aws_config_file),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            &env.aws_shared_credentials_file,
        ),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value.as_deref()?)))
    .collect();
    // A file the SDK cannot read or parse fails its own credential chain with
    // its own message before any credential_process runs: nothing to guard.
    aws_config::profile::load(
        fs,
        &Env::from_slice(&vars),
        &EnvConfigFiles::default(),
        Some(Cow::Owned(profile.to_owned())),
    )
    .await
    .ok()
}

/// Follows `profile` the way the SDK's profile provider does: `role_arn` +
/// `source_profile` chain to the next profile, a source profile's static keys
/// end the chain, otherwise the profile's own `credential_process` is used.
fn check_chain(profiles: &ProfileSet, profile: &str) -> Result<(), Failure> {
    let mut current = profile;
    let mut seen: Vec<&str> = Vec::new();
    while let Some(entry) = profiles.get_profile(current) {
        if !seen.is_empty() && has_static_keys(entry) {
            return Ok(());
        }
        seen.push(current);
        match (entry.get("role_arn"), entry.get("source_profile")) {
            (Some(_), Some(next)) if !seen.contains(&next) => current = next,
            // `credential_source`, a profile sourcing itself (its own keys) or a cycle.
            (Some(_), _) => return Ok(()),
            (None, _) => {
                if !entry
                    .get("credential_process")
                    .is_some_and(invokes_sentinel)
                {
                    return Ok(());
                }
                let via = if current == profile {
                    String::new()
                } else {
                    format!(" (through `source_profile = {current}`)")
                };
                return Err(Failure::error(format!(
                    "profile `{profile}`{via} gets its credentials from sentinel, so signing the call to the TVM with it would run sentinel again"
                ))
                .with_hint(SOURCE_PROFILE_HINT));
            }
        }
    }
    Ok(())
}

fn has_static_keys(profile: &Profile) -> bool {
    profile.get("aws_access_key_id").is_some() && profile.get("aws_secret_access_key").is_some()
}

/// A `credential_process` that runs `sentinel ... credentials`.
pub fn invokes_sentinel(process: &str) -> bool {
    let lower = process.to_ascii_lowercase();
    lower.contains("sentinel") && lower.contains(" credentials")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG_PATH: &str = "/aws/config";
    const CREDENTIALS_PATH: &str = "/aws/credentials";
    const SENTINEL: &str = "credential_process = /usr/local/bin/sentinel credentials --profile prod --tvm-url https://t";

    fn config() -> String {
        format!(
            "[default]\nregion = us-east-1\n\n\
            [profile prod]\n{SENTINEL}\n\n\
            [profile base]\naws_access_key_id = AKIA\naws_secret_access_key = s\n\n\
            [profile chained]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = prod\n\n\
            [profile loop-a]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = loop-b\n\
            [profile loop-b]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = loop-a\n"
        )
    }

    fn env(aws_profile: Option<&str>, source: Option<&str>) -> SigningEnv {
        SigningEnv {
            source_profile: source.map(str::to_owned),
            aws_profile: aws_profile.map(str::to_owned),
            aws_config_file: Some(CONFIG_PATH.to_owned()),
            aws_shared_credentials_file: Some(CREDENTIALS_PATH.to_owned()),
            ..SigningEnv::default()
        }
    }

    /// The guard over an in-memory file system holding the two files.
    async fn check_with(
        env: &SigningEnv,
        config: Option<&str>,
        credentials: Option<&str>,
    ) -> Result<(), Failure> {
        let files: Vec<(&str, &str)> = [(CONFIG_PATH, config), (CREDENTIALS_PATH, credentials)]
            .into_iter()
            .filter_map(|(path, text)| Some((path, text?)))
            .collect();
        check_files(env, &Fs::from_slice(&files)).await
    }

    async fn check_config(env: &SigningEnv, config: Option<&str>) -> Result<(), Failure> {
        check_with(env, config, None).await
    }

    #[tokio::test]
    async fn aws_profile_naming_a_sentinel_profile_is_refused_with_a_hint() {
        let err = check_config(&env(Some("prod"), None), Some(&config()))
            .await
            .unwrap_err();
        assert!(err.message.contains("`prod`"), "{err}");
        assert!(err.hint.unwrap().contains("--source-profile"));
    }

    #[tokio::test]
    async fn a_source_profile_chain_into_sentinel_is_refused() {
        let err = check_config(&env(Some("chained"), None), Some(&config()))
            .await
            .unwrap_err();
        assert!(err.message.contains("source_profile = prod"), "{err}");
    }

    #[tokio::test]
    async fn a_plain_source_profile_is_accepted_even_under_a_sentinel_aws_profile() {
        let config = config();
        assert!(
            check_config(&env(Some("prod"), Some("base")), Some(&config))
                .await
                .is_ok()
        );
        assert!(
            check_config(&env(None, Some("prod")), Some(&config))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn environment_keys_win_over_profiles() {
        let mut with_keys = env(Some("prod"), None);
        with_keys.env_keys = true;
        assert!(check_config(&with_keys, Some(&config())).await.is_ok());
    }

    #[tokio::test]
    async fn default_profile_missing_file_and_cycles_are_fine() {
        let config = config();
        assert!(check_config(&env(None, None), Some(&config)).await.is_ok());
        assert!(check_config(&env(Some("prod"), None), None).await.is_ok());
        assert!(
            check_config(&env(Some("loop-a"), None), Some(&config))
                .await
                .is_ok()
        );
        let sentinel_default = "[default]\ncredential_process = sentinel credentials --profile x\n";
        assert!(
            check_config(&env(None, None), Some(sentinel_default))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn the_depth_marker_is_refused() {
        let mut nested = env(None, Some("base"));
        nested.nested = true;
        let err = check_config(&nested, Some(&config())).await.unwrap_err();
        assert!(err.message.contains(DEPTH_VAR));
    }

    #[tokio::test]
    async fn a_sentinel_credential_process_in_the_credentials_file_is_refused() {
        let credentials = format!("[prod]\n{SENTINEL}\n");
        let err = check_with(&env(Some("prod"), None), None, Some(&credentials))
            .await
            .unwrap_err();
        assert!(err.message.contains("`prod`"), "{err}");
        assert!(
            check_with(&env(Some("other"), None), None, Some(&credentials))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_chain_from_the_config_file_into_the_credentials_file_is_refused() {
        let config = "[profile chained]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = prod\n";
        let credentials = format!("[prod]\n{SENTINEL}\n");
        let err = check_with(
            &env(Some("chained"), None),
            Some(config),
            Some(&credentials),
        )
        .await
        .unwrap_err();
        assert!(err.message.contains("source_profile = prod"), "{err}");
    }

    #[tokio::test]
    async fn sections_are_named_as_the_sdk_names_them_in_each_file() {
        // The config file wants `[profile prod]`; the credentials file `[prod]`.
        let bare = format!("[prod]\n{SENTINEL}\n");
        let prefixed = format!("[profile prod]\n{SENTINEL}\n");
        let prod = env(Some("prod"), None);
        assert!(check_with(&prod, Some(&bare), None).await.is_ok());
        assert!(check_with(&prod, None, Some(&prefixed)).await.is_ok());
        assert!(check_with(&prod, Some(&prefixed), None).await.is_err());
    }

    #[tokio::test]
    async fn only_role_arn_profiles_chain_and_source_keys_end_the_chain() {
        // Without `role_arn` the SDK does not follow `source_profile`.
        let no_role = format!("[profile prod]\n{SENTINEL}\n[profile p]\nsource_profile = prod\n");
        assert!(
            check_config(&env(Some("p"), None), Some(&no_role))
                .await
                .is_ok()
        );
        // With `role_arn` the chain wins over the profile's own credential_process.
        let role_first = format!(
            "[profile prod]\n{SENTINEL}\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n\
            [profile base]\naws_access_key_id = AKIA\naws_secret_access_key = s\n"
        );
        assert!(
            check_config(&env(Some("prod"), None), Some(&role_first))
                .await
                .is_ok()
        );
        // A source profile's static keys come before its credential_process.
        let keys_first = format!(
            "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = prod\n\
            [profile prod]\n{SENTINEL}\naws_access_key_id = AKIA\naws_secret_access_key = s\n"
        );
        assert!(
            check_config(&env(Some("p"), None), Some(&keys_first))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn without_overrides_the_files_under_home_are_read() {
        let home = SigningEnv {
            aws_profile: Some("prod".to_owned()),
            home: Some("/home/alice".to_owned()),
            ..SigningEnv::default()
        };
        let credentials = format!("[prod]\n{SENTINEL}\n");
        let fs = Fs::from_slice(&[("/home/alice/.aws/credentials", credentials.as_str())]);
        assert!(check_files(&home, &fs).await.is_err());
        assert!(check_files(&home, &Fs::from_slice(&[])).await.is_ok());
    }

    #[tokio::test]
    async fn the_real_credentials_file_named_by_the_environment_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, format!("[prod]\n{SENTINEL}\n")).unwrap();
        let mut prod = env(Some("prod"), None);
        prod.aws_config_file = Some(dir.path().join("absent").display().to_string());
        prod.aws_shared_credentials_file = Some(path.display().to_string());
        assert!(check(&prod).await.is_err());
        prod.aws_profile = Some("other".to_owned());
        assert!(check(&prod).await.is_ok());
    }

    #[test]
    fn recognises_sentinel_commands() {
        assert!(invokes_sentinel("sentinel credentials --profile p"));
        assert!(invokes_sentinel(
            "\"/opt/My Tools/sentinel\" credentials --profile p"
        ));
        assert!(!invokes_sentinel("aws-vault export --format=json p"));
        assert!(!invokes_sentinel("sentinel-other exec"));
    }
}
