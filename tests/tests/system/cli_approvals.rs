#![cfg(test)]
//! Approvals and break-glass as people use them (SPEC §8, §9): the real `sentinel`, signed
//! as different principals, against `sentinel-tvm serve` against moto, with the tables
//! made by `sentinel requests create-tables`.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use system_tests::{Moto, cargo_bin};

use crate::approvals_api::{APPROVALS, BREAKGLASS, seed_approvals};
use crate::tvm::{ALICE, ALICE_SSO, Key, LEAD, MALLORY, REGION, SECURITY, Tvm};

/// moto seeded with the policies and the tables, a TVM in front of them, and a private
/// HOME (credential cache) for the CLI.
struct World {
    moto: Moto,
    tvm: Tvm,
    home: tempfile::TempDir,
}

async fn world() -> World {
    let moto = Moto::start();
    seed_approvals(&moto).await;
    let home = tempfile::tempdir().unwrap();
    // SPEC §9: `sentinel requests create-tables` runs `sentinel-tvm create-tables`;
    // idempotent.
    for _ in 0..2 {
        let created = cli(&moto, home.path())
            .args(["requests", "create-tables", "--approval-table", APPROVALS])
            .args(["--breakglass-table", BREAKGLASS])
            .output()
            .unwrap();
        assert!(created.status.success(), "{}", err(&created));
        assert!(
            out(&created).contains("tables sentinel-approvals and sentinel-breakglass are active"),
            "{}",
            out(&created)
        );
    }
    let tvm = Tvm::start(
        &moto,
        &[
            ("SENTINEL_APPROVAL_TABLE", APPROVALS),
            ("SENTINEL_BREAKGLASS_TABLE", BREAKGLASS),
        ],
    );
    World { moto, tvm, home }
}

/// `sentinel` with moto's environment, `home` as HOME and cache, and nothing of the shell's.
fn cli(moto: &Moto, home: &Path) -> Command {
    let mut cmd = Command::new(cargo_bin("sentinel"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(moto.env())
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"));
    cmd
}

impl World {
    /// `sentinel ARGS` signed as `key` against the TVM.
    fn command(&self, key: &Key, args: &[&str]) -> Command {
        let mut cmd = cli(&self.moto, self.home.path());
        cmd.env("AWS_ACCESS_KEY_ID", key.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", key.secret_access_key)
            .env("AWS_REGION", REGION)
            .env("SENTINEL_TVM_URL", &self.tvm.url)
            .env("SENTINEL_POLL_INTERVAL_MS", "100")
            .args(args);
        cmd
    }

    fn run(&self, key: &Key, args: &[&str]) -> Output {
        self.command(key, args).output().unwrap()
    }

    fn spawn(&self, key: &Key, args: &[&str]) -> Child {
        self.command(key, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

fn out(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn err(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The keys of a credential_process document, sorted.
fn credential_keys(output: &Output) -> Vec<String> {
    let doc: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(output)));
    assert_eq!(doc["Version"], 1);
    let mut keys: Vec<String> = doc.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

const CREDENTIAL_KEYS: [&str; 5] = [
    "AccessKeyId",
    "Expiration",
    "SecretAccessKey",
    "SessionToken",
    "Version",
];

#[tokio::test]
async fn an_engineer_waits_for_a_leads_approval_then_gets_credentials() {
    let world = world().await;
    let credentials = ["credentials", "--profile", "prod", "--no-cache"];

    let refused = world.run(&ALICE, &credentials);
    assert_eq!(refused.status.code(), Some(2), "{}", err(&refused));
    assert!(refused.stdout.is_empty());
    let stderr = err(&refused);
    assert!(
        stderr.starts_with(
            "sentinel: error: APPROVAL_REQUIRED: profile `prod` needs an approved request (request id "
        ),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            ")\nhint: run `sentinel request --profile prod --reason \"<why>\" --wait`\n"
        ),
        "{stderr}"
    );
    let off_pattern = world.run(
        &ALICE,
        &["request", "--profile", "prod", "--reason", "rotate keys"],
    );
    assert_eq!(off_pattern.status.code(), Some(3), "{}", err(&off_pattern));
    assert!(
        err(&off_pattern).contains("INVALID_REASON"),
        "{}",
        err(&off_pattern)
    );

    let waiting = world.spawn(
        &ALICE,
        &[
            "request",
            "--profile",
            "prod",
            "--reason",
            "CHG-42 rotate keys",
            "--wait",
            "--timeout",
            "2m",
        ],
    );
    // The lead finds it among the pending requests they may answer.
    let started = Instant::now();
    let id = loop {
        let listed = world.run(&LEAD, &["requests", "list", "--pending", "--json"]);
        assert!(listed.status.success(), "{}", err(&listed));
        if let Some(line) = out(&listed).lines().next() {
            let request: Value = serde_json::from_str(line).unwrap();
            assert_eq!(request["requester"], "alice");
            assert_eq!(request["status"], "pending");
            break request["request_id"].as_str().unwrap().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no pending request"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let table = world.run(&LEAD, &["requests", "list", "--pending"]);
    let table = out(&table);
    assert!(table.starts_with("REQUEST "), "{table}");
    assert!(
        table.contains(&id) && table.contains("alice") && table.contains("CHG-42 rotate keys"),
        "{table}"
    );

    // Asking again with --wait, while the first request is pending, waits for that one.
    let mut second = world.spawn(
        &ALICE,
        &[
            "request",
            "--profile",
            "prod",
            "--reason",
            "CHG-42 rotate keys, again",
            "--wait",
            "--timeout",
            "2m",
        ],
    );
    // It has found the pending request before the lead answers (a read, no sleep).
    let mut second_err = std::io::BufReader::new(second.stderr.take().unwrap());
    let mut attached = String::new();
    while !attached.contains("waiting for it") {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut second_err, &mut line).unwrap();
        assert!(read > 0, "the second request ended early: {attached}");
        attached.push_str(&line);
    }
    assert!(
        attached.contains("you already have a pending request for profile `prod`; waiting for it"),
        "{attached}"
    );

    // alice through another principal is still alice: no self-approval.
    let own = world.run(&ALICE_SSO, &["approve", &id]);
    assert_eq!(own.status.code(), Some(2), "{}", err(&own));
    assert!(
        err(&own).starts_with("sentinel: error: APPROVAL_DENY: you cannot answer your own request"),
        "{}",
        err(&own)
    );

    let approved = world.run(&LEAD, &["approve", &id, "--comment", "go ahead"]);
    assert!(approved.status.success(), "{}", err(&approved));
    assert!(
        out(&approved).starts_with(&format!("request {id} approved for alice until ")),
        "{}",
        out(&approved)
    );

    let waited = waiting.wait_with_output().unwrap();
    assert_eq!(waited.status.code(), Some(0), "{}", err(&waited));
    let stdout = out(&waited);
    assert!(
        stdout.starts_with(&format!("request {id} is pending for profile prod: ")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("runs: sentinel approve {id}\n")),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(
            "approved by lee; run `sentinel credentials --profile prod` (or your AWS profile) now\n"
        ),
        "{stdout}"
    );

    let mut rest = String::new();
    std::io::Read::read_to_string(&mut second_err, &mut rest).unwrap();
    let second = second.wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{attached}{rest}");
    assert!(
        out(&second).starts_with(&format!("request {id} is pending for profile prod: ")),
        "{}",
        out(&second)
    );

    let vended = world.run(&ALICE, &credentials);
    assert!(vended.status.success(), "{}", err(&vended));
    assert_eq!(credential_keys(&vended), CREDENTIAL_KEYS);

    let shown = world.run(&LEAD, &["requests", "show", &id]);
    assert!(shown.status.success(), "{}", err(&shown));
    assert!(
        out(&shown).contains("status          approved\n"),
        "{}",
        out(&shown)
    );
    assert!(
        out(&shown).contains(
            "approval        lee (group 1, arn:aws:iam::123456789012:user/leads/lee) at "
        ),
        "{}",
        out(&shown)
    );
    let none = world.run(&LEAD, &["requests", "list", "--pending"]);
    assert_eq!(out(&none), "no requests\n");

    // The requester ends it early: the session vended under it is revoked, and the
    // profile needs a new approval.
    let revoked = world.run(
        &ALICE,
        &["requests", "revoke", &id, "--reason", "done early"],
    );
    assert!(revoked.status.success(), "{}", err(&revoked));
    let lines: Vec<String> = out(&revoked).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], format!("request {id} revoked"));
    assert!(lines[1].starts_with("revoked "), "{lines:?}");
    let again = world.run(&ALICE, &credentials);
    assert_eq!(again.status.code(), Some(2), "{}", err(&again));
    assert!(err(&again).contains("APPROVAL_REQUIRED"), "{}", err(&again));
}

#[tokio::test]
async fn break_glass_vends_once_per_cooldown_and_someone_else_reviews_it() {
    let world = world().await;
    let open = [
        "breakglass",
        "--profile",
        "prod",
        "--reason",
        "INC-42 database down",
    ];

    let opened = world.run(&MALLORY, &open);
    assert!(opened.status.success(), "{}", err(&opened));
    assert_eq!(credential_keys(&opened), CREDENTIAL_KEYS);
    let stderr = err(&opened);
    let id = stderr
        .strip_prefix("sentinel: break-glass opened: ")
        .and_then(|rest| rest.strip_suffix("; this is recorded, notified and needs review\n"))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_owned();
    assert_eq!(id.len(), 32, "{id}");

    let cooling = world.run(&MALLORY, &open);
    assert_eq!(cooling.status.code(), Some(2), "{}", err(&cooling));
    assert!(cooling.stdout.is_empty());
    assert!(
        err(&cooling).starts_with(
            "sentinel: error: COOLDOWN: break-glass on profile `prod` is cooling down"
        ),
        "{}",
        err(&cooling)
    );

    let listed = world.run(&SECURITY, &["breakglass", "list"]);
    assert!(listed.status.success(), "{}", err(&listed));
    let row = out(&listed)
        .lines()
        .find(|l| l.starts_with(&id))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{}", out(&listed)));
    assert!(
        row.contains("mallory") && row.contains("needs_review"),
        "{row}"
    );

    // Whoever broke glass does not review it.
    let own = world.run(&MALLORY, &["breakglass", "review", &id, "--notes", "fine"]);
    assert_eq!(own.status.code(), Some(2), "{}", err(&own));
    assert!(err(&own).contains("ADMIN_DENY"), "{}", err(&own));

    let reviewed = world.run(
        &SECURITY,
        &[
            "breakglass",
            "review",
            &id,
            "--notes",
            "justified by INC-42",
        ],
    );
    assert!(reviewed.status.success(), "{}", err(&reviewed));
    assert_eq!(out(&reviewed), format!("break-glass {id} reviewed\n"));
    let again = world.run(
        &SECURITY,
        &["breakglass", "review", &id, "--notes", "again"],
    );
    assert_eq!(again.status.code(), Some(3), "{}", err(&again));
    assert!(err(&again).contains("REQUEST_CONFLICT"), "{}", err(&again));

    let open_events = world.run(&SECURITY, &["breakglass", "list"]);
    assert_eq!(out(&open_events), "no break-glass events\n");
    let all = world.run(&SECURITY, &["breakglass", "list", "--all"]);
    assert!(
        out(&all)
            .lines()
            .any(|l| l.starts_with(&id) && l.contains(" reviewed ")),
        "{}",
        out(&all)
    );
    let shown = world.run(&SECURITY, &["breakglass", "show", &id]);
    assert!(
        out(&shown).contains("reviewed_by     sam\n"),
        "{}",
        out(&shown)
    );
    assert!(
        out(&shown).contains("review_notes    justified by INC-42\n"),
        "{}",
        out(&shown)
    );
}
