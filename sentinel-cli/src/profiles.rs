//! `sentinel profiles`: the profiles a TVM serves (`GET /profiles`).

use protocol::ProfilesResponse;

use crate::credentials::{Nesting, Target, TvmOptions, guard_recursion};
use crate::environment::Environment;
use crate::failure::Failure;

/// `sentinel profiles` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ProfilesArgs {
    /// Print the TVM's JSON answer instead of a table
    #[arg(long)]
    pub json: bool,
}

/// Runs `sentinel profiles`.
pub async fn run(
    args: &ProfilesArgs,
    options: &TvmOptions,
    env: &Environment,
) -> Result<(), Failure> {
    let target = Target::resolve(options)?;
    guard_recursion(options, env, Nesting::Allow).await?;
    let client = target.connect(options, None).await?;
    let profiles = client.profiles().await.map_err(|e| e.into_failure(None))?;
    if args.json {
        let text = serde_json::to_string(&profiles)
            .map_err(|e| Failure::error(format!("cannot encode the profiles: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", table(&profiles));
    }
    Ok(())
}

/// Two aligned columns; a note instead of an empty table.
pub fn table(profiles: &ProfilesResponse) -> String {
    if profiles.profiles.is_empty() {
        return format!("no profiles under `{}`\n", profiles.root);
    }
    let width = profiles
        .profiles
        .iter()
        .map(|p| p.name.as_str().chars().count())
        .chain(["PROFILE".len()])
        .max()
        .unwrap_or(0);
    let mut out = format!("{:<width$}  POLICY\n", "PROFILE");
    for entry in &profiles.profiles {
        out.push_str(&format!("{:<width$}  {}\n", entry.name, entry.policy_path));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ProfileEntry;

    #[test]
    fn table_aligns_names_and_paths() {
        let response = ProfilesResponse {
            profiles: vec![
                ProfileEntry {
                    name: "prod".parse().unwrap(),
                    policy_path: "/sentinel/policies/prod".into(),
                },
                ProfileEntry {
                    name: "data-science".parse().unwrap(),
                    policy_path: "/sentinel/policies/data-science".into(),
                },
            ],
            root: "/sentinel/policies".into(),
        };
        assert_eq!(
            table(&response),
            "PROFILE       POLICY\n\
             prod          /sentinel/policies/prod\n\
             data-science  /sentinel/policies/data-science\n"
        );
        let empty = ProfilesResponse {
            profiles: vec![],
            root: "/r".into(),
        };
        assert_eq!(table(&empty), "no profiles under `/r`\n");
    }
}
