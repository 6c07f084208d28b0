//! The admins' CLI against moto: `bootstrap`, `policy pull|push|diff` on SSM,
//! `sentinel-tvm create-table` on DynamoDB, and `sessions list|show|revoke|reconcile` through
//! `sentinel-tvm serve`'s admin API (the TVM writes the rows and the IAM deny policy).

#![cfg(test)]

use std::path::PathBuf;
use std::process::{Command, Output};

use ::sessions::{DynamoSessionStore, SessionId, SessionRecord, SessionStore, Status};
use system_tests::{AWS_ENV_TO_REMOVE, Moto, cargo_bin, workspace_root};

use crate::revocation::{deny_ids, deny_of, record_on};
use crate::tvm::{ALICE, Key, SECURITY, Tvm, seed};

const ROOT: &str = "/sentinel/policies";
const TABLE: &str = "sentinel-sessions";
const ROLE: &str = "SentinelProtected-prod";

/// `program` (a workspace binary) with moto's environment and none of the shell's AWS or
/// Sentinel settings.
fn command(moto: &Moto, program: &str) -> Command {
    let mut cmd = Command::new(cargo_bin(program));
    for name in AWS_ENV_TO_REMOVE {
        cmd.env_remove(name);
    }
    cmd.env_remove("SENTINEL_POLICY_ROOT")
        .env_remove("SENTINEL_SESSION_TABLE")
        .envs(moto.env());
    cmd
}

fn sentinel(moto: &Moto, args: &[&str]) -> Output {
    command(moto, "sentinel").args(args).output().unwrap()
}

/// `sentinel-tvm create-table --table TABLE` (the local stack's table; the CLI links no
/// DynamoDB client).
fn tvm_create_table(moto: &Moto) -> Output {
    command(moto, "sentinel-tvm")
        .args(["create-table", "--table", TABLE])
        .output()
        .unwrap()
}

/// `sentinel ARGS` signed as `key`, against the TVM's admin API.
fn admin(moto: &Moto, tvm: &Tvm, key: &Key, args: &[&str]) -> Output {
    command(moto, "sentinel")
        .env("AWS_ACCESS_KEY_ID", key.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", key.secret_access_key)
        .args(args)
        .args(["--tvm-url", &tvm.url, "--region", "us-east-1"])
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn examples() -> PathBuf {
    workspace_root().join("examples").join("policies")
}

/// The example profile policies (the admin document `_admin.yaml` is not a profile).
fn example_files() -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| p.file_stem().is_some_and(|s| s != "_admin"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "examples/policies holds no *.yaml");
    files
}

async fn stored(moto: &Moto) -> Vec<String> {
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    let page = ssm
        .get_parameters_by_path()
        .path(ROOT)
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = page
        .parameters
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn bootstrap_applies_the_examples_and_pull_returns_them_byte_for_byte() {
    let moto = Moto::start();
    let dir = examples();
    let dir = dir.to_str().unwrap();

    let plan = sentinel(&moto, &["bootstrap", "--dir", dir, "--plan"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    for (profile, _) in example_files() {
        assert!(
            stdout(&plan).contains(&format!("create {profile}\n")),
            "{}",
            stdout(&plan)
        );
    }
    assert!(stored(&moto).await.is_empty(), "--plan wrote something");

    let unconfirmed = sentinel(&moto, &["bootstrap", "--dir", dir]);
    assert!(unconfirmed.status.success());
    assert!(
        stderr(&unconfirmed).contains("hint: re-run with --yes"),
        "{}",
        stderr(&unconfirmed)
    );
    assert!(stored(&moto).await.is_empty(), "no --yes wrote something");

    let applied = sentinel(&moto, &["bootstrap", "--dir", dir, "--yes"]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    // The admin document goes to <root>/_admin like a profile's policy.
    let admin = aws_sdk_ssm::Client::new(&moto.sdk_config().await)
        .get_parameter()
        .name("/sentinel/policies/_admin")
        .send()
        .await
        .unwrap();
    assert_eq!(
        admin.parameter().unwrap().value().unwrap().as_bytes(),
        std::fs::read(examples().join("_admin.yaml")).unwrap()
    );
    for (profile, path) in example_files() {
        let pulled = sentinel(&moto, &["policy", "pull", &profile]);
        assert!(pulled.status.success(), "{}", stderr(&pulled));
        assert_eq!(pulled.stdout, std::fs::read(&path).unwrap(), "{profile}");
    }

    let again = sentinel(&moto, &["bootstrap", "--dir", dir, "--yes"]);
    assert!(again.status.success());
    assert!(
        stdout(&again).lines().all(|l| l.starts_with("unchanged ")),
        "{}",
        stdout(&again)
    );
}

#[tokio::test]
async fn one_invalid_file_aborts_bootstrap_with_nothing_written() {
    let moto = Moto::start();
    let scratch = tempfile::tempdir().unwrap();
    for (profile, path) in example_files() {
        std::fs::copy(&path, scratch.path().join(format!("{profile}.yaml"))).unwrap();
    }
    std::fs::write(
        scratch.path().join("zz-broken.yaml"),
        "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::111122223333:role/R\nrules:\n  - name: r\n    effect: permit\n",
    )
    .unwrap();
    let out = sentinel(
        &moto,
        &[
            "bootstrap",
            "--dir",
            scratch.path().to_str().unwrap(),
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("sentinel: error: "),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("zz-broken.yaml:"), "{}", stderr(&out));
    assert!(stored(&moto).await.is_empty());
}

#[tokio::test]
async fn push_validates_first_and_diff_shows_the_change() {
    let moto = Moto::start();
    let (profile, path) = example_files().into_iter().next().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let invalid = scratch.path().join("invalid.yaml");
    std::fs::write(&invalid, "version: \"1\"\nrules: [\n").unwrap();
    let refused = sentinel(
        &moto,
        &["policy", "push", &profile, invalid.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    assert!(stored(&moto).await.is_empty());

    let pushed = sentinel(&moto, &["policy", "push", &profile, path.to_str().unwrap()]);
    assert!(pushed.status.success(), "{}", stderr(&pushed));
    let same = sentinel(&moto, &["policy", "diff", &profile, path.to_str().unwrap()]);
    assert!(same.status.success());
    assert_eq!(stdout(&same), "");

    let edited = scratch.path().join("edited.yaml");
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&edited, format!("# reviewed\n{original}")).unwrap();
    let diff = sentinel(
        &moto,
        &["policy", "diff", &profile, edited.to_str().unwrap()],
    );
    assert!(diff.status.success());
    assert!(
        stdout(&diff).starts_with(&format!(
            "--- ssm:{ROOT}/{profile}\n+++ {}\n@@ ",
            edited.display()
        )),
        "{}",
        stdout(&diff)
    );
    assert!(stdout(&diff).contains("\n+# reviewed\n"));

    let missing = sentinel(&moto, &["policy", "pull", "no-such-profile"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no policy for profile `no-such-profile`"));
}

fn record(n: u32, user: &str) -> SessionRecord {
    let mut record = record_on(ROLE, n, user);
    record.profile = "prod".parse().unwrap();
    record
}

async fn role_policy(iam: &aws_sdk_iam::Client) -> String {
    deny_of(iam, ROLE).await.expect("the role's deny")
}

#[tokio::test]
async fn sessions_are_listed_shown_and_revoked_with_an_idempotent_iam_deny() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let config = moto.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    // SPEC §8's `sentinel sessions create-table` runs `sentinel-tvm create-table` (the
    // CLI links no DynamoDB client); both are idempotent.
    let created = tvm_create_table(&moto);
    assert!(created.status.success(), "{}", stderr(&created));
    let created = sentinel(&moto, &["sessions", "create-table", "--table", TABLE]);
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(
        stdout(&created).contains("table sentinel-sessions is active"),
        "{}",
        stdout(&created)
    );
    let described = dynamodb
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let mut indexes: Vec<_> = described
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, ["by-profile", "by-user", "revoked-by-role"]);
    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.attribute_name(), Some("ttl"));
    let store = DynamoSessionStore::new(dynamodb, TABLE);
    for (n, user) in [(1, "alice"), (2, "alice"), (3, "bob")] {
        store.put_new(&record(n, user)).await.unwrap();
    }
    let iam = aws_sdk_iam::Client::new(&config);
    iam.create_role()
        .role_name(ROLE)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();

    let missing_tvm = sentinel(&moto, &["sessions", "list"]);
    assert_eq!(
        missing_tvm.status.code(),
        Some(3),
        "{}",
        stderr(&missing_tvm)
    );

    let listed = admin(
        &moto,
        &tvm,
        &SECURITY,
        &["sessions", "list", "--user", "alice", "--json"],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let users: Vec<String> = stdout(&listed)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["user"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(users, ["alice", "alice"]);
    let table = admin(
        &moto,
        &tvm,
        &SECURITY,
        &["sessions", "list", "--limit", "2"],
    );
    assert_eq!(stdout(&table).lines().count(), 3, "{}", stdout(&table));

    let id = format!("{:032x}", 1);
    let shown = admin(&moto, &tvm, &SECURITY, &["sessions", "show", &id]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(
        stdout(&shown).contains("status          active\n"),
        "{}",
        stdout(&shown)
    );

    // An engineer is refused by the admin policy, and nothing changes.
    let refused = admin(
        &moto,
        &tvm,
        &ALICE,
        &["sessions", "revoke", &id, "--reason", "mine"],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("ADMIN_DENY"),
        "{}",
        stderr(&refused)
    );
    let untouched = store
        .get(&SessionId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.status(), Status::Active);

    let revoked = admin(
        &moto,
        &tvm,
        &SECURITY,
        &["sessions", "revoke", &id, "--reason", "laptop lost"],
    );
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(stdout(&revoked), format!("revoked {id}\n"));
    let row = store
        .get(&SessionId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status(), Status::Revoked);
    let revocation = row.revocation().unwrap();
    assert_eq!(revocation.reason, "laptop lost");
    assert_eq!(revocation.by, SECURITY.arn, "{row:?}");
    let policy = role_policy(&iam).await;
    assert_eq!(deny_ids(&policy), std::slice::from_ref(&id));

    let again = admin(
        &moto,
        &tvm,
        &SECURITY,
        &["sessions", "revoke", &id, "--reason", "again"],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).starts_with(&format!("already revoked {id}")));
    let again_row = store.get(&row.session_id).await.unwrap().unwrap();
    assert_eq!(
        again_row.revocation(),
        row.revocation(),
        "the first revocation stays"
    );
    assert!(matches!(
        again_row.aws_deny(),
        Some(::sessions::AwsDeny::Applied { .. })
    ));
    assert_eq!(role_policy(&iam).await, policy);

    let by_user = admin(
        &moto,
        &tvm,
        &SECURITY,
        &[
            "sessions",
            "revoke",
            "--user",
            "alice",
            "--reason",
            "offboarding",
        ],
    );
    assert!(by_user.status.success(), "{}", stderr(&by_user));
    assert_eq!(stdout(&by_user), format!("revoked {:032x}\n", 2));
    assert_eq!(
        deny_ids(&role_policy(&iam).await),
        [id.clone(), format!("{:032x}", 2)]
    );

    let by_profile = admin(
        &moto,
        &tvm,
        &SECURITY,
        &[
            "sessions",
            "revoke",
            "--profile",
            "prod",
            "--reason",
            "incident",
        ],
    );
    assert!(by_profile.status.success(), "{}", stderr(&by_profile));
    assert_eq!(stdout(&by_profile), format!("revoked {:032x}\n", 3));
    assert_eq!(deny_ids(&role_policy(&iam).await).len(), 3);

    let reconciled = admin(&moto, &tvm, &SECURITY, &["sessions", "reconcile"]);
    assert!(reconciled.status.success(), "{}", stderr(&reconciled));
    assert!(
        stderr(&reconciled).contains(&format!("role `{ROLE}` denies the revoked sessions")),
        "{}",
        stderr(&reconciled)
    );
    assert_eq!(deny_ids(&role_policy(&iam).await).len(), 3);

    let unknown = admin(
        &moto,
        &tvm,
        &SECURITY,
        &["sessions", "show", &"f".repeat(32)],
    );
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
    let malformed = admin(&moto, &tvm, &SECURITY, &["sessions", "show", "nope"]);
    assert_eq!(malformed.status.code(), Some(3));
}

/// Ten admins revoke ten sessions of one role at once: the role's deny ends up holding
/// all ten (each writer rebuilds from the table under a per-role lease and verifies what
/// it wrote). Before, each run did get-build-put with nothing in between and IDs were lost.
#[tokio::test]
async fn concurrent_revokes_on_one_role_all_reach_its_deny() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let config = moto.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let store = DynamoSessionStore::new(dynamodb, TABLE);
    let ids: Vec<String> = (1..=10)
        .map(|n| record(n, "alice").session_id.to_string())
        .collect();
    for n in 1..=10 {
        store.put_new(&record(n, "alice")).await.unwrap();
    }
    let iam = aws_sdk_iam::Client::new(&config);
    iam.create_role()
        .role_name(ROLE)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();

    let runs: Vec<_> = ids
        .iter()
        .map(|id| {
            command(&moto, "sentinel")
                .env("AWS_ACCESS_KEY_ID", SECURITY.access_key_id)
                .env("AWS_SECRET_ACCESS_KEY", SECURITY.secret_access_key)
                .args(["sessions", "revoke", id, "--reason", "race"])
                .args(["--tvm-url", &tvm.url, "--region", "us-east-1"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let mut denied = deny_ids(&role_policy(&iam).await);
    denied.sort();
    assert_eq!(denied, ids, "every revoked session is in the role's deny");
}

/// A protected role in another account gets its deny written there, through that
/// account's SentinelRevoker, never on the same-named role of the admin's account; where
/// it cannot be written, the revoke fails naming what to deploy and the row says pending. The
/// TVM (serve, in moto's default account) is the writer; the admin only calls it.
/// moto is multi-account (credentials of a role session act in the role's account) but
/// does not check that an assumed role exists, so the missing revoker shows up as the
/// failure to reach the protected role through it.
#[tokio::test]
async fn a_role_in_another_account_is_denied_there_through_its_revoker() {
    const OTHER: &str = "222233334444";
    const NO_REVOKER: &str = "333344445555";
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let config = moto.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let store = DynamoSessionStore::new(dynamodb, TABLE);
    let trust = r#"{"Version":"2012-10-17","Statement":[]}"#;
    // The trap: a role of the same name in the admin's own account.
    let home = aws_sdk_iam::Client::new(&config);
    home.create_role()
        .role_name(ROLE)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    // The other account's protected role and revoker, created with that account's
    // credentials.
    let setup = aws_sdk_sts::Client::new(&config)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{OTHER}:role/Setup"))
        .role_session_name("setup")
        .send()
        .await
        .unwrap();
    let creds = setup.credentials().unwrap();
    let other_config = config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    creds.access_key_id(),
                    creds.secret_access_key(),
                    Some(creds.session_token().to_owned()),
                    None,
                    "setup",
                ),
            ),
        )
        .build();
    let other = aws_sdk_iam::Client::new(&other_config);
    for role in [ROLE, "SentinelRevoker"] {
        other
            .create_role()
            .role_name(role)
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
    }
    let mut there = record(1, "alice");
    there.role_arn = format!("arn:aws:iam::{OTHER}:role/{ROLE}").parse().unwrap();
    let mut unreachable = record(2, "alice");
    unreachable.role_arn = format!("arn:aws:iam::{NO_REVOKER}:role/{ROLE}")
        .parse()
        .unwrap();
    for r in [&there, &unreachable] {
        store.put_new(r).await.unwrap();
    }

    let revoked = admin(
        &moto,
        &tvm,
        &SECURITY,
        &[
            "sessions",
            "revoke",
            there.session_id.as_str(),
            "--reason",
            "x",
        ],
    );
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(
        deny_ids(&role_policy(&other).await),
        [there.session_id.to_string()]
    );
    assert_eq!(
        deny_of(&home, ROLE).await,
        None,
        "nothing is written on the same-named role at home"
    );
    let row = store.get(&there.session_id).await.unwrap().unwrap();
    assert!(
        matches!(row.aws_deny(), Some(::sessions::AwsDeny::Applied { .. })),
        "{row:?}"
    );

    let failed = admin(
        &moto,
        &tvm,
        &SECURITY,
        &[
            "sessions",
            "revoke",
            unreachable.session_id.as_str(),
            "--reason",
            "x",
        ],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let text = stderr(&failed);
    assert!(
        text.contains(&format!("arn:aws:iam::{NO_REVOKER}:role/SentinelRevoker")),
        "{text}"
    );
    assert!(text.contains("deploy/protected-role.yaml"), "{text}");
    let row = store.get(&unreachable.session_id).await.unwrap().unwrap();
    assert_eq!(
        row.status(),
        Status::Revoked,
        "layer 1 holds whatever layer 2 does"
    );
    // SPEC §6: the row says layer 2 is pending (reconcile applies it once the revoker
    // is deployed); the answer, above, named what to deploy.
    assert_eq!(
        row.aws_deny(),
        Some(&::sessions::AwsDeny::Pending),
        "{row:?}"
    );
}
