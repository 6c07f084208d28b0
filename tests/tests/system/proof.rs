//! Proof of possession against an STS that checks signatures: moto in auth mode
//! (`INITIAL_NO_AUTH_ACTION_COUNT`), which verifies SigV4 and IAM policies for every
//! request after the first few. The real `sentinel-authorizer` (proof mode) answers
//! events carrying proofs signed three ways: by this test with aws-sigv4, by the example
//! client with botocore, and forged.
//!
//! What moto does not model (crate::enforcing): it evaluates no SCP or RCP, and it does
//! not expire the session credentials it issued, so age limits are unit-tested
//! (`authorizer/src/proof.rs`, `authorizer/src/tests.rs`).

// Always true in a test binary; it marks the module as test code, where clippy.toml lets
// helpers unwrap and panic.
#![cfg(test)]

use std::process::Command;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use sessions::{DynamoSessionStore, SessionId, SessionStore, create_table};
use system_tests::{AWS_ENV_TO_REMOVE, Moto, Venv, cargo_bin, workspace_root};

use crate::enforcing::{self, Enforcing};
use crate::run::json_output;

const REGION: &str = "us-east-1";
const AUDIENCE: &str = "orders-api";
const ROLE: &str = "arn:aws:iam::123456789012:role/SentinelProtected-dev";
const TABLE: &str = "sentinel-sessions";
const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// Temporary credentials of one role session.
#[derive(Clone)]
struct Session {
    id: SessionId,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
}

/// `X-Sentinel-Proof` for `session`'s keys (optionally with another secret) and `audience`,
/// signed here with aws-sigv4 (independent of the CLI's code).
fn proof(endpoint: &str, session: &Session, secret: &str, audience: &str) -> String {
    let url = format!("{endpoint}/");
    let host = endpoint.split("://").nth(1).unwrap().to_owned();
    let identity = Credentials::new(
        &session.access_key_id,
        secret,
        Some(session.session_token.clone()),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("sts")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let headers = [
        ("host", host.as_str()),
        ("content-type", content_type),
        ("x-sentinel-audience", audience),
    ];
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.into_iter(),
        SignableBody::Bytes(BODY.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut all: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    for (name, value) in instructions.headers() {
        all.insert(name.to_ascii_lowercase(), value.into());
    }
    let document = json!({"method": "POST", "url": url, "headers": all, "body": BODY});
    aws_smithy_types::base64::encode(document.to_string())
}

/// One HTTP API authorizer event for `session_id` with `proof`, answered by the real
/// binary (`sentinel-authorizer invoke`) in proof mode: whether it authorized.
fn authorized(moto: &Moto, tvm: &(String, String), session_id: &str, proof: &str) -> bool {
    let event = json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/whoami",
        "headers": {"x-sentinel-session-id": session_id, "x-sentinel-proof": proof},
        "requestContext": {"requestId": "proof-test", "http": {"method": "GET", "path": "/whoami"}},
    });
    let mut command = Command::new(cargo_bin("sentinel-authorizer"));
    for name in AWS_ENV_TO_REMOVE {
        command.env_remove(name);
    }
    command
        .arg("invoke")
        .envs(moto.env())
        .env("AWS_ACCESS_KEY_ID", &tvm.0)
        .env("AWS_SECRET_ACCESS_KEY", &tvm.1)
        .env("SENTINEL_SESSION_TABLE", TABLE)
        .env("SENTINEL_AUDIENCE", AUDIENCE);
    json_output(&mut command, Some(&event))["isAuthorized"] == true
}

/// The proof examples/downstream/client.py (botocore's SigV4) makes for `session`.
fn client_py_proof(moto: &Moto, session: &Session) -> String {
    let mut command = Command::new(Venv::ensure().join("python"));
    for name in AWS_ENV_TO_REMOVE {
        command.env_remove(name);
    }
    command
        .arg(workspace_root().join("examples/downstream/client.py"))
        .args(["--print-headers", "--audience", AUDIENCE])
        .envs(moto.env())
        .env("AWS_ACCESS_KEY_ID", &session.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &session.secret_access_key)
        .env("AWS_SESSION_TOKEN", &session.session_token)
        .env("SENTINEL_SESSION_ID", session.id.as_str());
    let headers = json_output(&mut command, None);
    assert_eq!(headers["X-Sentinel-Session-ID"], session.id.as_str());
    headers["X-Sentinel-Proof"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn only_a_proof_signed_with_the_sessions_own_secret_for_this_audience_authorizes() {
    let Enforcing {
        moto,
        key: tvm,
        config: signed,
    } = enforcing::start("tvm").await;
    let iam = aws_sdk_iam::Client::new(&signed);
    iam.create_role()
        .role_name("SentinelProtected-dev")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/tvm"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
        )
        .send()
        .await
        .unwrap();
    let dynamo = aws_sdk_dynamodb::Client::new(&signed);
    create_table(&dynamo, TABLE).await.unwrap();
    let store = DynamoSessionStore::new(dynamo, TABLE);
    let sts = aws_sdk_sts::Client::new(&signed);
    let mut sessions = Vec::new();
    for n in [1_u32, 2] {
        let mut record = sessions::contract::record(n, "alice", "dev");
        record.role_arn = ROLE.parse().unwrap();
        record.issued_at = Utc::now();
        record.expires_at = record.issued_at + TimeDelta::hours(1);
        let assumed = sts
            .assume_role()
            .role_arn(ROLE)
            .role_session_name(format!("sentinel-{}", record.session_id))
            .send()
            .await
            .unwrap();
        let credentials = assumed.credentials().unwrap();
        store.put_new(&record).await.unwrap();
        sessions.push(Session {
            id: record.session_id.clone(),
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: credentials.secret_access_key().to_owned(),
            session_token: credentials.session_token().to_owned(),
        });
    }
    let (a, b) = (&sessions[0], &sessions[1]);
    let endpoint = moto.endpoint();
    let id = a.id.as_str();

    let genuine = proof(&endpoint, a, &a.secret_access_key, AUDIENCE);
    assert!(
        authorized(&moto, &tvm, id, &genuine),
        "the session's own proof"
    );
    assert!(
        authorized(&moto, &tvm, id, &client_py_proof(&moto, a)),
        "botocore's proof (examples/downstream/client.py)"
    );

    let wrong_secret = format!("{}x", &a.secret_access_key[1..]);
    let forged = proof(&endpoint, a, &wrong_secret, AUDIENCE);
    assert!(
        !authorized(&moto, &tvm, id, &forged),
        "signed with a wrong secret: STS refuses"
    );

    let other_session = proof(&endpoint, b, &b.secret_access_key, AUDIENCE);
    assert!(
        !authorized(&moto, &tvm, id, &other_session),
        "another session's valid keys prove nothing about this one"
    );
    assert!(authorized(&moto, &tvm, b.id.as_str(), &other_session));

    let elsewhere = proof(&endpoint, a, &a.secret_access_key, "billing-api");
    assert!(
        !authorized(&moto, &tvm, id, &elsewhere),
        "a proof for another API is not replayable here"
    );
}
