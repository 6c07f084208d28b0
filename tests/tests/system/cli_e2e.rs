//! The engineer's path end to end: `sentinel` (credentials, exec, profiles,
//! configure) against `sentinel-tvm serve` against moto, and the AWS CLI and
//! boto3 using sentinel as their `credential_process`.

#![cfg(test)]

use std::path::Path;
use std::process::{Command, Output};

use system_tests::{AWS_ENV_TO_REMOVE, Moto, Venv, cargo_bin};

use crate::tvm::{ALICE, Key, MALLORY, REGION, Tvm, seed};

/// A private HOME with the callers' keys as named profiles in a credentials file.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut credentials = String::new();
        for (name, key) in [("alice", ALICE), ("mallory", MALLORY)] {
            credentials.push_str(&format!(
                "[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
                key.access_key_id, key.secret_access_key
            ));
        }
        std::fs::write(dir.path().join("credentials"), credentials).unwrap();
        std::fs::write(dir.path().join("config"), "").unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command with moto's environment, this home's AWS files and no stray profile.
    fn command(&self, moto: &Moto, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        for name in AWS_ENV_TO_REMOVE {
            cmd.env_remove(name);
        }
        cmd.envs(moto.env())
            .env("HOME", self.path())
            .env("XDG_CACHE_HOME", self.path().join("cache"))
            .env("AWS_CONFIG_FILE", self.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path().join("credentials"),
            );
        cmd
    }

    fn sentinel(&self, moto: &Moto, key: &Key, args: &[&str]) -> Output {
        self.command(moto, &cargo_bin("sentinel"))
            .env("AWS_ACCESS_KEY_ID", key.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", key.secret_access_key)
            .env("AWS_REGION", REGION)
            .args(args)
            .output()
            .unwrap()
    }

    /// `sentinel configure` of profile `dev`, signed with alice's source profile.
    fn configure_dev_for_alice(&self, moto: &Moto, tvm: &Tvm) {
        let configured = self.sentinel(
            moto,
            &ALICE,
            &[
                "configure",
                "--profile",
                "dev",
                "--tvm-url",
                &tvm.url,
                "--source-profile",
                "alice",
                "--region",
                REGION,
            ],
        );
        assert!(configured.status.success(), "{}", text(&configured.stderr));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn credentials_profiles_and_denials_through_serve() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let home = Home::new();

    let vended = home.sentinel(
        &moto,
        &ALICE,
        &["credentials", "--profile", "dev", "--tvm-url", &tvm.url],
    );
    assert!(vended.status.success(), "{}", text(&vended.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&vended.stdout).unwrap();
    assert_eq!(doc["Version"], 1);
    assert!(doc["AccessKeyId"].as_str().is_some_and(|k| !k.is_empty()));
    let cached = home.sentinel(
        &moto,
        &ALICE,
        &["credentials", "--profile", "dev", "--tvm-url", &tvm.url],
    );
    assert_eq!(
        cached.stdout, vended.stdout,
        "the second call is served from the cache"
    );

    let denied = home.sentinel(
        &moto,
        &MALLORY,
        &[
            "credentials",
            "--profile",
            "dev",
            "--tvm-url",
            &tvm.url,
            "--no-cache",
        ],
    );
    assert_eq!(denied.status.code(), Some(2), "{}", text(&denied.stderr));
    assert!(
        text(&denied.stderr).starts_with("sentinel: error: POLICY_DENY: "),
        "{}",
        text(&denied.stderr)
    );

    let broken = home.sentinel(
        &moto,
        &ALICE,
        &["credentials", "--profile", "broken", "--tvm-url", &tvm.url],
    );
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken.stderr));
    assert!(text(&broken.stderr).contains("POLICY_ERROR"));

    let listed = home.sentinel(
        &moto,
        &ALICE,
        &["profiles", "--json", "--tvm-url", &tvm.url],
    );
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let profiles: protocol::ProfilesResponse = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<&str> = profiles.profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["broken", "dev"]);
}

#[tokio::test]
async fn the_aws_cli_uses_sentinel_as_its_credential_process() {
    let venv = Venv::ensure();
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let home = Home::new();

    home.configure_dev_for_alice(&moto, &tvm);

    let aws = venv.join("aws");
    let who = home
        .command(&moto, &aws)
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            "dev",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(who.status.success(), "{}", text(&who.stderr));
    let arn = serde_json::from_slice::<serde_json::Value>(&who.stdout).unwrap()["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        arn.contains(":assumed-role/SentinelProtected-dev/sentinel-"),
        "{arn}"
    );

    // AWS_PROFILE naming the sentinel profile without a source profile would
    // recurse; sentinel refuses at once instead.
    let config = std::fs::read_to_string(home.path().join("config")).unwrap();
    std::fs::write(
        home.path().join("config"),
        config.replace(" --source-profile alice", ""),
    )
    .unwrap();
    let recursive = home
        .command(&moto, &cargo_bin("sentinel"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_PROFILE", "dev")
        .args([
            "credentials",
            "--profile",
            "dev",
            "--tvm-url",
            &tvm.url,
            "--region",
            REGION,
        ])
        .output()
        .unwrap();
    assert_eq!(recursive.status.code(), Some(1));
    assert!(
        text(&recursive.stderr).contains("hint: set --source-profile"),
        "{}",
        text(&recursive.stderr)
    );
}

#[tokio::test]
async fn boto3_and_the_aws_cli_get_the_role_or_sentinels_refusal() {
    let venv = Venv::ensure();
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let home = Home::new();
    home.configure_dev_for_alice(&moto, &tvm);
    // The same Sentinel profile signed with mallory's key, as a hand-written entry.
    let mut config = std::fs::read_to_string(home.path().join("config")).unwrap();
    config.push_str(&format!(
        "\n[profile mallory-dev]\ncredential_process = {} credentials --profile dev --tvm-url {} --source-profile mallory --region {REGION}\nregion = {REGION}\n",
        cargo_bin("sentinel").display(),
        tvm.url
    ));
    std::fs::write(home.path().join("config"), config).unwrap();

    let boto3 = |profile: &str| {
        home.command(&moto, &venv.join("python"))
            .args([
                "-c",
                "import sys, boto3; \
                 print(boto3.Session(profile_name=sys.argv[1]).client('sts').get_caller_identity()['Arn'])",
                profile,
            ])
            .output()
            .unwrap()
    };
    let allowed = boto3("dev");
    assert!(allowed.status.success(), "{}", text(&allowed.stderr));
    assert!(
        text(&allowed.stdout).contains(":assumed-role/SentinelProtected-dev/sentinel-"),
        "{}",
        text(&allowed.stdout)
    );

    let refused_by_boto3 = boto3("mallory-dev");
    let refused_by_cli = home
        .command(&moto, &venv.join("aws"))
        .args(["sts", "get-caller-identity", "--profile", "mallory-dev"])
        .output()
        .unwrap();
    for (client, out) in [("boto3", refused_by_boto3), ("aws", refused_by_cli)] {
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{client} got credentials: {stderr}");
        assert!(
            stderr.contains("POLICY_DENY") && stderr.contains("denied by rule `no-mallory`"),
            "{client} does not show sentinel's message: {stderr}"
        );
    }
}

#[tokio::test]
async fn exec_gives_a_command_the_vended_role_session() {
    let venv = Venv::ensure();
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let home = Home::new();
    let aws = venv.join("aws");
    let out = home.sentinel(
        &moto,
        &ALICE,
        &[
            "exec",
            "--profile",
            "dev",
            "--tvm-url",
            &tvm.url,
            "--",
            aws.to_str().unwrap(),
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let arn = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        arn.contains(":assumed-role/SentinelProtected-dev/sentinel-"),
        "{arn}"
    );
}
