//! Workload identity end to end (SPEC §10): a local OIDC issuer (keys and tokens from
//! joserfc), `sentinel-tvm serve` with `SENTINEL_JWT_ISSUERS`, moto behind it.
//! A GitHub Actions-style token file becomes credentials for the AWS CLI through
//! `sentinel credentials --jwt-file` as its credential_process; forged and foreign tokens
//! get 401 `INVALID_TOKEN`, valid tokens the policy does not name 403 `POLICY_DENY`.

#![cfg(test)]

use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue;
use protocol::VendResponse;
use serde_json::{Value, json};
use system_tests::oidc::Issuer;
use system_tests::{AWS_ENV_TO_REMOVE, Moto, Venv, cargo_bin};

use crate::tvm::{ALICE, REGION, TABLE, Tvm, error_code, seed, send};

/// The profile a workload may use: only GitHub-style tokens of org/app's main branch.
fn ci_policy(issuer: &str) -> String {
    format!(
        r#"version: "1"
profile:
  role_arn: arn:aws:iam::123456789012:role/SentinelProtected-dev
rules:
  - name: app-main-branch
    effect: allow
    conditions:
      issuers: ["{issuer}"]
      claims:
        repository: [org/app]
        ref: ["refs/heads/main"]
    max_duration: 1h
"#
    )
}

const SUB: &str = "repo:org/app:ref:refs/heads/main";

struct Stack {
    moto: Moto,
    issuer: Issuer,
    tvm: Tvm,
}

async fn stack() -> Stack {
    let moto = Moto::start();
    seed(&moto).await;
    let issuer = Issuer::start().await;
    aws_sdk_ssm::Client::new(&moto.sdk_config().await)
        .put_parameter()
        .name("/sentinel/policies/ci")
        .value(ci_policy(&issuer.url))
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let issuers = json!([{"issuer": issuer.url, "audiences": ["sentinel"],
                          "algorithms": ["RS256", "ES256", "PS256"], "max_lifetime": "1h"}])
    .to_string();
    let tvm = Tvm::start(&moto, &[("SENTINEL_JWT_ISSUERS", issuers.as_str())]);
    Stack { moto, issuer, tvm }
}

/// GitHub Actions' claims for org/app on `git_ref`.
fn github(issuer: &Issuer, git_ref: &str) -> Value {
    issuer.claims(
        &format!("repo:org/app:ref:{git_ref}"),
        "sentinel",
        300,
        json!({"repository": "org/app", "ref": git_ref, "repository_owner": "org",
               "workflow": "deploy", "run_id": "42"}),
    )
}

async fn exchange(tvm: &Tvm, token: Option<&str>, body: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/exchange", tvm.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_token_file_gives_the_aws_cli_the_role() {
    let s = stack().await;
    let token = s
        .issuer
        .mint(&[
            json!({"kid": "rsa-1", "alg": "RS256", "claims": github(&s.issuer, "refs/heads/main")}),
        ])
        .remove(0);
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    // The workload has no AWS credentials: only the token file and its profile.
    std::fs::write(
        home.path().join("config"),
        format!(
            "[profile ci]\ncredential_process = {} credentials --profile ci --jwt-file {} --tvm-url {}\nregion = {REGION}\n",
            cargo_bin("sentinel").display(),
            token_file.display(),
            s.tvm.url
        ),
    )
    .unwrap();
    let mut aws = Command::new(Venv::ensure().join("aws"));
    for name in AWS_ENV_TO_REMOVE {
        aws.env_remove(name);
    }
    let who = aws
        .envs(s.moto.env())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            "ci",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        who.status.success(),
        "{}",
        String::from_utf8_lossy(&who.stderr)
    );
    let arn = serde_json::from_slice::<Value>(&who.stdout).unwrap()["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        arn.contains(":assumed-role/SentinelProtected-dev/sentinel-"),
        "{arn}"
    );

    // The session row names the workload: its user and its issuer and subject.
    let session_id = arn.rsplit("sentinel-").next().unwrap().to_owned();
    let row = aws_sdk_dynamodb::Client::new(&s.moto.sdk_config().await)
        .get_item()
        .table_name(TABLE)
        .key("session_id", AttributeValue::S(session_id))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    // `<issuer host>:<sub>`, the host with its port (not the scheme's default).
    let authority = s.issuer.url.trim_start_matches("http://").to_owned();
    assert_eq!(row["user"].as_s().unwrap(), &format!("{authority}:{SUB}"));
    assert_eq!(
        row["principal_arn"].as_s().unwrap(),
        &format!("{} {SUB}", s.issuer.url)
    );
    assert_eq!(row["rule"].as_s().unwrap(), "app-main-branch");
    // One discovery and one JWKS request for the whole journey.
    assert_eq!(
        (s.issuer.discovery_requests(), s.issuer.jwks_requests()),
        (1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_foreign_tokens_are_401_and_unlisted_workloads_403() {
    let s = stack().await;
    let body = r#"{"profile": "ci", "duration": 900}"#;
    let main = github(&s.issuer, "refs/heads/main");
    let mut expired = main.clone();
    expired["iat"] = json!(1_700_000_000);
    expired["nbf"] = json!(1_700_000_000);
    expired["exp"] = json!(1_700_000_300);
    let mut wrong_aud = main.clone();
    wrong_aud["aud"] = json!("someone-else");
    let mut foreign = main.clone();
    foreign["iss"] = json!("https://token.actions.githubusercontent.com");
    let tokens = s.issuer.mint(&[
        json!({"kid": "ec-1", "alg": "ES256", "claims": main}),
        json!({"kid": "ec-1", "none": true, "claims": main}),
        json!({"kid": "ec-1", "hmac_with_public_key": true, "claims": main}),
        json!({"kid": "ec-1", "alg": "ES256", "claims": expired}),
        json!({"kid": "ec-1", "alg": "ES256", "claims": wrong_aud}),
        json!({"kid": "ec-1", "alg": "ES256", "claims": foreign}),
        // ec-2 exists but is not published.
        json!({"kid": "ec-2", "alg": "ES256", "claims": main}),
        json!({"kid": "ec-1", "alg": "ES256", "claims": main, "tamper": {"repository": "org/other"}}),
        json!({"kid": "rsa-1", "alg": "PS256", "claims": github(&s.issuer, "refs/heads/feature")}),
    ]);
    let (status, text) = exchange(&s.tvm, Some(&tokens[0]), body).await;
    assert_eq!(status, 200, "{text}");
    let vended: VendResponse = serde_json::from_str(&text).unwrap();
    assert!(
        vended
            .source_identity
            .as_str()
            .starts_with("sentinel=127.0.0.1=3A"),
        "{}",
        vended.source_identity
    );

    for (what, token) in [
        ("alg none", Some(tokens[1].as_str())),
        ("HS256 with the public key as secret", Some(&tokens[2])),
        ("expired", Some(&tokens[3])),
        ("wrong audience", Some(&tokens[4])),
        ("another issuer", Some(&tokens[5])),
        ("unpublished kid", Some(&tokens[6])),
        ("tampered payload", Some(&tokens[7])),
        ("no token", None),
        ("garbage", Some("not-a-jwt")),
    ] {
        let (status, text) = exchange(&s.tvm, token, body).await;
        assert_eq!(
            (status, error_code(&text).as_str()),
            (401, "INVALID_TOKEN"),
            "{what}: {text}"
        );
        // The client learns nothing about why.
        assert!(text.contains("could not be verified"), "{what}: {text}");
    }
    // Valid, but the feature branch is not what the policy names.
    let (status, text) = exchange(&s.tvm, Some(&tokens[8]), body).await;
    assert_eq!(
        (status, error_code(&text).as_str()),
        (403, "POLICY_DENY"),
        "{text}"
    );
    // A valid workload for a profile whose allow rules are for IAM callers only.
    let (status, text) = exchange(&s.tvm, Some(&tokens[0]), r#"{"profile": "dev"}"#).await;
    assert_eq!(
        (status, error_code(&text).as_str()),
        (403, "POLICY_DENY"),
        "{text}"
    );
    // And an IAM caller never matches the workload rule.
    let (status, text) = send(
        Some(&ALICE),
        "GET",
        &format!("{}/?profile=ci", s.tvm.url),
        b"",
    )
    .await;
    assert_eq!(
        (status, error_code(&text).as_str()),
        (403, "POLICY_DENY"),
        "{text}"
    );
    // Everything above cost one discovery and one JWKS request: the unknown kid came
    // within 10 s of that fetch, so it was refused without another (the rate limit;
    // a rotation's one refetch is tested in jwt/tests/verify.rs and authorizer_jwt.rs).
    assert_eq!(
        (s.issuer.discovery_requests(), s.issuer.jwks_requests()),
        (1, 1)
    );
}

/// The Lambda build answers an HTTP API event for `POST /exchange` (the route has no
/// IAM authorizer, so the event carries none) through the real binary, its issuers from
/// the environment, moto and the local issuer behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_exchanges_an_http_api_event() {
    use crate::lambda_binaries::{answer, boot, saved_event};
    use system_tests::runtime_api::RuntimeApi;

    let s = stack().await;
    let issuers = json!([{"issuer": s.issuer.url, "audiences": ["sentinel"],
                          "algorithms": ["ES256"]}])
    .to_string();
    let mut runtime = RuntimeApi::start().await;
    let _tvm = boot(
        "sentinel-tvm",
        &runtime,
        &s.moto,
        &[
            ("SENTINEL_SESSION_TABLE", TABLE),
            ("SENTINEL_JWT_ISSUERS", issuers.as_str()),
        ],
    );
    let tokens = s.issuer.mint(&[
        json!({"kid": "ec-1", "alg": "ES256", "claims": github(&s.issuer, "refs/heads/main")}),
        json!({"kid": "ec-1", "none": true, "claims": github(&s.issuer, "refs/heads/main")}),
    ]);
    let mut event = saved_event("tvm-lambda", "apigw-v2-no-auth.json");
    event["routeKey"] = json!("POST /exchange");
    event["rawPath"] = json!("/prod/exchange");
    event["requestContext"]["http"]["method"] = json!("POST");
    event["requestContext"]["http"]["path"] = json!("/prod/exchange");
    event["body"] = json!(r#"{"profile": "ci", "duration": 900}"#);
    event["headers"]["authorization"] = json!(format!("Bearer {}", tokens[0]));
    let response = answer(&mut runtime, "x-1", event.clone()).await;
    assert_eq!(response["statusCode"], 200, "{response}");
    let vended: VendResponse =
        serde_json::from_str(response["body"].as_str().unwrap_or_default()).unwrap();
    assert_eq!(vended.profile, "ci");

    event["headers"]["authorization"] = json!(format!("Bearer {}", tokens[1]));
    let refused = answer(&mut runtime, "x-2", event).await;
    assert_eq!(refused["statusCode"], 401, "{refused}");
    assert_eq!(
        error_code(refused["body"].as_str().unwrap_or_default()),
        "INVALID_TOKEN"
    );
}
