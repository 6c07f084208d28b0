use std::sync::Mutex;

use chrono::TimeZone;
use http::HeaderValue;
use sentinel_aws::https::Response;

use super::*;
use crate::params::fake::FakeParameters;

const POLICY: &str = r#"version: "1"
rules:
  - name: no-mallory
    effect: deny
    conditions:
      users: [mallory]
    reason: mallory is off the payments API
  - name: payments-task
    effect: allow
    conditions:
      principals: ["arn:aws:sts::111122223333:assumed-role/payments-task/*"]
  - name: alice-reads
    effect: allow
    conditions:
      users: [alice]
      routes: ["GET /v1/*"]
"#;

/// A status and headers, or a failure.
type Answer = Result<(u16, Vec<(&'static str, &'static str)>), UpstreamError>;

/// Records what reaches it and answers as told.
#[derive(Default)]
struct FakeUpstream {
    seen: Mutex<Vec<UpstreamRequest>>,
    answer: Mutex<Option<Answer>>,
}

impl FakeUpstream {
    fn answering(status: u16, headers: Vec<(&'static str, &'static str)>) -> Self {
        let fake = Self::default();
        *fake.answer.lock().unwrap() = Some(Ok((status, headers)));
        fake
    }

    fn failing(error: UpstreamError) -> Self {
        let fake = Self::default();
        *fake.answer.lock().unwrap() = Some(Err(error));
        fake
    }
}

impl Upstream for FakeUpstream {
    async fn send(&self, request: UpstreamRequest) -> Result<Response, UpstreamError> {
        self.seen.lock().unwrap().push(request);
        let answer = self
            .answer
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(Ok((200, vec![])));
        let (status, headers) = answer?;
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        Ok(Response::from_bytes(
            http::StatusCode::from_u16(status).unwrap(),
            map,
            b"upstream body".to_vec(),
        ))
    }
}

fn config(extra: &[(&str, &str)]) -> Config {
    let mut env = vec![
        ("SENTINEL_PROXY_UPSTREAM", "https://admin.example.test/api"),
        (
            "SENTINEL_PROXY_ROUTES",
            "GET /v1/*, POST /v1/orders, DELETE /v1/orders/*",
        ),
        ("SENTINEL_PROXY_POLICY_PARAMETER", "/proxy/policy"),
        ("SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER", "/proxy/token"),
        ("SENTINEL_PROXY_MAX_BODY", "64"),
    ];
    env.extend_from_slice(extra);
    Config::from_lookup(|name| {
        env.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap()
}

fn proxy(upstream: FakeUpstream) -> Proxy<FakeParameters, FakeUpstream> {
    let params = FakeParameters::with(&[
        ("/proxy/policy", POLICY),
        ("/proxy/token", "Bearer backend-jwt"),
    ]);
    Proxy::new(config(&[]), params, upstream)
}

const TASK: &str = "arn:aws:sts::111122223333:assumed-role/payments-task/task-1";

fn signed(method: &str, target: &str, arn: &str) -> Incoming {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("authorization", "AWS4-HMAC-SHA256 Credential=ASIA/..."),
        ("x-amz-date", "20261204T100000Z"),
        ("x-amz-security-token", "session-token"),
        ("x-sentinel-caller", "arn:aws:iam::111122223333:user/admin"),
        ("x-forwarded-for", "10.0.0.1"),
        ("x-http-method-override", "DELETE"),
        ("content-type", "application/json"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    Incoming {
        method: method.into(),
        target: target.into(),
        headers,
        body: br#"{"sku":"A-1"}"#.to_vec(),
        caller: Some(IamCaller {
            user_arn: Some(arn.into()),
            account_id: Some("111122223333".into()),
            ..IamCaller::default()
        }),
        source_ip: Some("203.0.113.7".into()),
        request_id: "req-1".into(),
        home_account: Some(AccountId::parse("111122223333").unwrap()),
        ..Incoming::default()
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap()
}

/// The refusal's status and code; panics on a forwarded answer.
fn refused(handled: &Handled) -> (u16, String) {
    match &handled.reply {
        Reply::Refused { status, body } => {
            let body: ErrorBody = serde_json::from_str(body).unwrap();
            (*status, body.code)
        }
        Reply::Upstream { status, .. } => panic!("forwarded with {status}"),
    }
}

#[tokio::test]
async fn an_allowed_call_is_forwarded_with_the_upstream_credential_and_without_the_callers() {
    let p = proxy(FakeUpstream::answering(
        201,
        vec![("x-upstream", "yes"), ("connection", "close")],
    ));
    let handled = p
        .handle(signed("POST", "/v1/orders?dry_run=true", TASK), now())
        .await;
    let Reply::Upstream {
        status, headers, ..
    } = &handled.reply
    else {
        panic!("refused: {:?}", handled.reply);
    };
    assert_eq!(*status, 201);
    assert_eq!(headers["x-upstream"], "yes");
    assert!(!headers.contains_key("connection"));
    assert_eq!(handled.log.effect, Effect::Allow);
    assert_eq!(handled.log.rule.as_deref(), Some("payments-task"));
    assert_eq!(handled.log.route.as_deref(), Some("POST /v1/orders"));
    assert_eq!(handled.log.upstream_status, Some(201));

    let seen = p.upstream.seen.lock().unwrap();
    let sent = &seen[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.url.as_str(),
        "https://admin.example.test/api/v1/orders?dry_run=true"
    );
    assert_eq!(sent.body, br#"{"sku":"A-1"}"#);
    assert_eq!(sent.headers["authorization"], "Bearer backend-jwt");
    assert_eq!(sent.headers[CALLER_HEADER], TASK);
    assert_eq!(sent.headers.get_all(CALLER_HEADER).iter().count(), 1);
    assert_eq!(sent.headers["content-type"], "application/json");
    for gone in [
        "x-amz-date",
        "x-amz-security-token",
        "x-forwarded-for",
        "host",
    ] {
        assert!(!sent.headers.contains_key(gone), "{gone} was forwarded");
    }
}

#[tokio::test]
async fn refusals_happen_before_the_upstream_sees_anything() {
    let unsigned = Incoming {
        caller: None,
        auth_failure: Some("sigv4: signature does not match".into()),
        ..signed("GET", "/v1/rates", TASK)
    };
    let foreign_context = Incoming {
        caller: Some(IamCaller {
            user_arn: Some(TASK.into()),
            account_id: Some("444455556666".into()),
            ..IamCaller::default()
        }),
        ..signed("GET", "/v1/rates", TASK)
    };
    let root = signed("GET", "/v1/rates", "arn:aws:iam::111122223333:root");
    let oversized = Incoming {
        body: vec![b'x'; 65],
        ..signed("POST", "/v1/orders", TASK)
    };
    let cut_off = Incoming {
        body: Vec::new(),
        body_too_large: true,
        caller: None,
        ..signed("POST", "/v1/orders", TASK)
    };
    let cases = [
        (unsigned, 403, "IAM_AUTH_REQUIRED"),
        (foreign_context, 403, "INVALID_IDENTITY"),
        (root, 403, "INVALID_IDENTITY"),
        (oversized, 413, "BODY_TOO_LARGE"),
        (cut_off, 413, "BODY_TOO_LARGE"),
        (
            signed("GET", "http://evil.test/v1/rates", TASK),
            400,
            "INVALID_REQUEST",
        ),
        (signed("GET", "/v1/../admin", TASK), 400, "INVALID_REQUEST"),
        (
            signed("GET", "/v1/%2e%2e/admin", TASK),
            400,
            "INVALID_REQUEST",
        ),
        (
            signed("GET", "/admin/users", TASK),
            404,
            "ROUTE_NOT_ALLOWED",
        ),
        (signed("PUT", "/v1/orders", TASK), 404, "ROUTE_NOT_ALLOWED"),
        // Methods no route can name, whatever the allow-list's `*` says.
        (
            signed("TRACE", "/v1/rates", TASK),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (
            signed("CONNECT", "/v1/rates", TASK),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (signed("get", "/v1/rates", TASK), 405, "METHOD_NOT_ALLOWED"),
        (
            signed("PROPFIND", "/v1/rates", TASK),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (
            signed("GET", "/v1/rates", "arn:aws:iam::111122223333:user/mallory"),
            403,
            "POLICY_DENY",
        ),
        (
            signed("GET", "/v1/rates", "arn:aws:iam::111122223333:user/bob"),
            403,
            "POLICY_DENY",
        ),
        // alice's rule covers only GET /v1/*: the allow-list admits the route, her rule does not.
        (
            signed("POST", "/v1/orders", "arn:aws:iam::111122223333:user/alice"),
            403,
            "POLICY_DENY",
        ),
    ];
    let p = proxy(FakeUpstream::answering(200, vec![]));
    for (request, status, code) in cases {
        let target = request.target.clone();
        let handled = p.handle(request, now()).await;
        assert_eq!(refused(&handled), (status, code.to_owned()), "{target}");
        assert_ne!(handled.log.effect, Effect::Allow);
    }
    assert!(p.upstream.seen.lock().unwrap().is_empty());
    let alice = p
        .handle(
            signed("GET", "/v1/rates", "arn:aws:iam::111122223333:user/alice"),
            now(),
        )
        .await;
    assert!(matches!(alice.reply, Reply::Upstream { status: 200, .. }));
}

#[tokio::test]
async fn a_denial_names_the_rule_and_its_reason() {
    let p = proxy(FakeUpstream::answering(200, vec![]));
    let handled = p
        .handle(
            signed("GET", "/v1/rates", "arn:aws:iam::111122223333:user/mallory"),
            now(),
        )
        .await;
    let Reply::Refused { body, .. } = &handled.reply else {
        panic!("forwarded");
    };
    assert!(
        body.contains("no-mallory") && body.contains("off the payments API"),
        "{body}"
    );
    assert_eq!(handled.log.rule.as_deref(), Some("no-mallory"));
    assert_eq!(handled.log.user.as_deref(), Some("mallory"));
}

#[tokio::test]
async fn upstream_failures_are_502_and_504() {
    let slow = proxy(FakeUpstream::failing(UpstreamError::Timeout(
        "operation timed out".into(),
    )));
    let handled = slow.handle(signed("GET", "/v1/rates", TASK), now()).await;
    assert_eq!(refused(&handled), (504, "UPSTREAM_TIMEOUT".into()));
    assert_eq!(handled.log.effect, Effect::Error);
    let down = proxy(FakeUpstream::failing(UpstreamError::Failed(
        "connection refused".into(),
    )));
    let handled = down.handle(signed("GET", "/v1/rates", TASK), now()).await;
    assert_eq!(refused(&handled), (502, "UPSTREAM_ERROR".into()));
    assert_eq!(handled.log.detail.as_deref(), Some("connection refused"));
}

#[tokio::test]
async fn redirects_elsewhere_are_refused_and_same_origin_ones_pass() {
    for location in [
        "https://evil.test/steal",
        "//evil.test/steal",
        "http://admin.example.test/api/v1/x",
        "https://admin.example.test:8443/api/v1/x",
    ] {
        let p = proxy(FakeUpstream::answering(302, vec![("location", location)]));
        let handled = p.handle(signed("GET", "/v1/rates", TASK), now()).await;
        assert_eq!(
            refused(&handled),
            (502, "UPSTREAM_ERROR".into()),
            "{location}"
        );
    }
    for location in [
        "/api/v1/rates/new",
        "new",
        "https://admin.example.test/api/v1/y",
    ] {
        let p = proxy(FakeUpstream::answering(302, vec![("location", location)]));
        let handled = p.handle(signed("GET", "/v1/rates", TASK), now()).await;
        assert!(
            matches!(handled.reply, Reply::Upstream { status: 302, .. }),
            "{location}"
        );
    }
}

#[tokio::test]
async fn without_its_policy_or_credential_the_proxy_fails_closed() {
    let p = Proxy::new(
        config(&[]),
        FakeParameters::with(&[("/proxy/policy", POLICY)]),
        FakeUpstream::default(),
    );
    let handled = p.handle(signed("GET", "/v1/rates", TASK), now()).await;
    assert_eq!(refused(&handled), (500, "CONFIG_ERROR".into()));
    let p = Proxy::new(
        config(&[]),
        FakeParameters::with(&[("/proxy/policy", "rules: ["), ("/proxy/token", "x")]),
        FakeUpstream::default(),
    );
    let handled = p.handle(signed("GET", "/v1/rates", TASK), now()).await;
    assert_eq!(refused(&handled), (500, "POLICY_ERROR".into()));
    assert!(p.upstream.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn another_accounts_user_is_qualified_by_its_account() {
    let p = proxy(FakeUpstream::answering(200, vec![]));
    let mut request = signed("GET", "/v1/rates", "arn:aws:iam::444455556666:user/alice");
    request.caller = Some(IamCaller {
        user_arn: Some("arn:aws:iam::444455556666:user/alice".into()),
        account_id: Some("444455556666".into()),
        ..IamCaller::default()
    });
    let handled = p.handle(request, now()).await;
    assert_eq!(handled.log.user.as_deref(), Some("444455556666:alice"));
    // `users: [alice]` means the home account's alice only.
    assert_eq!(refused(&handled), (403, "POLICY_DENY".into()));
}
