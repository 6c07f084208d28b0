//! Detects that signing a TVM call would run sentinel again.
//!
//! `sentinel credentials` signs with the AWS SDK's credential chain. When that
//! chain resolves to a profile whose `credential_process` is sentinel itself
//! (typically `AWS_PROFILE=prod aws ...` where `prod` is a sentinel profile),
//! every call would start another sentinel, without end. This module finds
//! that situation before any credentials are loaded.

use crate::config_file::ConfigFile;
use crate::failure::Failure;

/// Set on every process sentinel starts; `credentials` refuses to run under it.
pub const DEPTH_VAR: &str = "SENTINEL_CREDENTIAL_PROCESS_DEPTH";

const SOURCE_PROFILE_HINT: &str = "set --source-profile (or SENTINEL_SOURCE_PROFILE) to the profile whose credentials sign calls to the TVM";

/// `role_arn` + `source_profile` chains are followed this far (the SDKs stop
/// earlier; this only bounds a cyclic file).
const MAX_HOPS: usize = 8;

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
}

/// Fails when signing would invoke sentinel again. `config` is the AWS config
/// file's text (None when there is none).
pub fn check(env: &SigningEnv, config: Option<&str>) -> Result<(), Failure> {
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
    let Some(config) = config else {
        return Ok(());
    };
    let file = ConfigFile::parse(config);
    let mut current = profile.to_owned();
    let mut seen = Vec::new();
    for _ in 0..MAX_HOPS {
        if let Some(process) = file.get(&current, "credential_process") {
            if invokes_sentinel(process) {
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
            return Ok(());
        }
        match file.get(&current, "source_profile") {
            Some(next) if !seen.iter().any(|s: &String| s == next) => {
                let next = next.to_owned();
                seen.push(std::mem::replace(&mut current, next));
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// A `credential_process` that runs `sentinel ... credentials`.
pub fn invokes_sentinel(process: &str) -> bool {
    let lower = process.to_ascii_lowercase();
    lower.contains("sentinel") && lower.contains(" credentials")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[default]\nregion = us-east-1\n\n\
        [profile prod]\ncredential_process = /usr/local/bin/sentinel credentials --profile prod --tvm-url https://t\n\n\
        [profile base]\naws_access_key_id = AKIA\n\n\
        [profile chained]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = prod\n\n\
        [profile loop-a]\nsource_profile = loop-b\n[profile loop-b]\nsource_profile = loop-a\n";

    fn env(aws_profile: Option<&str>, source: Option<&str>) -> SigningEnv {
        SigningEnv {
            source_profile: source.map(str::to_owned),
            aws_profile: aws_profile.map(str::to_owned),
            ..SigningEnv::default()
        }
    }

    #[test]
    fn aws_profile_naming_a_sentinel_profile_is_refused_with_a_hint() {
        let err = check(&env(Some("prod"), None), Some(CONFIG)).unwrap_err();
        assert!(err.message.contains("`prod`"), "{err}");
        assert!(err.hint.unwrap().contains("--source-profile"));
    }

    #[test]
    fn a_source_profile_chain_into_sentinel_is_refused() {
        let err = check(&env(Some("chained"), None), Some(CONFIG)).unwrap_err();
        assert!(err.message.contains("source_profile = prod"), "{err}");
    }

    #[test]
    fn a_plain_source_profile_is_accepted_even_under_a_sentinel_aws_profile() {
        assert!(check(&env(Some("prod"), Some("base")), Some(CONFIG)).is_ok());
        assert!(check(&env(None, Some("prod")), Some(CONFIG)).is_err());
    }

    #[test]
    fn environment_keys_win_over_profiles() {
        let mut with_keys = env(Some("prod"), None);
        with_keys.env_keys = true;
        assert!(check(&with_keys, Some(CONFIG)).is_ok());
    }

    #[test]
    fn default_profile_missing_file_and_cycles_are_fine() {
        assert!(check(&env(None, None), Some(CONFIG)).is_ok());
        assert!(check(&env(Some("prod"), None), None).is_ok());
        assert!(check(&env(Some("loop-a"), None), Some(CONFIG)).is_ok());
        let sentinel_default = "[default]\ncredential_process = sentinel credentials --profile x\n";
        assert!(check(&env(None, None), Some(sentinel_default)).is_err());
    }

    #[test]
    fn the_depth_marker_is_refused() {
        let mut nested = env(None, Some("base"));
        nested.nested = true;
        let err = check(&nested, Some(CONFIG)).unwrap_err();
        assert!(err.message.contains(DEPTH_VAR));
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
