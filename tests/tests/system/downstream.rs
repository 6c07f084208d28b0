//! `examples/downstream` end to end: a session vended by `sentinel-tvm serve`, then
//! API Gateway played locally (the real `sentinel-authorizer` binary through the local
//! Runtime API first, then the example's `handler.py` with the authorizer's context),
//! then `sentinel sessions revoke` (through the TVM's admin API), after which the authorizer refuses the same session.
//! The authorizer runs in its default `proof` mode: the client sends what `sentinel
//! proof` prints, and the authorizer replays the proof to STS (moto).

#![cfg(test)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use system_tests::runtime_api::{Outcome, RuntimeApi};
use system_tests::{AWS_ENV_TO_REMOVE, Moto, Venv, cargo_bin, workspace_root};

use crate::run::json_output;
use crate::tvm::{ALICE, SECURITY, TABLE, Tvm, seed};

/// The downstream API's audience: its authorizer's `SENTINEL_AUDIENCE`.
const AUDIENCE: &str = "orders-api";

/// `sentinel proof --json` as alice: a new session and the headers that prove it.
fn proof_as_alice(moto: &Moto, tvm: &Tvm, audience: &str) -> (String, String) {
    let mut cmd = Command::new(cargo_bin("sentinel"));
    for name in AWS_ENV_TO_REMOVE {
        cmd.env_remove(name);
    }
    cmd.envs(moto.env())
        .env("AWS_ACCESS_KEY_ID", ALICE.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", ALICE.secret_access_key)
        .args([
            "proof",
            "--profile",
            "dev",
            "--no-cache",
            "--json",
            "--audience",
            audience,
        ])
        .args(["--region", "us-east-1", "--tvm-url", &tvm.url]);
    let headers = json_output(&mut cmd, None);
    (
        headers["X-Sentinel-Session-ID"]
            .as_str()
            .unwrap()
            .to_owned(),
        headers["X-Sentinel-Proof"].as_str().unwrap().to_owned(),
    )
}

/// A process killed on drop.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a client of the downstream API sees: status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

/// API Gateway (HTTP API, REQUEST authorizer with simple responses) in front of
/// `examples/downstream/handler.py`.
struct Gateway {
    runtime: RuntimeApi,
    _authorizer: Killed,
    python: std::path::PathBuf,
    requests: u32,
}

impl Gateway {
    async fn start(moto: &Moto) -> Gateway {
        let runtime = RuntimeApi::start().await;
        let authorizer = Command::new(cargo_bin("sentinel-authorizer"))
            .env_clear()
            .envs(moto.env())
            .envs(runtime.lambda_env("sentinel-authorizer"))
            .env("SENTINEL_SESSION_TABLE", TABLE)
            .env("SENTINEL_AUDIENCE", AUDIENCE)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Gateway {
            runtime,
            _authorizer: Killed(authorizer),
            python: Venv::ensure().join("python"),
            requests: 0,
        }
    }

    /// `GET /whoami` with the session header (and the proof, when given), as API
    /// Gateway would handle it.
    async fn get_whoami(&mut self, session_id: &str, proof: Option<&str>) -> Answer {
        self.requests += 1;
        let request_id = format!("downstream-{}", self.requests);
        let mut event = json!({
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:us-east-1:123456789012:api1234567/$default/GET/whoami",
            "identitySource": [session_id],
            "routeKey": "GET /whoami",
            "rawPath": "/whoami",
            "rawQueryString": "",
            "headers": {"host": "api1234567.execute-api.us-east-1.amazonaws.com",
                        "x-sentinel-session-id": session_id},
            "requestContext": {
                "accountId": "123456789012", "apiId": "api1234567",
                "http": {"method": "GET", "path": "/whoami", "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "system-tests"},
                "requestId": request_id, "routeKey": "GET /whoami", "stage": "$default",
                "timeEpoch": 1_795_428_000_000_i64
            }
        });
        if let Some(proof) = proof {
            event["headers"]["x-sentinel-proof"] = proof.into();
        }
        self.runtime.push(&request_id, event.clone());
        let decision = match self.runtime.next_outcome(Duration::from_secs(20)).await {
            Some(Outcome::Response { body, .. }) => body,
            other => panic!("the authorizer did not answer: {other:?}"),
        };
        if decision["isAuthorized"] != true {
            // What HTTP API returns when a simple-response authorizer says no.
            return Answer {
                status: 403,
                body: json!({"message": "Forbidden"}),
            };
        }
        // The integration event: the route's event plus the authorizer's context.
        event.as_object_mut().unwrap().remove("type");
        event["requestContext"]["authorizer"] = json!({"lambda": decision["context"]});
        let response = run_handler(&self.python, &event);
        Answer {
            status: u16::try_from(response["statusCode"].as_u64().unwrap()).unwrap(),
            body: serde_json::from_str(response["body"].as_str().unwrap()).unwrap(),
        }
    }
}

/// Invokes `handler.handler(event, None)` from examples/downstream with the venv's Python.
fn run_handler(python: &std::path::Path, event: &Value) -> Value {
    let folder = workspace_root().join("examples").join("downstream");
    let mut command = Command::new(python);
    command
        .args([
            "-c",
            "import json, sys; sys.path.insert(0, sys.argv[1]); import handler; \
             print(json.dumps(handler.handler(json.load(sys.stdin), None)))",
        ])
        .arg(&folder);
    json_output(&mut command, Some(event))
}

/// `sentinel ARGS` as the security team, against the TVM's admin API.
fn sentinel_admin(moto: &Moto, tvm: &Tvm, args: &[&str]) -> Output {
    let mut cmd = Command::new(cargo_bin("sentinel"));
    for name in AWS_ENV_TO_REMOVE {
        cmd.env_remove(name);
    }
    cmd.env_remove("SENTINEL_SESSION_TABLE")
        .envs(moto.env())
        .env("AWS_ACCESS_KEY_ID", SECURITY.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", SECURITY.secret_access_key)
        .args(args)
        .args(["--tvm-url", &tvm.url, "--region", "us-east-1"])
        .output()
        .unwrap()
}

#[tokio::test]
async fn vend_call_allowed_then_revoke_then_denied() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start(&moto, &[]);
    let (session_id, proof) = proof_as_alice(&moto, &tvm, AUDIENCE);
    let mut gateway = Gateway::start(&moto).await;

    let allowed = gateway.get_whoami(&session_id, Some(&proof)).await;
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(allowed.body["user"], "alice");
    assert_eq!(allowed.body["profile"], "dev");
    assert_eq!(allowed.body["session_id"], session_id.as_str());
    assert_eq!(allowed.body["principal_arn"], ALICE.arn);

    // The session ID alone (it is in CloudTrail and every access log) is refused.
    let bare = gateway.get_whoami(&session_id, None).await;
    assert_eq!(bare.status, 403, "an ID without a proof is refused");
    // A proof made for another API is useless here.
    let (other_id, other_audience) = proof_as_alice(&moto, &tvm, "billing-api");
    let replayed = gateway.get_whoami(&other_id, Some(&other_audience)).await;
    assert_eq!(
        replayed.status, 403,
        "a proof for another audience is refused"
    );
    // This session's proof does not unlock another (real, active) session.
    let swapped = gateway.get_whoami(&other_id, Some(&proof)).await;
    assert_eq!(
        swapped.status, 403,
        "a proof for another session is refused"
    );
    let unknown = gateway.get_whoami(&"0".repeat(32), Some(&proof)).await;
    assert_eq!(unknown.status, 403, "an unknown session is refused");

    let revoked = sentinel_admin(
        &moto,
        &tvm,
        &["sessions", "revoke", &session_id, "--reason", "laptop lost"],
    );
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );

    let denied = gateway.get_whoami(&session_id, Some(&proof)).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.body, json!({"message": "Forbidden"}));

    // Layer 2: the protected role now carries the deny for this session's tag.
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config().await);
    let policy = iam
        .get_role_policy()
        .role_name("SentinelProtected-dev")
        .policy_name("sentinel-revoked-sessions")
        .send()
        .await
        .unwrap();
    assert!(
        policy.policy_document().contains(session_id.as_str()),
        "{}",
        policy.policy_document()
    );
}
