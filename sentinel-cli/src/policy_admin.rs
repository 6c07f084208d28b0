//! `sentinel policy pull|push|diff`: policies in SSM Parameter Store.

use std::path::{Path, PathBuf};

use sentinel_types::{PolicyRoot, ProfileName};
use similar::TextDiff;

use sentinel_aws::SsmPolicyStore;

use crate::failure::Failure;
use crate::{aws, diagnostic};

/// Where policies live in SSM.
#[derive(Debug, Clone, clap::Args)]
pub struct RootArg {
    /// SSM path holding one parameter per profile
    #[arg(
        long,
        env = "SENTINEL_POLICY_ROOT",
        hide_env_values = true,
        default_value = "/sentinel/policies",
        value_name = "PATH"
    )]
    pub root: PolicyRoot,
}

/// `sentinel policy pull` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct PullArgs {
    /// Profile whose policy to print
    pub profile: String,
    #[command(flatten)]
    pub root: RootArg,
}

/// `sentinel policy push` / `diff` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct PushArgs {
    /// Profile whose policy to replace (or compare)
    pub profile: String,
    /// Local policy file (YAML)
    pub file: PathBuf,
    #[command(flatten)]
    pub root: RootArg,
}

/// Prints the stored policy exactly, without adding a newline.
pub async fn pull(args: &PullArgs, region: Option<&str>) -> Result<(), Failure> {
    let profile = parse_profile(&args.profile)?;
    let store = store(&args.root, region).await;
    let text = store
        .get(profile.as_str())
        .await?
        .ok_or_else(|| missing(&store, &profile))?;
    print!("{text}");
    Ok(())
}

/// Validates the file, then writes it (nothing is written when it is invalid
/// or already stored).
pub async fn push(args: &PushArgs, region: Option<&str>) -> Result<(), Failure> {
    let profile = parse_profile(&args.profile)?;
    let text = read_valid(&args.file)?;
    let store = store(&args.root, region).await;
    if store.get(profile.as_str()).await?.as_deref() == Some(text.as_str()) {
        eprintln!("sentinel: `{}` is unchanged", store.name(profile.as_str()));
        return Ok(());
    }
    store.put(&profile.clone().into(), &text).await?;
    eprintln!(
        "sentinel: pushed `{}` to `{}`",
        args.file.display(),
        store.name(profile.as_str())
    );
    Ok(())
}

/// Prints a unified diff from the stored policy to the file (nothing when equal).
pub async fn diff(args: &PushArgs, region: Option<&str>) -> Result<(), Failure> {
    let profile = parse_profile(&args.profile)?;
    let local = read(&args.file)?;
    let store = store(&args.root, region).await;
    let name = store.name(profile.as_str());
    let remote = store.get(profile.as_str()).await?;
    let old_header = match remote {
        Some(_) => format!("ssm:{name}"),
        None => "/dev/null".to_owned(),
    };
    print!(
        "{}",
        unified_diff(
            remote.as_deref().unwrap_or(""),
            &local,
            &old_header,
            &args.file.display().to_string()
        )
    );
    Ok(())
}

/// A unified diff with three lines of context; empty when equal.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(true)
        .header(old_name, new_name)
        .to_string()
}

/// Reads a policy file and checks it with the policy engine's strict parser.
pub fn read_valid(path: &Path) -> Result<String, Failure> {
    let text = read(path)?;
    validate(path, &text)?;
    Ok(text)
}

/// `path:line:column: message` and the parser's hint, exit 3.
pub fn validate(path: &Path, text: &str) -> Result<(), Failure> {
    policy::parse(text)
        .map(drop)
        .map_err(|e| diagnostic::invalid_policy(path, &e))
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::invalid(format!("cannot read `{}`: {e}", path.display())))
}

fn parse_profile(raw: &str) -> Result<ProfileName, Failure> {
    ProfileName::parse(raw).map_err(|e| Failure::invalid(e.to_string()))
}

fn missing(store: &SsmPolicyStore, profile: &ProfileName) -> Failure {
    Failure::error(format!(
        "no policy for profile `{profile}` at `{}`",
        store.name(profile.as_str())
    ))
    .with_hint(format!(
        "create it with `sentinel policy push {profile} FILE`"
    ))
}

/// The SSM policy store for `root`.
pub async fn store(root: &RootArg, region: Option<&str>) -> SsmPolicyStore {
    let client = aws_sdk_ssm::Client::new(&aws::sdk_config(region).await);
    SsmPolicyStore::new(client, root.root.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_are_unified_with_headers_and_empty_when_equal() {
        let out = unified_diff("a\nb\nc\n", "a\nB\nc\n", "ssm:/p/x", "x.yaml");
        assert_eq!(
            out,
            "--- ssm:/p/x\n+++ x.yaml\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
        assert_eq!(unified_diff("same", "same", "a", "b"), "");
    }
}
