//! The decision table against the in-memory store, with saved API Gateway events.

use chrono::{Duration, TimeZone};
use sessions::{InMemorySessionStore, Revocation};

use super::*;

const ID: &str = "00112233445566778899aabbccddeeff";

/// STS as the proof tests need it: answers a fixed ARN or error, and counts calls.
#[derive(Debug, Default)]
struct FakeSts {
    answer: std::sync::Mutex<Option<Result<String, ProofError>>>,
    calls: std::sync::atomic::AtomicUsize,
}

impl CallerIdentity for FakeSts {
    async fn caller_arn(&self, _: &proof::CheckedProof) -> Result<String, ProofError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.answer
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(Err(ProofError::StsRefused(403)))
    }
}

/// The v1 behaviour: the session ID alone (`SENTINEL_AUTHORIZER_MODE=session-id`).
const SESSION_ID: Mode<FakeSts> = Mode::SessionId;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

fn event(name: &str) -> Value {
    let path = format!("{}/tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn parsed(raw: &Value) -> Event {
    Event::parse(raw).unwrap()
}

fn record(id: &str, expires_at: DateTime<Utc>) -> SessionRecord {
    let mut record = sessions::contract::record(1, "alice", "prod");
    record.session_id = SessionId::parse(id).unwrap();
    record.issued_at = expires_at - Duration::hours(1);
    record.expires_at = expires_at;
    record
}

async fn store_with_active() -> InMemorySessionStore {
    let store = InMemorySessionStore::default();
    store
        .put_new(&record(ID, now() + Duration::minutes(30)))
        .await
        .unwrap();
    store
}

fn without_session(mut event: Value) -> Value {
    for map in ["headers", "multiValueHeaders"] {
        if let Some(map) = event.get_mut(map).and_then(Value::as_object_mut) {
            map.retain(|k, _| !k.eq_ignore_ascii_case(SESSION_HEADER));
        }
    }
    event
}

fn with_header(event: Value, name: &str, value: &str) -> Value {
    let mut event = without_session(event);
    event["headers"][name] = value.into();
    event
}

#[tokio::test]
async fn active_session_is_allowed_with_context_in_both_formats() {
    let store = store_with_active().await;
    let v2 = authorize(&store, &SESSION_ID, &event("http-api-v2.json"), now()).await;
    assert!(matches!(v2.decision, Decision::Allow(_)), "{v2:?}");
    assert_eq!(
        v2.response(),
        json!({"isAuthorized": true, "context": {
            "session_id": ID, "user": "alice", "profile": "prod",
            "principal_arn": "arn:aws:iam::111122223333:user/alice"}})
    );

    let rest = authorize(&store, &SESSION_ID, &event("rest-request.json"), now()).await;
    assert_eq!(
        rest.response(),
        json!({
            "principalId": "alice",
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Allow",
                "Resource": "arn:aws:execute-api:us-east-1:111122223333:abc123defg/prod/GET/orders"}]},
            "context": {
                "session_id": ID, "user": "alice", "profile": "prod",
                "principal_arn": "arn:aws:iam::111122223333:user/alice"}})
    );
}

#[tokio::test]
async fn header_name_is_case_insensitive_and_query_parameter_works() {
    let store = store_with_active().await;
    for name in [
        "X-SENTINEL-SESSION-ID",
        "x-sentinel-session-id",
        "X-Sentinel-Session-Id",
    ] {
        for saved in ["http-api-v2.json", "rest-request.json"] {
            let e = parsed(&with_header(event(saved), name, ID));
            assert!(
                matches!(
                    decide(&store, &SESSION_ID, &e, now()).await,
                    Decision::Allow(_)
                ),
                "{name} in {saved}"
            );
        }
    }
    let mut e = without_session(event("http-api-v2.json"));
    e["queryStringParameters"] = json!({ SESSION_QUERY: ID });
    assert!(matches!(
        decide(&store, &SESSION_ID, &parsed(&e), now()).await,
        Decision::Allow(_)
    ));
}

#[tokio::test]
async fn rest_multi_value_maps_and_comma_joined_headers_give_the_first_value() {
    let store = store_with_active().await;
    let unknown = "f".repeat(32);

    let mut multi_header = without_session(event("rest-request.json"));
    multi_header["multiValueHeaders"]["X-Sentinel-Session-Id"] = json!([ID, unknown]);
    let mut multi_query = without_session(event("rest-request.json"));
    multi_query["multiValueQueryStringParameters"] = json!({ SESSION_QUERY: [ID, unknown] });
    let mut rest_query = without_session(event("rest-request.json"));
    rest_query["queryStringParameters"] = json!({ SESSION_QUERY: ID });
    let joined = format!("{ID}, {unknown}");
    let comma_v2 = with_header(event("http-api-v2.json"), SESSION_HEADER, &joined);
    let comma_rest = with_header(event("rest-request.json"), "X-Sentinel-Session-Id", &joined);

    for e in [multi_header, multi_query, rest_query, comma_v2, comma_rest] {
        let e = parsed(&e);
        assert_eq!(e.session_id(), Some(ID), "{e:?}");
        assert!(matches!(
            decide(&store, &SESSION_ID, &e, now()).await,
            Decision::Allow(_)
        ));
    }
}

#[tokio::test]
async fn missing_malformed_and_unknown_sessions_are_denied() {
    let store = store_with_active().await;
    let missing = parsed(&without_session(event("http-api-v2.json")));
    assert_eq!(
        decide(&store, &SESSION_ID, &missing, now()).await,
        Decision::Deny {
            reason: "no session id"
        }
    );

    for bad in [
        "",
        "xyz",
        "00112233445566778899AABBCCDDEEFF",
        &format!("{ID}0"),
        "../../etc/passwd",
    ] {
        let e = with_header(event("http-api-v2.json"), SESSION_HEADER, bad);
        let outcome = authorize(&store, &SESSION_ID, &e, now()).await;
        assert!(matches!(outcome.decision, Decision::Deny { .. }), "{bad:?}");
        assert_eq!(outcome.response(), json!({"isAuthorized": false}));
    }
    let unknown = with_header(event("http-api-v2.json"), SESSION_HEADER, &"f".repeat(32));
    assert_eq!(
        decide(&store, &SESSION_ID, &parsed(&unknown), now()).await,
        Decision::Deny {
            reason: "unknown session"
        }
    );
}

#[tokio::test]
async fn expired_and_revoked_sessions_are_denied() {
    let store = store_with_active().await;
    let raw = event("rest-request.json");
    let later = now() + Duration::minutes(31);
    let outcome = authorize(&store, &SESSION_ID, &raw, later).await;
    assert_eq!(
        outcome.decision,
        Decision::Deny {
            reason: "expired session"
        }
    );
    assert_eq!(
        outcome.response(),
        json!({
            "principalId": "unknown",
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Deny",
                "Resource": "arn:aws:execute-api:us-east-1:111122223333:abc123defg/prod/GET/orders"}]}})
    );

    let revocation = Revocation {
        by: "arn:aws:iam::111122223333:user/admin".into(),
        reason: "laptop stolen".into(),
        at: now(),
    };
    store
        .revoke(&SessionId::parse(ID).unwrap(), &revocation)
        .await
        .unwrap();
    assert_eq!(
        decide(&store, &SESSION_ID, &parsed(&raw), now()).await,
        Decision::Deny {
            reason: "revoked session"
        }
    );
}

#[tokio::test]
async fn store_outage_is_a_deny_logged_as_an_error_with_its_cause() {
    let store = store_with_active().await;
    store.set_unavailable(true);
    let outcome = authorize(&store, &SESSION_ID, &event("http-api-v2.json"), now()).await;
    let cause = "the session store is unavailable: the in-memory session store is switched off";
    assert_eq!(
        outcome.decision,
        Decision::Failed {
            reason: "session store error",
            detail: cause.into(),
        }
    );
    assert_eq!(outcome.response(), json!({"isAuthorized": false}));

    let line: Value = serde_json::from_str(&outcome.log_line(now())).unwrap();
    assert_eq!(line["level"], "error");
    assert_eq!(line["effect"], "deny");
    assert_eq!(line["reason"], "session store error");
    assert_eq!(line["detail"], cause);

    let rest = authorize(&store, &SESSION_ID, &event("rest-request.json"), now()).await;
    assert!(!rest.response().to_string().contains("unavailable"));
}

#[tokio::test]
async fn events_that_do_not_deserialize_are_denied_in_the_format_they_ask_for() {
    let store = store_with_active().await;
    // HTTP API events always carry a request context; a v2 event without one is not one.
    let mut v2 = event("http-api-v2.json");
    v2.as_object_mut().unwrap().remove("requestContext");
    let outcome = authorize(&store, &SESSION_ID, &v2, now()).await;
    assert_eq!(
        outcome.decision,
        Decision::Deny {
            reason: "event not understood"
        }
    );
    assert_eq!(outcome.response(), json!({"isAuthorized": false}));
    let line: Value = serde_json::from_str(&outcome.log_line(now())).unwrap();
    assert_eq!(line["level"], "warn");
    assert_eq!(line["reason"], "event not understood");
    assert!(
        line["detail"].as_str().unwrap().contains("requestContext"),
        "{line}"
    );
    assert_eq!(
        line["route"],
        "arn:aws:execute-api:us-east-1:111122223333:abc123defg/$default/GET/orders"
    );

    let mut rest = event("rest-request.json");
    rest["headers"] = json!({"X-Sentinel-Session-Id": 7});
    let outcome = authorize(&store, &SESSION_ID, &rest, now()).await;
    assert_eq!(
        outcome.decision,
        Decision::Deny {
            reason: "event not understood"
        }
    );
    assert_eq!(
        outcome.request_id.as_deref(),
        Some("2f3c4d5e-aaaa-bbbb-cccc-0123456789ab")
    );
    let body = outcome.response();
    assert_eq!(body["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        body["policyDocument"]["Statement"][0]["Resource"],
        "arn:aws:execute-api:us-east-1:111122223333:abc123defg/prod/GET/orders"
    );
}

#[tokio::test]
async fn garbage_events_never_panic_and_deny() {
    let store = store_with_active().await;
    for e in [
        json!(null),
        json!([]),
        json!("2.0"),
        json!({"version": "2.0"}),
        json!({"version": 2}),
        json!({"headers": 5}),
        json!({"headers": {"x-sentinel-session-id": 7}, "requestContext": {}}),
        json!({"headers": {"bad header": "x"}, "requestContext": {}}),
    ] {
        let outcome = authorize(&store, &SESSION_ID, &e, now()).await;
        assert!(
            matches!(outcome.decision, Decision::Deny { .. }),
            "{e}: {outcome:?}"
        );
        let body = outcome.response();
        if outcome.kind == EventKind::HttpApiV2 {
            assert_eq!(body, json!({"isAuthorized": false}));
        } else {
            assert_eq!(body["policyDocument"]["Statement"][0]["Effect"], "Deny");
            assert_eq!(body["policyDocument"]["Statement"][0]["Resource"], "*");
        }
    }
}

#[tokio::test]
async fn log_line_never_carries_more_than_public_fields() {
    let store = store_with_active().await;
    let outcome = authorize(&store, &SESSION_ID, &event("http-api-v2.json"), now()).await;
    let line = outcome.log_line(now());
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["effect"], "allow");
    assert_eq!(v["level"], "info");
    assert_eq!(v["request_id"], "AuthzV2RequestId=");
    assert_eq!(v["session_id"], ID);
    assert_eq!(v["detail"], Value::Null);
    assert!(!line.contains("ASIAEXAMPLE"));
}

#[tokio::test]
async fn metrics_line_is_embedded_metric_format_per_stack() {
    let store = store_with_active().await;
    let allow = authorize(&store, &SESSION_ID, &event("http-api-v2.json"), now()).await;
    let deny = authorize(&store, &SESSION_ID, &json!(null), now()).await;
    store.set_unavailable(true);
    let failed = authorize(&store, &SESSION_ID, &event("rest-request.json"), now()).await;

    for (outcome, counts) in [(allow, [1, 0, 0]), (deny, [0, 1, 0]), (failed, [0, 1, 1])] {
        let emf: Value = serde_json::from_str(&outcome.metrics_line("prod-stack", now())).unwrap();
        assert_eq!(
            emf,
            json!({
                "_aws": {
                    "Timestamp": now().timestamp_millis(),
                    "CloudWatchMetrics": [{
                        "Namespace": "Sentinel",
                        "Dimensions": [["Stack"]],
                        "Metrics": [
                            {"Name": "AuthorizerAllows", "Unit": "Count"},
                            {"Name": "AuthorizerDenies", "Unit": "Count"},
                            {"Name": "AuthorizerErrors", "Unit": "Count"}
                        ]
                    }]
                },
                "Stack": "prod-stack",
                "AuthorizerAllows": counts[0],
                "AuthorizerDenies": counts[1],
                "AuthorizerErrors": counts[2],
            }),
            "{outcome:?}"
        );
    }
}

mod proof_mode {
    use super::*;
    use crate::proof::{AUDIENCE_HEADER, BODY, PROOF_HEADER};

    const ENDPOINT: &str = "https://sts.us-east-1.amazonaws.com";
    const AUDIENCE: &str = "orders-api";

    fn mode(answer: Result<String, ProofError>) -> Mode<FakeSts> {
        let sts = FakeSts::default();
        *sts.answer.lock().unwrap() = Some(answer);
        Mode::Proof(
            ProofSettings {
                audience: AUDIENCE.into(),
                sts_endpoint: ENDPOINT.into(),
            },
            sts,
        )
    }

    fn calls(mode: &Mode<FakeSts>) -> usize {
        match mode {
            Mode::Proof(_, sts) => sts.calls.load(std::sync::atomic::Ordering::SeqCst),
            Mode::SessionId => 0,
        }
    }

    fn own_arn() -> String {
        format!("arn:aws:sts::111122223333:assumed-role/SentinelProtected-prod/sentinel-{ID}")
    }

    /// A proof document as `sentinel proof` builds it (the signature is STS's to check).
    fn document() -> Value {
        json!({
            "method": "POST",
            "url": format!("{ENDPOINT}/"),
            "headers": {
                "authorization": "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261123/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-sentinel-audience, Signature=00",
                "content-type": "application/x-www-form-urlencoded; charset=utf-8",
                "host": "sts.us-east-1.amazonaws.com",
                "x-amz-date": "20261123T095500Z",
                "x-amz-security-token": "token",
                AUDIENCE_HEADER: AUDIENCE,
            },
            "body": BODY,
        })
    }

    fn encoded(document: &Value) -> String {
        aws_smithy_types::base64::encode(document.to_string())
    }

    fn request(proof: Option<&str>) -> Value {
        let mut e = event("http-api-v2.json");
        if let Some(proof) = proof {
            e["headers"][PROOF_HEADER] = proof.into();
        }
        e
    }

    async fn decision(mode: &Mode<FakeSts>, proof: Option<&str>) -> Decision {
        let store = store_with_active().await;
        authorize(&store, mode, &request(proof), now())
            .await
            .decision
    }

    #[tokio::test]
    async fn a_proof_signed_by_the_session_itself_is_allowed() {
        let mode = mode(Ok(own_arn()));
        let decision = decision(&mode, Some(&encoded(&document()))).await;
        assert!(matches!(decision, Decision::Allow(_)), "{decision:?}");
        assert_eq!(calls(&mode), 1);
    }

    #[tokio::test]
    async fn the_session_id_alone_is_not_enough() {
        let mode = mode(Ok(own_arn()));
        let decision = decision(&mode, None).await;
        assert_eq!(
            decision,
            Decision::Deny {
                reason: "no proof of possession"
            }
        );
        assert_eq!(calls(&mode), 0);
    }

    /// Each of these is refused before any call to STS: nothing a caller writes in a
    /// proof can send the authorizer elsewhere.
    #[tokio::test]
    async fn proofs_for_something_else_are_refused_locally() {
        type Edit = Box<dyn Fn(&mut Value)>;
        let edits: Vec<(&str, Edit)> = vec![
            (
                "another audience",
                Box::new(|d| d["headers"][AUDIENCE_HEADER] = "billing-api".into()),
            ),
            (
                "an unsigned audience",
                Box::new(|d| {
                    d["headers"]["authorization"] = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261123/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=00".into();
                }),
            ),
            (
                "another url",
                Box::new(|d| d["url"] = "https://attacker.example/".into()),
            ),
            (
                "another signed host",
                Box::new(|d| d["headers"]["host"] = "sts.attacker.example".into()),
            ),
            (
                "another action",
                Box::new(|d| d["body"] = "Action=GetSessionToken&Version=2011-06-15".into()),
            ),
            ("another method", Box::new(|d| d["method"] = "GET".into())),
            (
                "another service",
                Box::new(|d| {
                    d["headers"]["authorization"] = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261123/us-east-1/s3/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-sentinel-audience, Signature=00".into();
                }),
            ),
            (
                "a presigned query instead",
                Box::new(|d| {
                    d["headers"]
                        .as_object_mut()
                        .unwrap()
                        .remove("authorization");
                }),
            ),
            (
                "older than 15 minutes",
                Box::new(|d| d["headers"]["x-amz-date"] = "20261123T094400Z".into()),
            ),
            (
                "from the future",
                Box::new(|d| d["headers"]["x-amz-date"] = "20261123T101000Z".into()),
            ),
            (
                "a header twice",
                Box::new(|d| d["headers"]["Host"] = "sts.us-east-1.amazonaws.com".into()),
            ),
            ("an unknown field", Box::new(|d| d["follow"] = true.into())),
        ];
        for (what, edit) in edits {
            let mut d = document();
            edit(&mut d);
            let mode = mode(Ok(own_arn()));
            let decision = decision(&mode, Some(&encoded(&d))).await;
            assert!(
                matches!(decision, Decision::Refused { .. }),
                "{what}: {decision:?}"
            );
            assert_eq!(calls(&mode), 0, "{what}: sent to sts");
        }
        for garbage in [
            "",
            "not base64!",
            &aws_smithy_types::base64::encode("{}"),
            &"A".repeat(9000),
        ] {
            let mode = mode(Ok(own_arn()));
            let decision = decision(&mode, Some(garbage)).await;
            assert!(
                !matches!(decision, Decision::Allow(_)),
                "{garbage:.20}: {decision:?}"
            );
        }
    }

    #[tokio::test]
    async fn another_sessions_credentials_or_a_refusal_by_sts_deny() {
        let other = format!(
            "arn:aws:sts::111122223333:assumed-role/SentinelProtected-prod/sentinel-{}",
            "f".repeat(32)
        );
        for answer in [
            Ok(other),
            Ok("arn:aws:iam::111122223333:user/alice".to_owned()),
            Err(ProofError::StsRefused(403)),
        ] {
            let mode = mode(answer.clone());
            let decision = decision(&mode, Some(&encoded(&document()))).await;
            assert!(
                matches!(decision, Decision::Refused { .. }),
                "{answer:?}: {decision:?}"
            );
        }
        let mode = mode(Err(ProofError::StsUnavailable("timed out".into())));
        let outcome = authorize(
            &store_with_active().await,
            &mode,
            &request(Some(&encoded(&document()))),
            now(),
        )
        .await;
        assert!(matches!(outcome.decision, Decision::Failed { .. }));
        let metrics: Value = serde_json::from_str(&outcome.metrics_line("s", now())).unwrap();
        assert_eq!(
            metrics["AuthorizerErrors"], 1,
            "an unreachable STS is an error"
        );
    }

    #[tokio::test]
    async fn a_revoked_or_unknown_session_is_denied_without_asking_sts() {
        let store = store_with_active().await;
        store
            .revoke(
                &SessionId::parse(ID).unwrap(),
                &sessions::contract::revocation("admin"),
            )
            .await
            .unwrap();
        let mode = mode(Ok(own_arn()));
        let outcome = authorize(&store, &mode, &request(Some(&encoded(&document()))), now()).await;
        assert_eq!(
            outcome.decision,
            Decision::Deny {
                reason: "revoked session"
            }
        );
        assert_eq!(calls(&mode), 0);
    }

    #[tokio::test]
    async fn the_log_line_says_why_but_never_carries_the_proof() {
        let mode = mode(Ok(own_arn()));
        let mut d = document();
        d["headers"][AUDIENCE_HEADER] = "billing-api".into();
        let outcome = authorize(
            &store_with_active().await,
            &mode,
            &request(Some(&encoded(&d))),
            now(),
        )
        .await;
        let line = outcome.log_line(now());
        assert!(line.contains("another audience"), "{line}");
        assert!(!line.contains("token"), "{line}");
        assert_eq!(outcome.response(), json!({"isAuthorized": false}));
    }
}
