//! `sentinel bootstrap`: makes SSM hold exactly the policies of a directory.
//!
//! Every `DIR/<profile>.yaml` is validated before any AWS call, so one bad
//! file means nothing is written. `DIR/_admin.yaml` is the admin policy
//! (SPEC §6a): validated as one and stored at `<root>/_admin`, like a profile.
//! The plan is printed first; changes are applied only with `--yes`. Running
//! it twice changes nothing the second time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sentinel_types::{PolicyName, ProfileName};

use crate::diagnostic;
use crate::failure::Failure;
use crate::policy_admin::{self, RootArg, unified_diff};

/// The admin policy's name under the root: `_` keeps it apart from profile
/// names, which start with a letter or digit.
pub const ADMIN: &str = PolicyName::ADMIN;

/// Whether `path` is the admin policy's file, `_admin.yaml`: the file name
/// decides (for `bootstrap` and `sentinel policy validate|test` alike).
pub fn is_admin_file(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == "_admin.yaml")
}

/// `sentinel bootstrap` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BootstrapArgs {
    /// Directory of `<profile>.yaml` policy files
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub root: RootArg,
    /// Print the plan and change nothing
    #[arg(long, conflicts_with = "yes")]
    pub plan: bool,
    /// Apply the plan
    #[arg(long)]
    pub yes: bool,
    /// Also delete policies in SSM that have no file in DIR
    #[arg(long)]
    pub prune: bool,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No parameter yet.
    Create {
        /// Profile.
        profile: String,
    },
    /// The parameter differs from the file.
    Update {
        /// Profile.
        profile: String,
        /// What SSM holds now.
        old: String,
    },
    /// Byte-identical.
    Unchanged {
        /// Profile.
        profile: String,
    },
    /// In SSM, not in DIR, and `--prune` given.
    Delete {
        /// Profile.
        profile: String,
    },
}

/// Compares local files with the stored policies, in profile order.
pub fn plan(
    local: &BTreeMap<String, String>,
    remote: &BTreeMap<String, String>,
    prune: bool,
) -> Vec<Step> {
    let mut steps: Vec<Step> = local
        .iter()
        .map(|(profile, text)| {
            let profile = profile.clone();
            match remote.get(&profile) {
                None => Step::Create { profile },
                Some(old) if old == text => Step::Unchanged { profile },
                Some(old) => Step::Update {
                    profile,
                    old: old.clone(),
                },
            }
        })
        .collect();
    if prune {
        steps.extend(
            remote
                .keys()
                .filter(|p| !local.contains_key(*p))
                .map(|p| Step::Delete { profile: p.clone() }),
        );
    }
    steps
}

/// The plan as printed: one line per profile, a diff under each update.
pub fn render(steps: &[Step], local: &BTreeMap<String, String>, dir: &Path, root: &str) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Create { profile } => {
                let _ = writeln!(out, "create {profile}");
            }
            Step::Unchanged { profile } => {
                let _ = writeln!(out, "unchanged {profile}");
            }
            Step::Delete { profile } => {
                let _ = writeln!(out, "delete {profile}");
            }
            Step::Update { profile, old } => {
                let _ = writeln!(out, "update {profile}");
                let new = local.get(profile).map_or("", String::as_str);
                let file = dir.join(format!("{profile}.yaml"));
                out.push_str(&unified_diff(
                    old,
                    new,
                    &format!("ssm:{root}/{profile}"),
                    &file.display().to_string(),
                ));
            }
        }
    }
    out
}

/// Reads and validates every `*.yaml` in `dir`; any problem aborts (exit 3).
pub fn read_dir(dir: &Path) -> Result<BTreeMap<String, String>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::invalid(format!("cannot read `{}`: {e}", dir.display())))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::invalid(format!("cannot read `{}`: {e}", dir.display())))?
            .path();
        if path.extension().is_some_and(|e| e == "yaml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(Failure::invalid(format!(
            "no `*.yaml` policy files in `{}`",
            dir.display()
        )));
    }
    let mut policies = BTreeMap::new();
    let mut problems = Vec::new();
    for path in paths {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let checked = if is_admin_file(&path) {
            read_admin(&path)
        } else {
            ProfileName::parse(&stem)
                .map_err(|e| Failure::invalid(format!("`{}`: {e}", path.display())))
                .and_then(|_| policy_admin::read_valid(&path))
        };
        match checked {
            Ok(text) => {
                policies.insert(stem, text);
            }
            Err(failure) => problems.push(failure),
        }
    }
    let extra = problems.len().saturating_sub(1);
    match problems.into_iter().next() {
        None => Ok(policies),
        Some(mut first) => {
            if extra > 0 {
                first.message.push_str(&format!(
                    " (and {extra} more invalid file{})",
                    if extra == 1 { "" } else { "s" }
                ));
            }
            first.message.push_str("; nothing was written");
            Err(first)
        }
    }
}

/// Reads `_admin.yaml` and checks it as the admin policy.
fn read_admin(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::invalid(format!("cannot read `{}`: {e}", path.display())))?;
    policy::parse_admin(&text).map_err(|e| diagnostic::invalid_policy(path, &e))?;
    Ok(text)
}

/// Plans hold names read from files or from SSM, both checked as profile names.
fn policy_name(raw: &str) -> Result<PolicyName, Failure> {
    PolicyName::parse(raw).map_err(|e| Failure::invalid(e.to_string()))
}

/// Runs `sentinel bootstrap`.
pub async fn run(args: &BootstrapArgs, region: Option<&str>) -> Result<(), Failure> {
    let local = read_dir(&args.dir)?;
    let store = policy_admin::store(&args.root, region).await;
    let mut remote: BTreeMap<String, String> = store
        .list()
        .await?
        .into_iter()
        .map(|(profile, text)| (profile.to_string(), text))
        .collect();
    // The store lists profiles only; the admin policy is read by its name.
    if let Some(text) = store.get(ADMIN).await? {
        remote.insert(ADMIN.to_owned(), text);
    }
    let steps = plan(&local, &remote, args.prune);
    print!(
        "{}",
        render(&steps, &local, &args.dir, store.root().as_str())
    );
    let unmanaged = remote.keys().filter(|p| !local.contains_key(*p)).count();
    if unmanaged > 0 && !args.prune {
        eprintln!(
            "sentinel: {unmanaged} polic{} under `{}` ha{} no file in `{}` (--prune deletes them)",
            if unmanaged == 1 { "y" } else { "ies" },
            store.root(),
            if unmanaged == 1 { "s" } else { "ve" },
            args.dir.display()
        );
    }
    let pending = steps
        .iter()
        .filter(|s| !matches!(s, Step::Unchanged { .. }))
        .count();
    if args.plan || pending == 0 {
        return Ok(());
    }
    if !args.yes {
        eprintln!("hint: re-run with --yes to apply these {pending} change(s)");
        return Ok(());
    }
    for step in &steps {
        match step {
            Step::Create { profile } | Step::Update { profile, .. } => {
                let text = local.get(profile).map_or("", String::as_str);
                store.put(&policy_name(profile)?, text).await?;
            }
            Step::Delete { profile } => store.delete(&policy_name(profile)?).await?,
            Step::Unchanged { .. } => {}
        }
    }
    eprintln!(
        "sentinel: applied {pending} change(s) under `{}`",
        store.root()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn plan_sorts_profiles_into_create_update_unchanged_and_delete() {
        let local = map(&[("a", "1\n"), ("b", "2\n"), ("c", "3\n")]);
        let remote = map(&[("b", "2\n"), ("c", "old\n"), ("z", "9\n")]);
        let steps = plan(&local, &remote, false);
        assert_eq!(
            steps,
            vec![
                Step::Create {
                    profile: "a".into()
                },
                Step::Unchanged {
                    profile: "b".into()
                },
                Step::Update {
                    profile: "c".into(),
                    old: "old\n".into()
                },
            ]
        );
        let pruned = plan(&local, &remote, true);
        assert_eq!(
            pruned.last(),
            Some(&Step::Delete {
                profile: "z".into()
            })
        );
        let rendered = render(&pruned, &local, Path::new("dir"), "/root");
        assert_eq!(
            rendered,
            "create a\nunchanged b\nupdate c\n--- ssm:/root/c\n+++ dir/c.yaml\n@@ -1 +1 @@\n-old\n+3\ndelete z\n"
        );
    }

    #[test]
    fn applying_a_plan_leaves_nothing_to_do() {
        let local = map(&[("a", "1"), ("b", "2")]);
        let steps = plan(&local, &local, true);
        assert!(steps.iter().all(|s| matches!(s, Step::Unchanged { .. })));
    }

    #[test]
    fn bad_file_names_and_empty_directories_are_invalid_input() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = read_dir(tmp.path()).unwrap_err();
        assert_eq!(empty.kind, crate::failure::ExitKind::Invalid);
        std::fs::write(tmp.path().join("-bad.yaml"), "x").unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "x").unwrap();
        let err = read_dir(tmp.path()).unwrap_err();
        assert!(err.message.contains("-bad.yaml"), "{}", err.message);
        assert!(err.message.ends_with("nothing was written"));
    }

    const ADMIN_DOC: &str = "version: \"1\"\nrules:\n  - name: security\n    effect: allow\n    conditions:\n      actions: [\"sessions:*\"]\n";
    const PROFILE_DOC: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules: []\n";

    #[test]
    fn the_admin_policy_is_the_one_file_that_is_not_a_profile() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("_admin.yaml"), ADMIN_DOC).unwrap();
        std::fs::write(tmp.path().join("dev.yaml"), PROFILE_DOC).unwrap();
        let read = read_dir(tmp.path()).unwrap();
        assert_eq!(
            read.keys().map(String::as_str).collect::<Vec<_>>(),
            [ADMIN, "dev"]
        );
        std::fs::write(tmp.path().join("_other.yaml"), PROFILE_DOC).unwrap();
        let err = read_dir(tmp.path()).unwrap_err();
        assert!(err.message.contains("_other.yaml"), "{}", err.message);
    }

    #[test]
    fn the_admin_policy_is_validated_as_one() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("_admin.yaml"), PROFILE_DOC).unwrap();
        let err = read_dir(tmp.path()).unwrap_err();
        assert_eq!(err.kind, crate::failure::ExitKind::Invalid);
        assert!(
            err.message
                .contains("_admin.yaml:3:3: profile: the admin policy has no `profile` block"),
            "{}",
            err.message
        );
        std::fs::write(tmp.path().join("_admin.yaml"), ADMIN_DOC).unwrap();
        std::fs::write(tmp.path().join("dev.yaml"), ADMIN_DOC).unwrap();
        let err = read_dir(tmp.path()).unwrap_err();
        assert!(
            err.message.contains("dev.yaml:"),
            "a profile stays a profile: {}",
            err.message
        );
    }

    #[test]
    fn the_admin_policy_is_planned_and_pruned_like_a_profile() {
        let remote = map(&[(ADMIN, "old\n"), ("dev", "2\n")]);
        let with = map(&[(ADMIN, "new\n"), ("dev", "2\n")]);
        assert_eq!(
            plan(&with, &remote, true),
            vec![
                Step::Update {
                    profile: ADMIN.into(),
                    old: "old\n".into()
                },
                Step::Unchanged {
                    profile: "dev".into()
                },
            ]
        );
        let without = map(&[("dev", "2\n")]);
        assert_eq!(
            plan(&without, &remote, false),
            vec![Step::Unchanged {
                profile: "dev".into()
            }],
            "never deleted without --prune"
        );
        assert_eq!(
            plan(&without, &remote, true).last(),
            Some(&Step::Delete {
                profile: ADMIN.into()
            })
        );
    }

    #[test]
    fn only_the_file_named_admin_yaml_is_the_admin_policy() {
        assert!(is_admin_file(Path::new("policies/_admin.yaml")));
        assert!(is_admin_file(Path::new("_admin.yaml")));
        for other in [
            "admin.yaml",
            "_admin.yml",
            "_admin",
            "x/_admin.yaml/y",
            "prod.yaml",
        ] {
            assert!(!is_admin_file(Path::new(other)), "{other}");
        }
    }
}
