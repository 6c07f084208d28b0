//! The real Lambda binaries, booted from environment variables alone against a
//! local Runtime API, answering saved API Gateway v2, Function URL and authorizer
//! events with moto behind them.

#![cfg(test)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use protocol::{ErrorBody, VendResponse};
use serde_json::Value;
use system_tests::runtime_api::{Outcome, RuntimeApi};
use system_tests::{Moto, cargo_bin};

use crate::tvm::{TABLE, seed};

const LAMBDA_POLICY: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev
rules:
  - name: engineers-and-sso
    effect: allow
    conditions:
      principals:
        - "arn:aws:iam::111122223333:user/eng/*"
        - "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_*"
"#;

pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn saved_event(crate_dir: &str, name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(crate_dir)
        .join("tests/events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub(crate) fn boot(
    binary: &str,
    runtime: &RuntimeApi,
    moto: &Moto,
    extra: &[(&str, &str)],
) -> Killed {
    let child = Command::new(cargo_bin(binary))
        .env_clear()
        .envs(moto.env())
        .envs(runtime.lambda_env(binary))
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Killed(child)
}

pub(crate) async fn answer(runtime: &mut RuntimeApi, id: &str, event: Value) -> Value {
    runtime.push(id, event);
    match runtime.next_outcome(Duration::from_secs(20)).await {
        Some(Outcome::Response { request_id, body }) => {
            assert_eq!(request_id, id);
            body
        }
        other => panic!("expected a response to {id}, got {other:?}"),
    }
}

fn http_body<T: serde::de::DeserializeOwned>(response: &Value) -> T {
    let body = response["body"].as_str().unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
}

#[tokio::test]
async fn tvm_lambda_answers_http_api_and_function_url_events() {
    let moto = Moto::start();
    seed(&moto).await;
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    ssm.put_parameter()
        .name("/sentinel/policies/dev")
        .value(LAMBDA_POLICY)
        .overwrite(true)
        .send()
        .await
        .unwrap();

    let mut runtime = RuntimeApi::start().await;
    let _tvm = boot(
        "sentinel-tvm",
        &runtime,
        &moto,
        &[("SENTINEL_SESSION_TABLE", TABLE)],
    );

    let response = answer(
        &mut runtime,
        "inv-1",
        saved_event("tvm-lambda", "apigw-v2-iam.json"),
    )
    .await;
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["headers"]["content-type"], "application/json");
    let vended: VendResponse = http_body(&response);
    assert_eq!(vended.source_identity, "sentinel=alice");
    let lifetime = vended.expiration - chrono::Utc::now();
    assert!(
        lifetime > chrono::Duration::seconds(1700),
        "duration=1800 requested: {lifetime}"
    );

    let response = answer(
        &mut runtime,
        "inv-2",
        saved_event("tvm-lambda", "function-url-iam.json"),
    )
    .await;
    assert_eq!(response["statusCode"], 200, "{response}");
    let vended: VendResponse = http_body(&response);
    assert_eq!(vended.source_identity, "sentinel=alice@example.com");

    let response = answer(
        &mut runtime,
        "inv-3",
        saved_event("tvm-lambda", "apigw-v2-no-auth.json"),
    )
    .await;
    assert_eq!(response["statusCode"], 403, "{response}");
    let error: ErrorBody = http_body(&response);
    assert_eq!(error.code, "IAM_AUTH_REQUIRED");
    assert_eq!(error.request_id, "NoAuthRequestId=");
}

#[tokio::test]
async fn tvm_lambda_refuses_to_start_on_a_bad_setting() {
    let moto = Moto::start();
    let runtime = RuntimeApi::start().await;
    let mut tvm = boot(
        "sentinel-tvm",
        &runtime,
        &moto,
        &[("SENTINEL_ALLOWED_ACCOUNTS", "12345")],
    );
    let status = tokio::task::spawn_blocking(move || tvm.0.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());
}

#[tokio::test]
async fn authorizer_lambda_allows_active_sessions_and_denies_the_rest() {
    let moto = Moto::start();
    seed(&moto).await;
    let (status, body) = {
        let tvm = crate::tvm::Tvm::start(&moto, &[]);
        crate::tvm::send(
            Some(&crate::tvm::ALICE),
            "GET",
            &format!("{}/?profile=dev", tvm.url),
            b"",
        )
        .await
    };
    assert_eq!(status, 200, "{body}");
    let vended: VendResponse = serde_json::from_str(&body).unwrap();

    let mut runtime = RuntimeApi::start().await;
    let _authorizer = boot(
        "sentinel-authorizer",
        &runtime,
        &moto,
        // The binary's Lambda loop and both event formats; proof mode has its own tests
        // (downstream.rs, proof.rs).
        &[
            ("SENTINEL_SESSION_TABLE", TABLE),
            ("SENTINEL_AUTHORIZER_MODE", "session-id"),
        ],
    );

    let mut v2 = saved_event("authorizer", "http-api-v2.json");
    v2["headers"]["x-sentinel-session-id"] = Value::String(vended.session_id.to_string());
    let allowed = answer(&mut runtime, "a-1", v2.clone()).await;
    assert_eq!(allowed["isAuthorized"], true, "{allowed}");
    assert_eq!(allowed["context"]["session_id"], vended.session_id.as_str());
    assert_eq!(allowed["context"]["user"], "alice");

    let mut rest = saved_event("authorizer", "rest-request.json");
    rest["headers"]["X-Sentinel-Session-Id"] = Value::String(vended.session_id.to_string());
    let allowed = answer(&mut runtime, "a-2", rest.clone()).await;
    assert_eq!(
        allowed["policyDocument"]["Statement"][0]["Effect"], "Allow",
        "{allowed}"
    );

    rest["headers"]["X-Sentinel-Session-Id"] = Value::String("f".repeat(32));
    let denied = answer(&mut runtime, "a-3", rest).await;
    assert_eq!(
        denied["policyDocument"]["Statement"][0]["Effect"], "Deny",
        "{denied}"
    );

    v2["headers"]["x-sentinel-session-id"] = Value::String("not-a-session".into());
    let denied = answer(&mut runtime, "a-4", v2).await;
    assert_eq!(denied, serde_json::json!({"isAuthorized": false}));
}
