//! `sentinel exec --refresh` end to end: boto3 and the AWS CLI in the child read their
//! credentials from sentinel's local endpoint, which vends through `sentinel-tvm serve`
//! against moto, and a child that runs across a refresh gets a new role session without
//! restarting.

#![cfg(test)]

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use system_tests::{AWS_ENV_TO_REMOVE, Moto, Venv, cargo_bin};

use crate::tvm::{ALICE, REGION, Tvm, seed};

/// Credentials of at most 15 minutes for engineers, on the protected role `seed` creates.
const SHORT_POLICY: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev
rules:
  - name: engineers-short
    effect: allow
    conditions:
      principals: ["arn:aws:iam::123456789012:user/eng/*"]
    max_duration: 15m
    reason: engineers may use short credentials
"#;

/// The child: the AWS CLI twice, then one boto3 client twice. Each prints the ARN it is.
/// The credentials live 15 minutes, inside botocore's 15-minute advisory refresh window,
/// so botocore fetches from the endpoint again before each call, and the endpoint (its
/// refresh window wider than the credentials' lifetime) vends anew for each fetch.
const CHILD: &str = r#"set -e
test -z "${AWS_ACCESS_KEY_ID-}${AWS_SECRET_ACCESS_KEY-}${AWS_SESSION_TOKEN-}${AWS_PROFILE-}"
echo "start $SENTINEL_SESSION_ID"
"$AWS" sts get-caller-identity --query Arn --output text
"$AWS" sts get-caller-identity --query Arn --output text
"$PYTHON" -c '
import boto3
sts = boto3.Session().client("sts")
for _ in range(2):
    print(sts.get_caller_identity()["Arn"])
'
"#;

/// The whole run may take this long (four SDK calls against loopback).
const BOUND: Duration = Duration::from_secs(120);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `sentinel` signed with alice's keys, with moto's endpoint and a private HOME.
fn sentinel(moto: &Moto, home: &Path, venv: &Path) -> Command {
    let mut cmd = Command::new(cargo_bin("sentinel"));
    for name in AWS_ENV_TO_REMOVE {
        cmd.env_remove(name);
    }
    cmd.envs(moto.env())
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("AWS_ACCESS_KEY_ID", ALICE.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", ALICE.secret_access_key)
        .env("AWS_REGION", REGION)
        .env("AWS", venv.join("aws"))
        .env("PYTHON", venv.join("python"));
    cmd
}

/// Runs `command` to its end, killing it after [`BOUND`].
fn run_bounded(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{command:?}` did not finish within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The session ID at the end of a role session ARN `.../sentinel-<id>`.
fn session_of(arn: &str) -> String {
    assert!(
        arn.contains(":assumed-role/SentinelProtected-dev/sentinel-"),
        "not a sentinel role session: {arn}"
    );
    let id = arn.rsplit("sentinel-").next().unwrap().to_owned();
    assert_eq!(id.len(), 32, "{arn}");
    id
}

#[tokio::test]
async fn boto3_and_the_aws_cli_get_new_sessions_from_the_endpoint_without_restarting() {
    let venv = Venv::ensure();
    let moto = Moto::start();
    seed(&moto).await;
    aws_sdk_ssm::Client::new(&moto.sdk_config().await)
        .put_parameter()
        .name("/sentinel/policies/short")
        .value(SHORT_POLICY)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let tvm = Tvm::start(&moto, &[]);
    let home = tempfile::tempdir().unwrap();

    // The policy grants 15 minutes, less than the 2 h refresh window below.
    let mut probe = sentinel(&moto, home.path(), &venv);
    probe.args([
        "credentials",
        "--profile",
        "short",
        "--no-cache",
        "--tvm-url",
        &tvm.url,
    ]);
    let probed = run_bounded(probe);
    assert!(probed.status.success(), "{}", text(&probed.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&probed.stdout).unwrap();
    let expiration =
        chrono::DateTime::parse_from_rfc3339(doc["Expiration"].as_str().unwrap()).unwrap();
    assert!(expiration.to_utc() - chrono::Utc::now() <= chrono::Duration::minutes(15));

    let mut exec = sentinel(&moto, home.path(), &venv);
    exec.args([
        "exec",
        "--profile",
        "short",
        "--tvm-url",
        &tvm.url,
        "--refresh",
        "--refresh-window",
        "2h",
        "--",
        "sh",
        "-c",
        CHILD,
    ]);
    let out = run_bounded(exec);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\n{}",
        text(&out.stderr),
        moto.log()
    );
    let mut lines = stdout.lines();
    let start = lines
        .next()
        .and_then(|l| l.strip_prefix("start "))
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned();
    let arns: Vec<&str> = lines.collect();
    assert_eq!(
        arns.len(),
        4,
        "two from the AWS CLI, two from boto3: {stdout}"
    );
    let sessions: BTreeSet<String> = arns.iter().map(|arn| session_of(arn)).collect();
    assert_eq!(
        sessions.len(),
        4,
        "every fetch re-vended, also within one boto3 client: {stdout}"
    );
    assert!(
        !sessions.contains(&start),
        "the endpoint's sessions are new ones: {stdout}"
    );
}
