//! `sentinel policy validate` and `sentinel policy test`, as users see them:
//! exit codes, stdout and stderr (snapshots in `snapshots/`).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a broken fixture must fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policies")
}

/// `sentinel` in `dir` with an empty environment, so nothing from the
/// developer's shell (AWS_*, SENTINEL_*) leaks into what is asserted.
fn sentinel(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("sentinel").unwrap();
    command.env_clear().current_dir(dir);
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    sentinel(dir).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A directory holding `files` (name, content).
fn workdir(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

const HEAD: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules:\n";

const TYPO: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules:\n  - name: engineers\n    effect: alow\n";

const SHADOWED: &str = "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules:\n  - name: everyone\n    effect: allow\n  - name: alice\n    effect: allow\n    conditions:\n      users: [alice]\n";

#[test]
fn help_texts() {
    let dir = workdir(&[]);
    for (name, args) in [
        ("help_policy", &["policy", "--help"][..]),
        ("help_policy_validate", &["policy", "validate", "--help"]),
        ("help_policy_test", &["policy", "test", "--help"]),
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{name}");
        insta::assert_snapshot!(name, text(&out.stdout));
    }
}

#[test]
fn validate_accepts_every_example_and_exits_0() {
    let out = run(
        &examples(),
        &[
            "policy",
            "validate",
            "break-glass.yaml",
            "dev.yaml",
            "prod.yaml",
            "staging.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    insta::assert_snapshot!("validate_examples", text(&out.stdout));
}

#[test]
fn validate_points_at_the_error_with_a_hint_and_exits_3() {
    let dir = workdir(&[
        ("typo.yaml", TYPO),
        (
            "ok.yaml",
            &format!("{HEAD}  - name: all\n    effect: allow\n"),
        ),
    ]);
    let out = run(dir.path(), &["policy", "validate", "ok.yaml", "typo.yaml"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .starts_with("typo.yaml:6:13: error: rule `engineers`: effect: unknown variant `alow`"),
        "{stderr}"
    );
    insta::assert_snapshot!("validate_typo_stderr", stderr);
    assert_eq!(text(&out.stdout), "ok.yaml: valid, 1 rule\n");
}

/// `push` and `bootstrap` refuse an invalid file before any AWS call, and name the
/// place exactly as `validate` does: once, as `FILE:LINE:COL`.
#[test]
fn push_and_bootstrap_point_at_the_error_like_validate() {
    let dir = workdir(&[("typo.yaml", TYPO)]);
    let push = run(dir.path(), &["policy", "push", "typo", "typo.yaml"]);
    assert_eq!(push.status.code(), Some(3));
    insta::assert_snapshot!("push_typo_stderr", text(&push.stderr));
    let bootstrap = run(dir.path(), &["bootstrap", "--dir", ".", "--plan"]);
    assert_eq!(bootstrap.status.code(), Some(3));
    insta::assert_snapshot!("bootstrap_typo_stderr", text(&bootstrap.stderr));
    for stderr in [text(&push.stderr), text(&bootstrap.stderr)] {
        assert!(
            stderr.contains(":6:13: rule `engineers`: effect: unknown variant `alow`"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("line 6"),
            "the place is written twice: {stderr}"
        );
    }
}

#[test]
fn validate_prints_warnings_but_exits_0() {
    let dir = workdir(&[("shadowed.yaml", SHADOWED)]);
    let out = run(dir.path(), &["policy", "validate", "shadowed.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("validate_warning_stderr", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "shadowed.yaml: valid, 2 rules, 1 warning\n"
    );
}

#[test]
fn validate_of_an_unreadable_file_exits_1() {
    let dir = workdir(&[(
        "ok.yaml",
        &format!("{HEAD}  - name: all\n    effect: allow\n"),
    )]);
    let out = run(
        dir.path(),
        &["policy", "validate", "ok.yaml", "missing.yaml"],
    );
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("validate_unreadable_stderr", text(&out.stderr));
}

#[test]
fn test_allow_prints_rule_duration_and_skipped_rules_and_exits_0() {
    let out = sentinel(&examples())
        .args([
            "policy",
            "test",
            "prod.yaml",
            "--principal",
            "arn:aws:iam::123456789012:user/eng/alice",
        ])
        .args([
            "--at",
            "2026-03-02T10:00:00Z",
            "--source-ip",
            "10.1.2.3",
            "--duration",
            "2h",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    insta::assert_snapshot!("test_allow_stdout", text(&out.stdout));
}

#[test]
fn test_require_approval_names_the_approvers_and_the_reason_rule_and_exits_2() {
    let out = sentinel(&examples())
        .args(["policy", "test", "payments.yaml"])
        .args(["--principal", "arn:aws:iam::123456789012:user/eng/alice"])
        .args(["--at", "2026-03-02T10:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("decision: require_approval by rule `changes-need-a-lead`"),
        "{stdout}"
    );
    insta::assert_snapshot!("test_require_approval_stdout", stdout);
    insta::assert_snapshot!("test_require_approval_stderr", text(&out.stderr));

    // The same caller in a break-glass call: no break_glass rule admits alice.
    let on_call =
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_OnCall_0a1b/dan@example.com";
    let out = sentinel(&examples())
        .args(["policy", "test", "payments.yaml", "--break-glass"])
        .args(["--principal", on_call, "--at", "2026-03-02T10:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("test_break_glass_stdout", text(&out.stdout));
}

#[test]
fn test_deny_by_rule_exits_2_with_the_reason() {
    let out = sentinel(&examples())
        .args(["policy", "test", "break-glass.yaml"])
        .args([
            "--principal",
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_OnCall_0a1b/alice@example.com",
        ])
        .args(["--at", "2026-03-02T10:30:00+01:00"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("test_deny_rule_stdout", text(&out.stdout));
    insta::assert_snapshot!("test_deny_rule_stderr", text(&out.stderr));
}

#[test]
fn test_default_deny_explains_every_rule_and_exits_2() {
    let out = sentinel(&examples())
        .args(["policy", "test", "staging.yaml"])
        .args([
            "--principal",
            "arn:aws:sts::123456789012:assumed-role/deployer/ci",
        ])
        .args(["--at", "2026-03-07T12:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("time: sat is not in [mon..fri] (Europe/Berlin)"),
        "{stdout}"
    );
    insta::assert_snapshot!("test_default_deny_stdout", stdout);
    assert_eq!(
        text(&out.stderr),
        "sentinel: error: denied: no rule matched\n"
    );
}

#[test]
fn test_identity_roles_change_who_the_user_is() {
    let dir = workdir(&[(
        "p.yaml",
        &format!(
            "{HEAD}  - name: alice\n    effect: allow\n    conditions:\n      users: [alice]\n"
        ),
    )]);
    let arn = "arn:aws:sts::123456789012:assumed-role/okta-engineers/alice";
    let args = [
        "policy",
        "test",
        "p.yaml",
        "--principal",
        arn,
        "--at",
        "2026-03-02T10:00:00Z",
    ];
    assert_eq!(
        run(dir.path(), &args).status.code(),
        Some(2),
        "`okta-engineers/alice` is not `alice`"
    );
    let out = sentinel(dir.path())
        .args(args)
        .args(["--identity-roles", "other,okta-*"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(user `alice`, account 123456789012)"));
    let env = sentinel(dir.path())
        .args(args)
        .env("SENTINEL_IDENTITY_ROLES", "okta-*")
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(0), "the TVM's variable works too");
}

#[test]
fn test_defaults_to_now() {
    let dir = workdir(&[(
        "p.yaml",
        &format!("{HEAD}  - name: all\n    effect: allow\n"),
    )]);
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let out = run(
        dir.path(),
        &[
            "policy",
            "test",
            "p.yaml",
            "--principal",
            "arn:aws:iam::123456789012:user/alice",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let at = stdout.lines().find_map(|l| l.strip_prefix("at: ")).unwrap();
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    assert!(at >= before && at <= chrono::Utc::now(), "{at}");
}

#[test]
fn test_refuses_invalid_input_with_exit_3() {
    let dir = workdir(&[
        ("typo.yaml", TYPO),
        (
            "ok.yaml",
            &format!("{HEAD}  - name: all\n    effect: allow\n"),
        ),
    ]);
    let alice = "arn:aws:iam::123456789012:user/alice";
    let mut seen = String::new();
    for (name, args) in [
        ("invalid_policy", vec!["typo.yaml", "--principal", alice]),
        (
            "bad_at",
            vec!["ok.yaml", "--principal", alice, "--at", "tomorrow"],
        ),
        (
            "bad_ip",
            vec!["ok.yaml", "--principal", alice, "--source-ip", "10.0.0.300"],
        ),
        (
            "bad_duration",
            vec!["ok.yaml", "--principal", alice, "--duration", "13h"],
        ),
        (
            "root",
            vec!["ok.yaml", "--principal", "arn:aws:iam::123456789012:root"],
        ),
        ("bad_principal", vec!["ok.yaml", "--principal", "alice"]),
        (
            "bad_identity_roles",
            vec!["ok.yaml", "--principal", alice, "--identity-roles", "x[1]"],
        ),
    ] {
        let out = sentinel(dir.path())
            .args(["policy", "test"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{name}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "", "{name}");
        seen.push_str(&format!("{name}:\n{}", text(&out.stderr)));
    }
    insta::assert_snapshot!("test_invalid_input_stderr", seen);
}

#[test]
fn test_of_an_unreadable_policy_exits_1() {
    let dir = workdir(&[]);
    let out = run(
        dir.path(),
        &[
            "policy",
            "test",
            "gone.yaml",
            "--principal",
            "arn:aws:iam::123456789012:user/alice",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("sentinel: error: cannot read `gone.yaml`"));
}

#[test]
fn usage_mistakes_are_invalid_input_not_a_deny() {
    let dir = workdir(&[]);
    let out = run(dir.path(), &["policy", "test", "p.yaml"]);
    assert_eq!(out.status.code(), Some(3));
    insta::assert_snapshot!("usage_missing_principal_stderr", text(&out.stderr));
    let none = run(dir.path(), &["policy", "validate"]);
    assert_eq!(none.status.code(), Some(3));
}

const ADMIN_TYPO: &str = "version: \"1\"\nrules:\n  - name: leads\n    effect: allow\n    conditions:\n      users: [alice]\n      actions: [sesions:revoke]\n";

/// `_admin.yaml` is the admin policy: the file name decides.
#[test]
fn validate_reads_admin_yaml_as_the_admin_policy() {
    let out = run(
        &examples(),
        &["policy", "validate", "_admin.yaml", "dev.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    insta::assert_snapshot!("validate_admin_stdout", text(&out.stdout));

    let profile_doc = std::fs::read_to_string(examples().join("dev.yaml")).unwrap();
    let dir = workdir(&[("_admin.yaml", &profile_doc)]);
    let out = run(dir.path(), &["policy", "validate", "_admin.yaml"]);
    assert_eq!(out.status.code(), Some(3));
    insta::assert_snapshot!(
        "validate_admin_with_profile_block_stderr",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn validate_points_at_an_unknown_admin_action_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_admin.yaml"), ADMIN_TYPO).unwrap();
    // Not named `_admin.yaml`: a profile's policy, refused as one.
    std::fs::write(
        dir.path().join("admin.yaml"),
        ADMIN_TYPO.replace("sesions", "sessions"),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["policy", "validate", "_admin.yaml", "admin.yaml"],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("_admin.yaml:7:17: error: rule `leads`: conditions.actions[0]: unknown action `sesions:revoke`"),
        "{stderr}"
    );
    assert!(stderr.contains("admin.yaml:"), "{stderr}");
    insta::assert_snapshot!("validate_admin_typo_stderr", stderr);
}

#[test]
fn test_admin_allow_names_the_rule_and_the_action() {
    let out = sentinel(&examples())
        .args(["policy", "test", "_admin.yaml"])
        .args(["--principal", "arn:aws:iam::123456789012:user/eng/alice"])
        .args(["--action", "sessions:revoke", "--profile", "staging"])
        .args(["--at", "2026-03-02T10:00:00Z", "--source-ip", "10.1.2.3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    insta::assert_snapshot!("test_admin_allow_stdout", text(&out.stdout));
}

#[test]
fn test_admin_without_a_profile_is_not_covered_by_profile_rules_and_exits_2() {
    let out = sentinel(&examples())
        .args(["policy", "test", "_admin.yaml"])
        .args(["--principal", "arn:aws:iam::123456789012:user/eng/alice"])
        .args(["--action", "sessions:list", "--at", "2026-03-02T10:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("profiles: the request names no profile"),
        "{stdout}"
    );
    insta::assert_snapshot!("test_admin_default_deny_stdout", stdout);
    assert_eq!(
        text(&out.stderr),
        "sentinel: error: denied: no rule matched\n"
    );
}

#[test]
fn test_admin_deny_by_rule_exits_2_with_the_reason() {
    let out = sentinel(&examples())
        .args(["policy", "test", "_admin.yaml"])
        .args(["--principal", "arn:aws:iam::123456789012:user/eng/alice"])
        .args(["--action", "sessions:revoke", "--profile", "dev"])
        .args(["--at", "2026-03-02T10:00:00Z", "--source-ip", "203.0.113.9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).starts_with("decision: deny by rule `no-admin-from-outside` (line 13)\n")
    );
    insta::assert_snapshot!("test_admin_deny_rule_stderr", text(&out.stderr));
}

#[test]
fn test_refuses_admin_options_that_do_not_fit_with_exit_3() {
    let alice = "arn:aws:iam::123456789012:user/eng/alice";
    let mut seen = String::new();
    for (name, args) in [
        (
            "admin_without_action",
            vec!["_admin.yaml", "--principal", alice],
        ),
        (
            "unknown_action",
            vec![
                "_admin.yaml",
                "--principal",
                alice,
                "--action",
                "sessions:delete",
            ],
        ),
        (
            "duration_on_admin",
            vec![
                "_admin.yaml",
                "--principal",
                alice,
                "--action",
                "sessions:list",
                "--duration",
                "1h",
            ],
        ),
        (
            "action_on_profile",
            vec![
                "dev.yaml",
                "--principal",
                alice,
                "--action",
                "sessions:list",
            ],
        ),
        (
            "profile_without_action",
            vec!["_admin.yaml", "--principal", alice, "--profile", "dev"],
        ),
    ] {
        let out = sentinel(&examples())
            .args(["policy", "test"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{name}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "", "{name}");
        seen.push_str(&format!("{name}:\n{}", text(&out.stderr)));
    }
    insta::assert_snapshot!("test_admin_invalid_input_stderr", seen);
}

/// `bootstrap` validates `_admin.yaml` as the admin policy before any AWS call.
#[test]
fn bootstrap_refuses_an_invalid_admin_policy_before_any_aws_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_admin.yaml"), ADMIN_TYPO).unwrap();
    std::fs::copy(examples().join("dev.yaml"), dir.path().join("dev.yaml")).unwrap();
    let out = run(dir.path(), &["bootstrap", "--dir", ".", "--plan"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("_admin.yaml:7:17: rule `leads`"),
        "{stderr}"
    );
    insta::assert_snapshot!("bootstrap_admin_typo_stderr", stderr);
}

#[test]
fn test_takes_a_workload_and_explains_its_claims() {
    let policy = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-ci
rules:
  - name: app-main-branch
    effect: allow
    conditions:
      issuers: ["https://token.actions.githubusercontent.com"]
      claims:
        repository: [org/app]
        ref: ["refs/heads/main"]
"#;
    let dir = workdir(&[("ci.yaml", policy)]);
    let workload = |git_ref: &str| {
        run(
            dir.path(),
            &[
                "policy",
                "test",
                "ci.yaml",
                "--issuer",
                "https://token.actions.githubusercontent.com",
                "--subject",
                &format!("repo:org/app:ref:{git_ref}"),
                "--claim",
                "repository=org/app",
                "--claim",
                &format!("ref={git_ref}"),
                "--at",
                "2026-03-02T10:00:00Z",
            ],
        )
    };
    let main = workload("refs/heads/main");
    assert_eq!(main.status.code(), Some(0), "{}", text(&main.stderr));
    let stdout = text(&main.stdout);
    assert!(
        stdout.contains("decision: allow by rule `app-main-branch`"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "caller: workload `repo:org/app:ref:refs/heads/main` of issuer https://token.actions.githubusercontent.com (user `token.actions.githubusercontent.com:repo:org/app:ref:refs/heads/main`)"
        ),
        "{stdout}"
    );
    let feature = workload("refs/heads/feature");
    assert_eq!(feature.status.code(), Some(2));
    assert!(
        text(&feature.stdout)
            .contains("claims: `ref` (`refs/heads/feature`) matches none of [refs/heads/main]"),
        "{}",
        text(&feature.stdout)
    );
    // The same rule never admits an IAM caller.
    let iam = run(
        dir.path(),
        &[
            "policy",
            "test",
            "ci.yaml",
            "--principal",
            "arn:aws:iam::111122223333:user/alice",
        ],
    );
    assert_eq!(iam.status.code(), Some(2));
    assert!(text(&iam.stdout).contains("never hold for an IAM caller"));
    // A workload and a principal at once, or half a workload: invalid input (exit 3).
    for args in [
        &[
            "--principal",
            "arn:aws:iam::111122223333:user/alice",
            "--issuer",
            "https://x.test",
            "--subject",
            "s",
        ][..],
        &["--subject", "s"][..],
        &[
            "--claim",
            "a=b",
            "--principal",
            "arn:aws:iam::111122223333:user/alice",
        ][..],
    ] {
        let mut all = vec!["policy", "test", "ci.yaml"];
        all.extend_from_slice(args);
        let out = run(dir.path(), &all);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}
