//! `sentinel proof` against a fake TVM: the headers for a downstream API, in
//! both output formats, signed with the vended session's keys.

// Always true in a test binary; it lets helpers unwrap as tests do (clippy.toml).
#![cfg(test)]

mod support;

use chrono::Utc;
use support::{FakeTvm, Sandbox, ok, vend_body};

/// Nothing listens here, and nothing is sent: the proof is only signed.
const STS: &str = "http://127.0.0.1:9";

fn proof(sandbox: &Sandbox, tvm: &FakeTvm, extra: &[&str]) -> assert_cmd::assert::Assert {
    sandbox
        .sentinel()
        .env("AWS_ENDPOINT_URL_STS", STS)
        .args(["proof", "--profile", "prod", "--region", "us-east-1"])
        .arg("--tvm-url")
        .arg(&tvm.url)
        .args(extra)
        .assert()
}

fn fresh_tvm() -> FakeTvm {
    FakeTvm::start(ok(vend_body(
        "prod",
        Utc::now() + chrono::Duration::hours(1),
        7,
    )))
}

fn decode(proof: &str) -> serde_json::Value {
    serde_json::from_slice(&aws_smithy_types::base64::decode(proof).unwrap()).unwrap()
}

fn assert_is_a_proof_for(doc: &serde_json::Value, audience: &str) {
    assert_eq!(doc["method"], "POST");
    assert_eq!(doc["url"], "http://127.0.0.1:9/");
    assert_eq!(doc["body"], "Action=GetCallerIdentity&Version=2011-06-15");
    let headers = &doc["headers"];
    assert_eq!(headers["host"], "127.0.0.1:9");
    assert_eq!(headers["x-sentinel-audience"], audience);
    // Signed with the vended session's keys, not the keys that signed the TVM call.
    assert_eq!(headers["x-amz-security-token"], "token-7");
    let authorization = headers["authorization"].as_str().unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAFAKE7/")
            && authorization.contains("/us-east-1/sts/aws4_request, ")
            && authorization.contains(
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-sentinel-audience,"
            ),
        "{authorization}"
    );
}

#[test]
fn prints_the_session_id_and_proof_headers_for_curl() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    let out = proof(&sandbox, &tvm, &["--audience", "orders-api"])
        .success()
        .get_output()
        .clone();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(
        lines[0],
        format!("X-Sentinel-Session-ID: {:032x}", 7),
        "{stdout}"
    );
    let encoded = lines[1].strip_prefix("X-Sentinel-Proof: ").unwrap();
    assert_is_a_proof_for(&decode(encoded), "orders-api");
    assert!(tvm.requests()[0].starts_with("GET /?profile=prod HTTP/1.1\r\n"));
}

#[test]
fn json_holds_the_same_two_headers_and_the_cache_serves_the_second_call() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    let out = proof(&sandbox, &tvm, &["--audience", "billing", "--json"])
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let object = doc.as_object().unwrap();
    assert_eq!(object.len(), 2, "{stdout}");
    assert_eq!(doc["X-Sentinel-Session-ID"], format!("{:032x}", 7));
    assert_is_a_proof_for(
        &decode(doc["X-Sentinel-Proof"].as_str().unwrap()),
        "billing",
    );

    // Vending goes through the same cache as `sentinel credentials`.
    proof(&sandbox, &tvm, &["--audience", "billing"]).success();
    assert_eq!(tvm.count(), 1);
}

#[test]
fn a_bad_audience_exits_3_before_any_request() {
    let sandbox = Sandbox::new();
    let tvm = fresh_tvm();
    for bad in ["", "orders api", "a,b", "caf\u{e9}"] {
        let out = proof(&sandbox, &tvm, &["--audience", bad])
            .code(3)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with("sentinel: error: audience `"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(tvm.count(), 0);
}
