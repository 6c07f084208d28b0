//! The real `sentinel-authorizer` binary in its token modes (`jwt`, `cognito`), booted
//! against the local Lambda Runtime API, with a local issuer in the test
//! ([`system_tests::oidc`]): OIDC discovery and a JWKS, the requests it gets counted, and
//! ES256, RS256 and PS256 keys and tokens from joserfc (an independent JOSE
//! implementation), with claims the test writes (real time: the binary reads the clock).
//!
//! Multi-threaded runtime: the issuer serves while the test blocks on the minter and
//! polls the binary's decision lines.

#![cfg(test)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use system_tests::cargo_bin;
use system_tests::oidc::{Issuer, merged, now};
use system_tests::runtime_api::RuntimeApi;

use crate::lambda_binaries::{Killed, answer, saved_event};

/// A token of `alg` signed by the issuer's key `key` (see `oidc_mint.py`).
fn spec(key: &str, alg: &str, claims: Value) -> Value {
    json!({"key": key, "alg": alg, "claims": claims})
}

/// The binary, booted from its environment alone, and its decision lines.
struct Authorizer {
    _process: Killed,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl Authorizer {
    fn boot(runtime: &RuntimeApi, settings: &[(&str, &str)]) -> Authorizer {
        let mut child = Command::new(cargo_bin("sentinel-authorizer"))
            .env_clear()
            .envs(runtime.lambda_env("sentinel-authorizer"))
            .envs(settings.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    sink.lock().unwrap().push(value);
                }
            }
        });
        Authorizer {
            _process: Killed(child),
            lines,
        }
    }

    /// The decision line of request `id` (polled, at most 10 s).
    fn decision(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l["event"] == "authorize" && l["request_id"] == id)
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(Instant::now() < deadline, "no decision line for {id}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    HttpApi,
    Rest,
}

const KINDS: [Kind; 2] = [Kind::HttpApi, Kind::Rest];

/// A saved authorizer event for `method path`, carrying `authorization` (if any) and
/// request ID `id`.
fn event(kind: Kind, method: &str, path: &str, authorization: Option<&str>, id: &str) -> Value {
    let mut event = match kind {
        Kind::HttpApi => saved_event("authorizer", "http-api-v2.json"),
        Kind::Rest => saved_event("authorizer", "rest-request.json"),
    };
    for map in ["headers", "multiValueHeaders"] {
        if let Some(map) = event.get_mut(map).and_then(Value::as_object_mut) {
            map.retain(|name, _| !name.eq_ignore_ascii_case("x-sentinel-session-id"));
        }
    }
    event["requestContext"]["requestId"] = id.into();
    match kind {
        Kind::HttpApi => {
            let route = format!("{method} {path}");
            event["routeKey"] = route.clone().into();
            event["requestContext"]["routeKey"] = route.into();
            event["requestContext"]["http"]["method"] = method.into();
            event["rawPath"] = path.into();
            event["routeArn"] = format!(
                "arn:aws:execute-api:us-east-1:111122223333:abc123defg/$default/{method}{path}"
            )
            .into();
            if let Some(value) = authorization {
                event["headers"]["authorization"] = value.into();
            }
        }
        Kind::Rest => {
            event["httpMethod"] = method.into();
            event["resource"] = path.into();
            event["path"] = path.into();
            event["requestContext"]["httpMethod"] = method.into();
            event["requestContext"]["resourcePath"] = path.into();
            event["methodArn"] = format!(
                "arn:aws:execute-api:us-east-1:111122223333:abc123defg/prod/{method}{path}"
            )
            .into();
            if let Some(value) = authorization {
                event["headers"]["Authorization"] = value.into();
                event["multiValueHeaders"]["Authorization"] = json!([value]);
            }
        }
    }
    event
}

/// One answered call: the context if allowed (`None` if denied), and the decision line.
struct Answered {
    context: Option<Value>,
    line: Value,
}

struct Calls<'a> {
    runtime: RuntimeApi,
    authorizer: &'a Authorizer,
    next: usize,
}

impl Calls<'_> {
    /// Sends `method path` with `Authorization: Bearer <token>` (or `authorization` as
    /// given when `raw`) in `kind`'s format.
    async fn call(
        &mut self,
        kind: Kind,
        method: &str,
        path: &str,
        authorization: Option<&str>,
    ) -> Answered {
        self.next += 1;
        let id = format!("req-{}", self.next);
        let response = answer(
            &mut self.runtime,
            &id,
            event(kind, method, path, authorization, &id),
        )
        .await;
        let line = self.authorizer.decision(&id);
        let context = match kind {
            Kind::HttpApi => {
                let allowed = response["isAuthorized"].as_bool().unwrap();
                assert_eq!(allowed, line["effect"] == "allow", "{response} {line}");
                if !allowed {
                    assert_eq!(response, json!({"isAuthorized": false}));
                }
                allowed.then(|| response["context"].clone())
            }
            Kind::Rest => {
                let statement = &response["policyDocument"]["Statement"][0];
                assert_eq!(statement["Action"], "execute-api:Invoke");
                assert_eq!(
                    statement["Resource"],
                    format!(
                        "arn:aws:execute-api:us-east-1:111122223333:abc123defg/prod/{method}{path}"
                    )
                );
                let allowed = statement["Effect"] == "Allow";
                assert_eq!(allowed, line["effect"] == "allow", "{response} {line}");
                if allowed {
                    assert_eq!(response["principalId"], response["context"]["sub"]);
                } else {
                    assert_eq!(response["principalId"], "unknown");
                    assert!(response.get("context").is_none(), "{response}");
                }
                allowed.then(|| response["context"].clone())
            }
        };
        if let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")) {
            assert!(
                !line.to_string().contains(token),
                "the token is in the log line: {line}"
            );
        }
        Answered { context, line }
    }

    async fn bearer(&mut self, kind: Kind, method: &str, path: &str, token: &str) -> Answered {
        self.call(kind, method, path, Some(&format!("Bearer {token}")))
            .await
    }

    /// Asserts a deny with `reason` and a detail containing `needle`.
    async fn denied(
        &mut self,
        kind: Kind,
        method: &str,
        path: &str,
        token: &str,
        reason: &str,
        needle: &str,
    ) {
        let answered = self.bearer(kind, method, path, token).await;
        assert_eq!(
            answered.context, None,
            "{kind:?}: {needle}: {}",
            answered.line
        );
        assert_eq!(answered.line["reason"], reason, "{}", answered.line);
        let detail = answered.line["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(needle),
            "{kind:?}: `{needle}` not in {}",
            answered.line
        );
    }
}

const SVID: &str = "spiffe://company.internal/ns/prod/sa/orders";

/// `jwt` mode as the SPIFFE deployment it replaces configured it: every algorithm the
/// issuer uses, every forgery and bad claim refused, the keys fetched once for all
/// invocations, and a rotation that costs exactly one more JWKS request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_mode_verifies_svids_refuses_forgeries_and_follows_a_key_rotation() {
    let issuer = Issuer::start().await;
    let t = now();
    let base = json!({"iss": issuer.url, "sub": SVID, "aud": "sentinel-downstream",
                      "iat": t, "exp": t + 300});
    let minted = issuer.mint_named(&json!({
        "es256": spec("ec-1", "ES256", base.clone()),
        "rs256": spec("rsa-1", "RS256", merged(&base, json!({"aud": ["billing-api", "orders-api"], "scope": "orders:read orders:write"}))),
        "ps256": spec("rsa-1", "PS256", base.clone()),
        "rotated": spec("ec-2", "ES256", base.clone()),
        "none": spec("ec-1", "none", base.clone()),
        "hs256_public_jwk": json!({"key": "ec-1", "hmac_with_public_key": "jwk", "claims": base}),
        "hs256_public_pem": json!({"key": "rsa-1", "hmac_with_public_key": "pem", "claims": base}),
        "hs256_secret": json!({"key": "ec-1", "hmac_secret": "shared-secret-0123456789abcdef01", "claims": base}),
        "wrong_iss": spec("ec-1", "ES256", merged(&base, json!({"iss": "https://issuer.example.test"}))),
        "wrong_aud": spec("ec-1", "ES256", merged(&base, json!({"aud": "someone-else"}))),
        "expired": spec("ec-1", "ES256", merged(&base, json!({"iat": t - 900, "exp": t - 600}))),
        "not_yet_valid": spec("ec-1", "ES256", merged(&base, json!({"nbf": t + 600, "exp": t + 900}))),
        "wrong_trust_domain": spec("ec-1", "ES256", merged(&base, json!({"sub": "spiffe://evil.internal/ns/prod/sa/orders"}))),
        "not_spiffe": spec("ec-1", "ES256", merged(&base, json!({"sub": "orders"}))),
        "unknown_kid": json!({"key": "ec-1", "alg": "ES256", "kid": "nobody", "claims": base}),
        "stranger": spec("stranger", "ES256", base.clone()),
        "tampered": json!({"key": "ec-1", "alg": "ES256", "claims": base,
                           "tamper": {"sub": "spiffe://company.internal/ns/prod/sa/admin"}}),
    }));
    issuer.publish(&["ec-1", "rsa-1"]);

    let runtime = RuntimeApi::start().await;
    let authorizer = Authorizer::boot(
        &runtime,
        &[
            ("SENTINEL_AUTHORIZER_MODE", "jwt"),
            ("OIDC_ISSUER_URL", issuer.url.as_str()),
            ("EXPECTED_AUDIENCE", "orders-api, sentinel-downstream"),
            ("REQUIRED_TRUST_DOMAIN", "company.internal"),
            ("JWKS_REFRESH", "600s"),
        ],
    );
    let mut calls = Calls {
        runtime,
        authorizer: &authorizer,
        next: 0,
    };
    assert_eq!(
        issuer.requests(),
        (0, 0),
        "nothing is fetched before a token"
    );

    let spiffe_context = |scopes: &str| json!({"sub": SVID, "issuer": issuer.url, "scopes": scopes, "spiffe_id": SVID});
    for kind in KINDS {
        for (name, scopes) in [
            ("es256", ""),
            ("rs256", "orders:read orders:write"),
            ("ps256", ""),
        ] {
            let answered = calls
                .bearer(kind, "GET", "/orders", minted.token(name))
                .await;
            assert_eq!(
                answered.context,
                Some(spiffe_context(scopes)),
                "{kind:?} {name}: {}",
                answered.line
            );
            assert_eq!(answered.line["reason"], "valid token");
            assert_eq!(answered.line["user"], SVID);
            assert_eq!(answered.line["issuer"], issuer.url.as_str());
        }
    }
    assert_eq!(
        issuer.requests(),
        (1, 1),
        "discovery and JWKS once, for six invocations"
    );

    for kind in KINDS {
        for (name, needle) in [
            ("none", "compact JWS"),
            ("hs256_public_jwk", "algorithm HS256"),
            ("hs256_public_pem", "algorithm HS256"),
            ("hs256_secret", "algorithm HS256"),
            ("wrong_iss", "is not trusted"),
            ("wrong_aud", "InvalidAudience"),
            ("expired", "expired at"),
            ("not_yet_valid", "not valid before"),
            ("wrong_trust_domain", "trust domain `company.internal`"),
            ("not_spiffe", "trust domain `company.internal`"),
            ("stranger", "InvalidSignature"),
            ("tampered", "InvalidSignature"),
        ] {
            calls
                .denied(
                    kind,
                    "GET",
                    "/orders",
                    minted.token(name),
                    "invalid token",
                    needle,
                )
                .await;
        }
        // No token; another scheme; two tokens.
        let missing = calls.call(kind, "GET", "/orders", None).await;
        assert_eq!(
            (missing.context, &missing.line["reason"]),
            (None, &json!("no bearer token"))
        );
        for value in [
            "Basic YWxpY2U6cGFzcw==",
            &format!(
                "Bearer {}, Bearer {}",
                minted.token("es256"),
                minted.token("rs256")
            ),
        ] {
            let answered = calls.call(kind, "GET", "/orders", Some(value)).await;
            assert_eq!(
                (answered.context, &answered.line["reason"]),
                (None, &json!("no bearer token"))
            );
        }
    }
    assert_eq!(issuer.requests(), (1, 1), "no denial fetched anything");

    // The issuer rotates: ec-2 appears, ec-1 is removed. Unknown kids refetch at most
    // every 10 s, so first wait that out since the first fetch.
    tokio::time::sleep(Duration::from_secs(11)).await;
    issuer.publish(&["ec-2", "rsa-1"]);
    let rotated = calls
        .bearer(Kind::HttpApi, "GET", "/orders", minted.token("rotated"))
        .await;
    assert_eq!(
        rotated.context,
        Some(spiffe_context("")),
        "{}",
        rotated.line
    );
    assert_eq!(
        issuer.requests(),
        (1, 2),
        "exactly one more JWKS request, no discovery"
    );
    for (kind, name) in [
        (Kind::Rest, "rotated"),
        (Kind::HttpApi, "ps256"),
        (Kind::Rest, "rs256"),
    ] {
        let answered = calls
            .bearer(kind, "GET", "/orders", minted.token(name))
            .await;
        assert!(answered.context.is_some(), "{name}: {}", answered.line);
    }
    assert_eq!(issuer.requests(), (1, 2), "the new keys are cached");
    // The removed key no longer verifies anything; nor does a kid nobody has.
    for kind in KINDS {
        calls
            .denied(
                kind,
                "GET",
                "/orders",
                minted.token("es256"),
                "invalid token",
                "no key `ec-1`",
            )
            .await;
        calls
            .denied(
                kind,
                "GET",
                "/orders",
                minted.token("unknown_kid"),
                "invalid token",
                "no key `nobody`",
            )
            .await;
    }
}

/// `jwt` mode from `SENTINEL_JWT_ISSUERS`: an OIDC token without a SPIFFE ID is allowed
/// with no `spiffe_id` in the context; an issuer that cannot be reached is a deny.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_mode_from_the_issuer_list_allows_oidc_tokens() {
    let issuer = Issuer::start_at("/oidc").await;
    let t = now();
    let base = json!({"iss": issuer.url, "sub": "repo:org/app:ref:refs/heads/main",
                      "aud": "sentinel", "iat": t, "exp": t + 300});
    let minted = issuer.mint_named(&json!({
        "rs256": spec("rsa-1", "RS256", base.clone()),
        "es256": spec("ec-1", "ES256", base.clone()),
    }));
    issuer.publish(&["ec-1", "rsa-1"]);
    let list = json!([{"issuer": issuer.url, "audiences": ["sentinel"], "algorithms": ["RS256"]},
                      {"issuer": "http://127.0.0.1:1/down", "audiences": ["sentinel"]}])
    .to_string();
    let runtime = RuntimeApi::start().await;
    let authorizer = Authorizer::boot(
        &runtime,
        &[
            ("SENTINEL_AUTHORIZER_MODE", "jwt"),
            ("SENTINEL_JWT_ISSUERS", list.as_str()),
        ],
    );
    let mut calls = Calls {
        runtime,
        authorizer: &authorizer,
        next: 0,
    };
    for kind in KINDS {
        let answered = calls
            .bearer(kind, "GET", "/orders", minted.token("rs256"))
            .await;
        assert_eq!(
            answered.context,
            Some(
                json!({"sub": "repo:org/app:ref:refs/heads/main", "issuer": issuer.url, "scopes": ""})
            ),
            "{}",
            answered.line
        );
        // ES256 is not in this issuer's algorithms.
        calls
            .denied(
                kind,
                "GET",
                "/orders",
                minted.token("es256"),
                "invalid token",
                "algorithm ES256",
            )
            .await;
    }
    assert_eq!(issuer.requests(), (1, 1));

    // A token of the issuer nobody answers for: a deny, counted as an error.
    let t = now();
    let down = issuer.mint_named(&json!({
        "down": spec("ec-1", "ES256", json!({"iss": "http://127.0.0.1:1/down", "sub": "x",
                                            "aud": "sentinel", "iat": t, "exp": t + 300})),
    }));
    calls
        .denied(
            Kind::HttpApi,
            "GET",
            "/orders",
            down.token("down"),
            "token check failed",
            "unavailable",
        )
        .await;
}

/// `cognito` mode with SPEC §10's scope string: access tokens of the allowed clients with
/// their route's scopes pass; ID tokens, missing scopes, other clients and unlisted
/// routes are denied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_mode_requires_access_tokens_allowed_clients_and_route_scopes() {
    let issuer = Issuer::start_at("/eu-west-1_TestPool").await;
    let t = now();
    let access = json!({"iss": issuer.url, "sub": "user-1", "client_id": "app-client",
                        "token_use": "access", "scope": "mrt/read", "username": "alice",
                        "iat": t, "exp": t + 3600, "auth_time": t});
    let minted = issuer.mint_named(&json!({
        "reader": spec("rsa-1", "RS256", access.clone()),
        "admin": spec("rsa-1", "RS256", merged(&access, json!({"sub": "user-2", "client_id": "ops-client", "scope": "mrt/read mrt/write mrt/admin"}))),
        "writer": spec("rsa-1", "RS256", merged(&access, json!({"scope": "mrt/write"}))),
        "id_token": spec("rsa-1", "RS256", merged(&access, json!({"client_id": null, "scope": null, "aud": "app-client", "token_use": "id", "email": "alice@example.com"}))),
        "id_token_with_client_id": spec("rsa-1", "RS256", merged(&access, json!({"aud": "app-client", "token_use": "id", "scope": "mrt/read mrt/write mrt/admin"}))),
        "other_client": spec("rsa-1", "RS256", merged(&access, json!({"client_id": "stranger-client"}))),
        "es256": spec("ec-1", "ES256", access.clone()),
    }));
    issuer.publish(&["rsa-1", "ec-1"]);

    let runtime = RuntimeApi::start().await;
    let authorizer = Authorizer::boot(
        &runtime,
        &[
            ("SENTINEL_AUTHORIZER_MODE", "cognito"),
            ("SENTINEL_COGNITO_ISSUER", issuer.url.as_str()),
            ("SENTINEL_COGNITO_CLIENT_IDS", "app-client,ops-client"),
            (
                "SENTINEL_REQUIRED_SCOPES",
                "GET /orders=mrt/read POST /orders=mrt/write mrt/admin",
            ),
        ],
    );
    let mut calls = Calls {
        runtime,
        authorizer: &authorizer,
        next: 0,
    };
    for kind in KINDS {
        let read = calls
            .bearer(kind, "GET", "/orders", minted.token("reader"))
            .await;
        assert_eq!(
            read.context,
            Some(
                json!({"sub": "user-1", "client_id": "app-client", "scopes": "mrt/read", "issuer": issuer.url})
            ),
            "{kind:?}: {}",
            read.line
        );
        let write = calls
            .bearer(kind, "POST", "/orders", minted.token("admin"))
            .await;
        assert_eq!(
            write.context,
            Some(
                json!({"sub": "user-2", "client_id": "ops-client", "scopes": "mrt/read mrt/write mrt/admin", "issuer": issuer.url})
            ),
            "{kind:?}: {}",
            write.line
        );
        // Every scope of the route is required.
        calls
            .denied(
                kind,
                "POST",
                "/orders",
                minted.token("reader"),
                "insufficient scope",
                "lacks `mrt/write mrt/admin`",
            )
            .await;
        calls
            .denied(
                kind,
                "POST",
                "/orders",
                minted.token("writer"),
                "insufficient scope",
                "lacks `mrt/admin`",
            )
            .await;
        calls
            .denied(
                kind,
                "GET",
                "/orders",
                minted.token("id_token"),
                "invalid token",
                "client_id",
            )
            .await;
        calls
            .denied(
                kind,
                "GET",
                "/orders",
                minted.token("id_token_with_client_id"),
                "invalid token",
                "`token_use` `id` is not `access`",
            )
            .await;
        calls
            .denied(
                kind,
                "GET",
                "/orders",
                minted.token("other_client"),
                "invalid token",
                "`client_id` `stranger-client` is not allowed",
            )
            .await;
        calls
            .denied(
                kind,
                "GET",
                "/orders",
                minted.token("es256"),
                "invalid token",
                "algorithm ES256",
            )
            .await;
        // No entry for the route, and no `*`: denied whatever the token.
        calls
            .denied(
                kind,
                "DELETE",
                "/orders",
                minted.token("admin"),
                "route not configured",
                "DELETE /orders",
            )
            .await;
    }
    assert_eq!(
        issuer.requests(),
        (1, 1),
        "one verifier, one key cache, for every call"
    );
}

/// A bad setting stops the binary before it serves, with a message naming the variable.
#[tokio::test]
async fn a_bad_token_mode_setting_stops_the_binary() {
    let runtime = RuntimeApi::start().await;
    for (settings, variable) in [
        (
            vec![
                ("SENTINEL_AUTHORIZER_MODE", "cognito"),
                ("COGNITO_USER_POOL_ID", "eu-west-1_Pool1"),
                ("SENTINEL_COGNITO_CLIENT_IDS", "app-client"),
            ],
            "SENTINEL_REQUIRED_SCOPES",
        ),
        (
            vec![
                ("SENTINEL_AUTHORIZER_MODE", "cognito"),
                ("COGNITO_USER_POOL_ID", "eu-west-1_Pool1"),
                ("SENTINEL_COGNITO_CLIENT_IDS", "app-client"),
                ("SENTINEL_REQUIRED_SCOPES", "GET /orders=a GET /orders=b"),
            ],
            "SENTINEL_REQUIRED_SCOPES",
        ),
        (
            vec![
                ("SENTINEL_AUTHORIZER_MODE", "jwt"),
                ("OIDC_ISSUER_URL", "https://spire.example.test"),
                ("EXPECTED_AUDIENCE", "sentinel"),
                ("JWKS_REFRESH", "2 minutes"),
            ],
            "JWKS_REFRESH",
        ),
        (
            vec![
                ("SENTINEL_AUTHORIZER_MODE", "jwt"),
                ("EXPECTED_AUDIENCE", "sentinel"),
            ],
            "OIDC_ISSUER_URL",
        ),
    ] {
        let output = Command::new(cargo_bin("sentinel-authorizer"))
            .env_clear()
            .envs(runtime.lambda_env("sentinel-authorizer"))
            .envs(settings.iter().copied())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{settings:?}");
        assert!(
            stderr.contains(&format!("invalid setting `{variable}`")),
            "{settings:?}: {stderr}"
        );
    }
}
