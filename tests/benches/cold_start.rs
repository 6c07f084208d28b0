//! Cold init of the Lambda binaries: from process start to the first answered
//! event, against the local Runtime API. Prints a table; asserts no timings.
//!
//! Run with `scripts/bench.sh` (it builds the release binaries first), or
//! `cargo build --release --bins && cargo bench -p system-tests --bench cold_start`.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark driver: a broken setup must stop loudly"
)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use system_tests::runtime_api::{Outcome, RuntimeApi};
use system_tests::{Moto, workspace_root};

const RUNS: usize = 20;

fn release_bin(name: &str) -> PathBuf {
    workspace_root().join("target/release").join(name)
}

fn event(crate_dir: &str, name: &str) -> Value {
    let path = workspace_root()
        .join(crate_dir)
        .join("tests/events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("saved event")).expect("json event")
}

async fn cold_start(
    binary: &str,
    moto: &Moto,
    env: &[(&str, &str)],
    event: &Value,
    expected_status: u16,
) -> Duration {
    let mut runtime = RuntimeApi::start().await;
    runtime.push("bench", event.clone());
    let started = Instant::now();
    let mut child = Command::new(release_bin(binary))
        .env_clear()
        .envs(moto.env())
        .envs(runtime.lambda_env(binary))
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn release binary (run `cargo build --release --bins` first)");
    let outcome = runtime.next_outcome(Duration::from_secs(30)).await;
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    let Some(Outcome::Response { body, .. }) = outcome else {
        panic!("no answer: {outcome:?}");
    };
    // An HTTP event must be answered as the row says (a vend with 200, the unsigned
    // event with 403); an authorizer answer has no status.
    if let Some(status) = body.get("statusCode") {
        assert_eq!(status, expected_status, "{body}");
    }
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / nextest discovery
    }
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name("/sentinel/policies/dev")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value(
            "version: \"1\"\nprofile:\n  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev\nrules:\n  - name: all\n    effect: allow\n",
        )
        .send()
        .await
        .expect("seed policy");
    sessions::create_table(&aws_sdk_dynamodb::Client::new(&config), "sentinel-sessions")
        .await
        .expect("session table");

    let refusal = event("tvm-lambda", "apigw-v2-no-auth.json");
    let vend = event("tvm-lambda", "apigw-v2-iam.json");
    let authorize = event("authorizer", "http-api-v2.json");
    let table = [("SENTINEL_SESSION_TABLE", "sentinel-sessions")];

    let mut rows = Vec::new();
    for (label, binary, event, status) in [
        (
            "sentinel-tvm: first answer, no AWS call (unsigned event)",
            "sentinel-tvm",
            &refusal,
            403,
        ),
        (
            "sentinel-tvm: first vend (SSM + STS + DynamoDB on moto)",
            "sentinel-tvm",
            &vend,
            200,
        ),
        (
            "sentinel-authorizer: first answer (DynamoDB on moto)",
            "sentinel-authorizer",
            &authorize,
            0,
        ),
    ] {
        let mut samples = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            samples.push(cold_start(binary, &moto, &table, event, status).await);
        }
        let min = samples.iter().min().copied().unwrap_or_default();
        rows.push((label, median(samples), min));
    }
    println!("\n| cold start, release build ({RUNS} runs) | median | min |");
    println!("| --- | ---: | ---: |");
    for (label, median, min) in rows {
        println!(
            "| {label} | {:.1} ms | {:.1} ms |",
            median.as_secs_f64() * 1000.0,
            min.as_secs_f64() * 1000.0
        );
    }
}
