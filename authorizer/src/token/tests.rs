//! The token modes against the jwt crate's fixtures (tokens minted by joserfc) and a fake
//! key endpoint that counts requests: settings and their errors, the scope grammar, route
//! matching, bearer extraction, decisions and the shapes of responses and log lines.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::UNIX_EPOCH;

use sentinel_jwt::Fetched;

use super::*;
use crate::EventKind;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("../../../jwt/tests/fixtures.json")).unwrap()
}

fn token(name: &str) -> String {
    fixtures()["tokens"][name].as_str().unwrap().to_owned()
}

/// The fixtures' issue time plus `offset` seconds.
fn at(offset: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(fixtures()["iat"].as_u64().unwrap() + offset)
}

fn chrono_at(offset: u64) -> DateTime<Utc> {
    DateTime::<Utc>::from(at(offset))
}

const ISSUER: &str = "https://issuer.example.test";
const SPIFFE_SUB: &str = "spiffe://company.internal/ns/prod/sa/app";

/// Serves the fixtures' discovery document and JWKS; counts requests; can be down.
#[derive(Default)]
struct FakeIssuer {
    requests: AtomicUsize,
    down: Mutex<bool>,
}

impl FakeIssuer {
    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Fetch for &FakeIssuer {
    async fn get(&self, url: &str) -> Result<Fetched, String> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if *self.down.lock().unwrap() {
            return Err("connection refused".into());
        }
        let body = if url.ends_with("/.well-known/openid-configuration") {
            json!({"issuer": ISSUER, "jwks_uri": "https://issuer.example.test/keys"})
        } else {
            assert_eq!(url, "https://issuer.example.test/keys");
            fixtures()["jwks"].clone()
        };
        Ok(Fetched {
            body: serde_json::to_vec(&body).unwrap(),
            cache_control: None,
        })
    }
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

const JWT_ENV: [(&str, &str); 4] = [
    (OIDC_ISSUER_URL, ISSUER),
    (EXPECTED_AUDIENCE, "other-api, sentinel"),
    (REQUIRED_TRUST_DOMAIN, "company.internal"),
    (JWKS_REFRESH, "120s"),
];

const COGNITO_ENV: [(&str, &str); 3] = [
    (COGNITO_ISSUER, ISSUER),
    (COGNITO_CLIENT_IDS, "app-client,ops-client"),
    (
        REQUIRED_SCOPES,
        "GET /orders=mrt/read POST /orders=mrt/write mrt/admin",
    ),
];

/// `base` with `changes` applied (an empty value unsets, as in `main.rs`).
fn with(
    base: &[(&'static str, &'static str)],
    changes: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = base
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    all.extend_from_slice(changes);
    all
}

fn event(name: &str) -> Value {
    let path = format!("{}/tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // The token modes read no session header.
    for map in ["headers", "multiValueHeaders"] {
        if let Some(map) = event.get_mut(map).and_then(Value::as_object_mut) {
            map.retain(|k, _| !k.eq_ignore_ascii_case(crate::SESSION_HEADER));
        }
    }
    event
}

/// A saved event carrying `Authorization: <value>` (REST: in both header maps).
fn bearing(name: &str, header: &str, value: &str) -> Value {
    let mut event = event(name);
    event["headers"][header] = value.into();
    if event.get("multiValueHeaders").is_some() {
        event["multiValueHeaders"][header] = json!([value]);
    }
    event
}

fn with_route(mut event: Value, method: &str, path: &str) -> Value {
    if event["version"] == "2.0" {
        event["routeKey"] = format!("{method} {path}").into();
        event["requestContext"]["routeKey"] = format!("{method} {path}").into();
        event["requestContext"]["http"]["method"] = method.into();
    } else {
        event["httpMethod"] = method.into();
        event["resource"] = path.into();
        event["requestContext"]["httpMethod"] = method.into();
        event["requestContext"]["resourcePath"] = path.into();
    }
    event
}

fn parsed(raw: &Value) -> Event {
    Event::parse(raw).unwrap()
}

mod settings {
    use super::*;

    /// Settings, the variable the error must name, and a piece of its message.
    type Vars = Vec<(&'static str, &'static str)>;

    #[test]
    fn jwt_mode_reads_the_spiffe_deployments_settings() {
        let settings = TokenSettings::jwt(env(&JWT_ENV)).unwrap();
        assert_eq!(settings.rules, Rules::Jwt);
        let [issuer] = settings.issuers.as_slice() else {
            panic!("{settings:?}")
        };
        assert_eq!(issuer.issuer, ISSUER);
        assert_eq!(issuer.jwks_uri, None, "keys via discovery");
        assert_eq!(
            issuer.discovery,
            "https://issuer.example.test/.well-known/openid-configuration"
        );
        assert_eq!(issuer.audiences, ["other-api", "sentinel"]);
        assert_eq!(issuer.trust_domain.as_deref(), Some("company.internal"));
        assert_eq!(issuer.refresh, Some(Duration::from_secs(120)));
        assert_eq!(issuer.algorithms, sentinel_jwt::issuer::ASYMMETRIC);
        assert!(issuer.client_ids.is_empty() && issuer.token_use.is_none());

        // Optional: the trust domain (also written as its SPIFFE ID) and the refresh.
        let minimal = TokenSettings::jwt(env(&[
            (OIDC_ISSUER_URL, "http://127.0.0.1:8080"),
            (EXPECTED_AUDIENCE, "sentinel"),
        ]))
        .unwrap();
        assert_eq!(minimal.issuers[0].trust_domain, None);
        assert_eq!(minimal.issuers[0].refresh, None);
        let spiffe = TokenSettings::jwt(env(&with(
            &JWT_ENV,
            &[(REQUIRED_TRUST_DOMAIN, "spiffe://company.internal")],
        )))
        .unwrap();
        assert_eq!(
            spiffe.issuers[0].trust_domain.as_deref(),
            Some("company.internal")
        );
        for (text, secs) in [("15m", 900), ("1h", 3600), ("300", 300), ("10s", 10)] {
            let s = TokenSettings::jwt(env(&with(&JWT_ENV, &[(JWKS_REFRESH, text)]))).unwrap();
            assert_eq!(
                s.issuers[0].refresh,
                Some(Duration::from_secs(secs)),
                "{text}"
            );
        }
    }

    #[test]
    fn jwt_mode_takes_the_json_list_instead() {
        let list = r#"[{"issuer": "https://a.example.test", "audiences": ["x"]},
                       {"issuer": "https://b.example.test", "audiences": ["y"], "refresh": "1h"}]"#;
        let settings = TokenSettings::jwt(env(&[(JWT_ISSUERS, list)])).unwrap();
        assert_eq!(settings.issuers.len(), 2);
        assert_eq!(settings.issuers[0].refresh, None);
        // JWKS_REFRESH fills in the issuers that do not say.
        let settings =
            TokenSettings::jwt(env(&[(JWT_ISSUERS, list), (JWKS_REFRESH, "2m")])).unwrap();
        assert_eq!(settings.issuers[0].refresh, Some(Duration::from_secs(120)));
        assert_eq!(settings.issuers[1].refresh, Some(Duration::from_secs(3600)));
    }

    /// Each bad value stops the start with a message naming its variable.
    #[test]
    fn jwt_mode_bad_settings_name_their_variable() {
        let list = r#"[{"issuer": "https://a.example.test", "audiences": ["x"]}]"#;
        let cases: Vec<(Vars, &str, &str)> = vec![
            (vec![], OIDC_ISSUER_URL, "needs the token issuer"),
            (
                with(&JWT_ENV, &[(OIDC_ISSUER_URL, "")]),
                OIDC_ISSUER_URL,
                "needs",
            ),
            (
                with(&JWT_ENV, &[(OIDC_ISSUER_URL, "http://issuer.example.test")]),
                OIDC_ISSUER_URL,
                "https",
            ),
            (
                with(&JWT_ENV, &[(OIDC_ISSUER_URL, "not a url")]),
                OIDC_ISSUER_URL,
                "not a URL",
            ),
            (
                with(&JWT_ENV, &[(EXPECTED_AUDIENCE, "")]),
                EXPECTED_AUDIENCE,
                "required",
            ),
            (
                with(&JWT_ENV, &[(EXPECTED_AUDIENCE, "a,,b")]),
                EXPECTED_AUDIENCE,
                "comma-separated",
            ),
            (
                with(&JWT_ENV, &[(EXPECTED_AUDIENCE, "a b")]),
                EXPECTED_AUDIENCE,
                "comma-separated",
            ),
            (
                with(&JWT_ENV, &[(REQUIRED_TRUST_DOMAIN, "Company Internal")]),
                REQUIRED_TRUST_DOMAIN,
                "trust domain",
            ),
            (
                with(&JWT_ENV, &[(REQUIRED_TRUST_DOMAIN, "company.internal/ns")]),
                REQUIRED_TRUST_DOMAIN,
                "trust domain",
            ),
            (
                with(&JWT_ENV, &[(JWKS_REFRESH, "2d")]),
                JWKS_REFRESH,
                "unit",
            ),
            (
                with(&JWT_ENV, &[(JWKS_REFRESH, "soon")]),
                JWKS_REFRESH,
                "duration",
            ),
            (
                with(&JWT_ENV, &[(JWKS_REFRESH, "5s")]),
                JWKS_REFRESH,
                "10s to 1h",
            ),
            (
                with(&JWT_ENV, &[(JWKS_REFRESH, "0")]),
                JWKS_REFRESH,
                "10s to 1h",
            ),
            (
                with(&JWT_ENV, &[(JWKS_REFRESH, "2h")]),
                JWKS_REFRESH,
                "10s to 1h",
            ),
            (vec![(JWT_ISSUERS, "[]")], JWT_ISSUERS, "no issuer"),
            (vec![(JWT_ISSUERS, "{")], JWT_ISSUERS, "JSON"),
            (
                vec![(
                    JWT_ISSUERS,
                    r#"[{"issuer": "https://a.test", "audiences": ["x"], "algorithms": ["HS256"]}]"#,
                )],
                JWT_ISSUERS,
                "not allowed",
            ),
            (
                vec![(JWT_ISSUERS, "/sentinel/jwt-issuers")],
                JWT_ISSUERS,
                "SSM",
            ),
            (
                with(&JWT_ENV, &[(JWT_ISSUERS, list)]),
                OIDC_ISSUER_URL,
                "one or the other",
            ),
            (
                vec![
                    (JWT_ISSUERS, list),
                    (REQUIRED_TRUST_DOMAIN, "company.internal"),
                ],
                REQUIRED_TRUST_DOMAIN,
                "one or the other",
            ),
            // A cognito setting in jwt mode would enforce nothing.
            (
                with(&JWT_ENV, &[(REQUIRED_SCOPES, "GET /x=y")]),
                REQUIRED_SCOPES,
                "not a setting of `jwt` mode",
            ),
            (
                with(&JWT_ENV, &[(COGNITO_USER_POOL_ID, "eu-west-1_Abc")]),
                COGNITO_USER_POOL_ID,
                "not a setting",
            ),
        ];
        for (vars, name, needle) in cases {
            let e = TokenSettings::jwt(env(&vars)).unwrap_err();
            assert!(
                e.starts_with(&format!("invalid setting `{name}`: ")) && e.contains(needle),
                "{vars:?}: {e}"
            );
        }
    }

    #[test]
    fn cognito_mode_derives_the_issuer_from_the_pool() {
        let settings = TokenSettings::cognito(env(&with(
            &COGNITO_ENV,
            &[
                (COGNITO_ISSUER, ""),
                (COGNITO_USER_POOL_ID, "eu-west-1_AbC123xyz"),
            ],
        )))
        .unwrap();
        let [issuer] = settings.issuers.as_slice() else {
            panic!("{settings:?}")
        };
        assert_eq!(
            issuer.issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz"
        );
        assert_eq!(
            issuer.discovery,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz/.well-known/openid-configuration"
        );
        assert_eq!(issuer.client_ids, ["app-client", "ops-client"]);
        assert_eq!(issuer.token_use.as_deref(), Some("access"));
        assert!(issuer.audiences.is_empty(), "access tokens carry no aud");
        assert_eq!(
            issuer.algorithms,
            [sentinel_jwt::issuer::algorithm("RS256").unwrap()]
        );
        assert_eq!(issuer.max_lifetime, Duration::from_secs(24 * 3600));
        assert_eq!(issuer.refresh, None);
        let Rules::Cognito(scopes) = &settings.rules else {
            panic!("{settings:?}")
        };
        assert_eq!(scopes.routes().len(), 2);

        // The override, and JWKS_REFRESH.
        let local = TokenSettings::cognito(env(&with(
            &COGNITO_ENV,
            &[
                (COGNITO_ISSUER, "http://127.0.0.1:9000/eu-west-1_Local"),
                (COGNITO_USER_POOL_ID, "eu-west-1_Ignored"),
                (JWKS_REFRESH, "10m"),
            ],
        )))
        .unwrap();
        assert_eq!(
            local.issuers[0].issuer,
            "http://127.0.0.1:9000/eu-west-1_Local"
        );
        assert_eq!(local.issuers[0].refresh, Some(Duration::from_secs(600)));
    }

    #[test]
    fn cognito_mode_bad_settings_name_their_variable() {
        let pool = |id: &'static str| {
            with(
                &COGNITO_ENV,
                &[(COGNITO_ISSUER, ""), (COGNITO_USER_POOL_ID, id)],
            )
        };
        let cases: Vec<(Vars, &str, &str)> = vec![
            (
                with(&COGNITO_ENV, &[(COGNITO_ISSUER, "")]),
                COGNITO_USER_POOL_ID,
                "needs the user pool",
            ),
            (pool("AbC123"), COGNITO_USER_POOL_ID, "not a user pool ID"),
            (
                pool("eu-west-1_"),
                COGNITO_USER_POOL_ID,
                "not a user pool ID",
            ),
            (
                pool("eu-west-1_Ab/../x"),
                COGNITO_USER_POOL_ID,
                "not a user pool ID",
            ),
            (
                pool("EU-WEST-1_Abc"),
                COGNITO_USER_POOL_ID,
                "not a user pool ID",
            ),
            (
                pool("evil.example/x_Abc"),
                COGNITO_USER_POOL_ID,
                "not a user pool ID",
            ),
            (
                with(
                    &COGNITO_ENV,
                    &[(COGNITO_ISSUER, "http://cognito.example.test/pool")],
                ),
                COGNITO_ISSUER,
                "https",
            ),
            (
                with(&COGNITO_ENV, &[(COGNITO_CLIENT_IDS, "")]),
                COGNITO_CLIENT_IDS,
                "required",
            ),
            (
                with(&COGNITO_ENV, &[(COGNITO_CLIENT_IDS, "a,")]),
                COGNITO_CLIENT_IDS,
                "comma-separated",
            ),
            (
                with(&COGNITO_ENV, &[(REQUIRED_SCOPES, "")]),
                REQUIRED_SCOPES,
                "needs the scopes",
            ),
            (
                with(&COGNITO_ENV, &[(REQUIRED_SCOPES, "get /orders=mrt/read")]),
                REQUIRED_SCOPES,
                "before any route",
            ),
            (
                with(&COGNITO_ENV, &[(JWKS_REFRESH, "1d")]),
                JWKS_REFRESH,
                "unit",
            ),
            // jwt settings in cognito mode would be ignored.
            (
                with(&COGNITO_ENV, &[(EXPECTED_AUDIENCE, "app-client")]),
                EXPECTED_AUDIENCE,
                "not a setting of `cognito` mode",
            ),
            (
                with(&COGNITO_ENV, &[(OIDC_ISSUER_URL, ISSUER)]),
                OIDC_ISSUER_URL,
                "not a setting",
            ),
        ];
        for (vars, name, needle) in cases {
            let e = TokenSettings::cognito(env(&vars)).unwrap_err();
            assert!(
                e.starts_with(&format!("invalid setting `{name}`: ")) && e.contains(needle),
                "{vars:?}: {e}"
            );
        }
    }
}

mod grammar {
    use super::*;

    fn routes(text: &str) -> Vec<(String, Vec<String>)> {
        RequiredScopes::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .routes()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn entry(route: &str, scopes: &[&str]) -> (String, Vec<String>) {
        (
            route.to_owned(),
            scopes.iter().map(|s| (*s).to_owned()).collect(),
        )
    }

    #[test]
    fn the_spec_form_and_the_semicolon_form() {
        let expected = vec![
            entry("GET /bucket_size", &["mrt/read"]),
            entry("POST /orders", &["mrt/write", "mrt/admin"]),
        ];
        for text in [
            // SPEC §10's example: every word after an entry's `path=` is one more scope.
            "GET /bucket_size=mrt/read POST /orders=mrt/write mrt/admin",
            "  GET /bucket_size=mrt/read\n\tPOST /orders=mrt/write,mrt/admin ",
            "GET /bucket_size=mrt/read POST /orders=mrt/write, mrt/admin",
            "GET /bucket_size=mrt/read;POST /orders=mrt/write,mrt/admin",
            "GET /bucket_size = mrt/read ; POST  /orders=mrt/write mrt/admin;",
            "POST /orders=mrt/write,mrt/admin,mrt/write;GET /bucket_size=mrt/read",
        ] {
            assert_eq!(routes(text), expected, "{text}");
        }
    }

    #[test]
    fn catch_all_default_route_templates_and_empty_lists() {
        assert_eq!(
            routes(
                "ANY /{proxy+}=api/any GET /orders/{id}=orders/read *=api/base $default=api/default"
            ),
            vec![
                entry("$default", &["api/default"]),
                entry("*", &["api/base"]),
                entry("ANY /{proxy+}", &["api/any"]),
                entry("GET /orders/{id}", &["orders/read"]),
            ]
        );
        // Nothing after `=`: any valid access token of an allowed client.
        assert_eq!(
            routes("GET /health= POST /orders=w"),
            vec![entry("GET /health", &[]), entry("POST /orders", &["w"])]
        );
        // examples/cognito-api's value, as YAML folds it.
        assert_eq!(
            routes("GET /orders=mrt/read; POST /orders=mrt/write; GET /whoami="),
            vec![
                entry("GET /orders", &["mrt/read"]),
                entry("GET /whoami", &[]),
                entry("POST /orders", &["mrt/write"]),
            ]
        );
        assert_eq!(
            routes("GET /health=;*=openid"),
            vec![entry("*", &["openid"]), entry("GET /health", &[])]
        );
    }

    #[test]
    fn ambiguous_or_malformed_values_are_refused() {
        for (text, needle) in [
            ("", "names no route"),
            ("  ;  ", "names no route"),
            ("mrt/read", "before any route"),
            ("get /orders=mrt/read", "before any route"),
            ("GET", "not followed"),
            ("GET /orders", "not `GET /path=scope`"),
            ("GET /orders =mrt/read", "not `GET /path=scope`"),
            ("GET orders=mrt/read", "not a path"),
            ("GET =mrt/read", "not `METHOD /path`"),
            ("FETCH /orders=x;GET /a=b", "not a method"),
            ("GET /orders=a;GET /orders=b", "listed twice"),
            ("GET /orders=a GET /orders=b", "listed twice"),
            ("*=a *=b", "listed twice"),
            ("GET /orders=a\"b", "not a scope"),
            ("GET /orders=a /b=c", "not a scope"),
            ("GET /orders;POST /x=y", "not `METHOD /path=scope"),
            ("GET /a /b=x;", "not `METHOD /path`"),
        ] {
            let e = RequiredScopes::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn routes_match_exactly_then_any_method_then_the_catch_all() {
        let scopes = RequiredScopes::parse("GET /orders=r;ANY /orders=any;POST /items=w").unwrap();
        assert_eq!(
            scopes.lookup("GET /orders").map(|e| e.0),
            Some("GET /orders")
        );
        assert_eq!(
            scopes.lookup("DELETE /orders").map(|e| e.0),
            Some("ANY /orders")
        );
        assert_eq!(
            scopes.lookup("ANY /orders").map(|e| e.0),
            Some("ANY /orders")
        );
        // Fail closed: no entry, no `*`.
        for key in [
            "GET /items",
            "POST /orders/1",
            "$default",
            "GET /Orders",
            "",
        ] {
            assert_eq!(scopes.lookup(key), None, "{key}");
        }
        let with_default = RequiredScopes::parse("POST /items=w *=base").unwrap();
        assert_eq!(
            with_default.lookup("GET /anything"),
            Some(("*", &["base".to_owned()][..]))
        );
        assert_eq!(
            with_default.lookup("POST /items").map(|e| e.0),
            Some("POST /items")
        );
    }

    #[test]
    fn the_route_key_is_the_http_apis_or_method_and_resource() {
        let v2 = parsed(&event("http-api-v2.json"));
        assert_eq!(v2.route_key().as_deref(), Some("GET /orders"));
        let rest = parsed(&with_route(
            event("rest-request.json"),
            "POST",
            "/orders/{id}",
        ));
        assert_eq!(rest.route_key().as_deref(), Some("POST /orders/{id}"));
        let mut default = event("http-api-v2.json");
        default["routeKey"] = "$default".into();
        assert_eq!(parsed(&default).route_key().as_deref(), Some("$default"));
        // REST without a resource: only the request context's.
        let mut bare = event("rest-request.json");
        bare.as_object_mut().unwrap().remove("resource");
        assert_eq!(parsed(&bare).route_key().as_deref(), Some("GET /orders"));
        bare["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("resourcePath");
        assert_eq!(parsed(&bare).route_key(), None);
    }
}

mod bearer {
    use super::*;

    #[test]
    fn the_bearer_token_in_any_header_case() {
        for saved in ["http-api-v2.json", "rest-request.json"] {
            for (name, value) in [
                ("authorization", "Bearer abc.def.ghi"),
                ("Authorization", "Bearer abc.def.ghi"),
                ("AUTHORIZATION", "bearer abc.def.ghi"),
                ("authorization", "BEARER   abc.def.ghi  "),
            ] {
                let e = parsed(&bearing(saved, name, value));
                assert_eq!(e.bearer(), Ok("abc.def.ghi"), "{saved} {name}: {value}");
            }
        }
    }

    #[test]
    fn anything_else_is_no_bearer_token() {
        for saved in ["http-api-v2.json", "rest-request.json"] {
            assert_eq!(parsed(&event(saved)).bearer(), Err(BearerError::Missing));
            for value in [
                "",
                "Bearer",
                "Bearer ",
                "abc.def.ghi",
                "Basic YWxpY2U6cGFzcw==",
                "Token abc.def.ghi",
                "Bearer abc.def.ghi, Bearer x.y.z",
                "Bearer abc def",
                "Bearer\tabc.def.ghi",
                "Bearer ==",
            ] {
                let e = parsed(&bearing(saved, "Authorization", value));
                assert!(
                    matches!(e.bearer(), Err(BearerError::Malformed(_))),
                    "{saved}: {value:?}: {:?}",
                    e.bearer()
                );
            }
        }
        // A REST event with two different Authorization values: which one counts is
        // unknowable, so neither does.
        let mut two = bearing("rest-request.json", "Authorization", "Bearer a.b.c");
        two["multiValueHeaders"]["Authorization"] = json!(["Bearer a.b.c", "Bearer x.y.z"]);
        assert!(matches!(
            parsed(&two).bearer(),
            Err(BearerError::Malformed("more than one Authorization header"))
        ));
        // The same value twice is one value.
        two["multiValueHeaders"]["Authorization"] = json!(["Bearer a.b.c", "Bearer a.b.c"]);
        assert_eq!(parsed(&two).bearer(), Ok("a.b.c"));
    }
}

mod decisions {
    use super::*;

    fn jwt(fake: &FakeIssuer) -> TokenAuthorizer<&FakeIssuer> {
        TokenAuthorizer::new(TokenSettings::jwt(env(&JWT_ENV)).unwrap(), fake)
    }

    fn cognito(fake: &FakeIssuer) -> TokenAuthorizer<&FakeIssuer> {
        TokenAuthorizer::new(TokenSettings::cognito(env(&COGNITO_ENV)).unwrap(), fake)
    }

    fn request(saved: &str, token: &str) -> Value {
        bearing(saved, "Authorization", &format!("Bearer {token}"))
    }

    #[tokio::test]
    async fn only_an_issuer_with_a_trust_domain_vouches_for_a_spiffe_id() {
        // The same token (its `sub` shaped like a SPIFFE ID) from an issuer configured
        // without a trust domain: allowed, but with no `spiffe_id` in the context.
        let fake = FakeIssuer::default();
        let plain = with(&JWT_ENV, &[(REQUIRED_TRUST_DOMAIN, "")]);
        let authorizer = TokenAuthorizer::new(TokenSettings::jwt(env(&plain)).unwrap(), &fake);
        let v2 = authorizer
            .authorize(&request("http-api-v2.json", &token("es256")), chrono_at(10))
            .await;
        assert_eq!(
            v2.response(),
            json!({"isAuthorized": true, "context": {"sub": SPIFFE_SUB, "issuer": ISSUER, "scopes": ""}})
        );
    }

    #[tokio::test]
    async fn jwt_mode_allows_es256_rs256_ps256_with_the_spiffe_context() {
        let fake = FakeIssuer::default();
        let authorizer = jwt(&fake);
        for name in ["es256", "rs256", "ps256"] {
            let v2 = authorizer
                .authorize(&request("http-api-v2.json", &token(name)), chrono_at(10))
                .await;
            let context =
                json!({"sub": SPIFFE_SUB, "issuer": ISSUER, "scopes": "", "spiffe_id": SPIFFE_SUB});
            assert_eq!(
                v2.response(),
                json!({"isAuthorized": true, "context": context}),
                "{name}"
            );
            let rest = authorizer
                .authorize(&request("rest-request.json", &token(name)), chrono_at(10))
                .await;
            assert_eq!(
                rest.response(),
                json!({
                    "principalId": SPIFFE_SUB,
                    "policyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Action": "execute-api:Invoke", "Effect": "Allow",
                        "Resource": "arn:aws:execute-api:us-east-1:111122223333:abc123defg/prod/GET/orders"}]},
                    "context": context}),
                "{name}"
            );
        }
        // One verifier, one cache: discovery and the JWKS once for six answers.
        assert_eq!(fake.requests(), 2);
        assert_eq!(authorizer.verifier().fetches(), 2);
    }

    #[tokio::test]
    async fn jwt_mode_refuses_every_forgery_and_bad_claim() {
        let fake = FakeIssuer::default();
        let authorizer = jwt(&fake);
        for (name, needle) in [
            ("none", "compact JWS"),
            ("hs256_public_key", "algorithm"),
            ("hs256_plain", "algorithm"),
            ("wrong_iss", "not trusted"),
            ("wrong_aud", "rejected"),
            ("no_exp", "`exp`"),
            ("nbf_later", "not valid before"),
            ("long_lived", "max_lifetime"),
            ("other_domain", "trust domain"),
            ("not_spiffe", "trust domain"),
            ("unknown_kid", "no key `nobody`"),
            ("no_kid", "no `kid`"),
            ("stranger_key", "rejected"),
            ("tampered", "rejected"),
            ("rotated", "no key `ec-2`"),
        ] {
            for saved in ["http-api-v2.json", "rest-request.json"] {
                let outcome = authorizer
                    .authorize(&request(saved, &token(name)), chrono_at(10))
                    .await;
                let Decision::Refused { reason, detail } = &outcome.decision else {
                    panic!("{name}: {outcome:?}")
                };
                assert_eq!(*reason, "invalid token", "{name}");
                assert!(detail.contains(needle), "{name}: {detail}");
                let body = outcome.response();
                if outcome.kind == EventKind::HttpApiV2 {
                    assert_eq!(body, json!({"isAuthorized": false}));
                } else {
                    assert_eq!(body["principalId"], "unknown");
                    assert_eq!(body["policyDocument"]["Statement"][0]["Effect"], "Deny");
                    assert!(body.get("context").is_none());
                }
            }
        }
        // Expired: 300 s of life and 30 s of leeway.
        let late = authorizer
            .authorize(
                &request("http-api-v2.json", &token("es256")),
                chrono_at(331),
            )
            .await;
        assert!(
            matches!(&late.decision, Decision::Refused { detail, .. } if detail.contains("expired")),
            "{late:?}"
        );
        // No token, another scheme.
        let none = authorizer
            .authorize(&event("http-api-v2.json"), chrono_at(10))
            .await;
        assert_eq!(
            none.decision,
            Decision::Deny {
                reason: "no bearer token"
            }
        );
        let basic = authorizer
            .authorize(
                &bearing(
                    "rest-request.json",
                    "authorization",
                    "Basic YWxpY2U6cGFzcw==",
                ),
                chrono_at(10),
            )
            .await;
        assert!(matches!(
            basic.decision,
            Decision::Refused {
                reason: "no bearer token",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn an_unreachable_issuer_is_a_deny_counted_as_an_error() {
        let fake = FakeIssuer::default();
        *fake.down.lock().unwrap() = true;
        let authorizer = jwt(&fake);
        let outcome = authorizer
            .authorize(&request("http-api-v2.json", &token("es256")), chrono_at(10))
            .await;
        let Decision::Failed { reason, detail } = &outcome.decision else {
            panic!("{outcome:?}")
        };
        assert_eq!(*reason, "token check failed");
        assert!(detail.contains("connection refused"), "{detail}");
        assert_eq!(outcome.response(), json!({"isAuthorized": false}));
        let metrics: Value =
            serde_json::from_str(&outcome.metrics_line("s", chrono_at(10))).unwrap();
        assert_eq!(metrics["AuthorizerErrors"], 1);
        assert_eq!(metrics["AuthorizerDenies"], 1);
        // Back up: the same process verifies again (at most one attempt per 10 s).
        *fake.down.lock().unwrap() = false;
        let outcome = authorizer
            .authorize(&request("http-api-v2.json", &token("es256")), chrono_at(21))
            .await;
        assert!(
            matches!(outcome.decision, Decision::AllowToken(_)),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn the_json_list_of_issuers_works_the_same() {
        let fake = FakeIssuer::default();
        let list = r#"[{"issuer": "https://issuer.example.test", "audiences": ["sentinel"],
                        "trust_domain": "company.internal", "algorithms": ["ES256"]}]"#;
        let authorizer = TokenAuthorizer::new(
            TokenSettings::jwt(env(&[(JWT_ISSUERS, list)])).unwrap(),
            &fake,
        );
        let ok = authorizer
            .decide(
                &parsed(&request("http-api-v2.json", &token("es256"))),
                at(10),
            )
            .await;
        assert!(matches!(ok, Decision::AllowToken(_)), "{ok:?}");
        let rs = authorizer
            .decide(
                &parsed(&request("http-api-v2.json", &token("rs256"))),
                at(10),
            )
            .await;
        assert!(matches!(rs, Decision::Refused { .. }), "{rs:?}");
    }

    #[tokio::test]
    async fn cognito_mode_allows_an_access_token_with_the_routes_scopes() {
        let fake = FakeIssuer::default();
        let authorizer = cognito(&fake);
        let context = json!({"sub": "user-1", "client_id": "app-client",
                             "scopes": "mrt/read mrt/write", "issuer": ISSUER});
        let v2 = authorizer
            .authorize(
                &request("http-api-v2.json", &token("cognito_access")),
                chrono_at(10),
            )
            .await;
        assert_eq!(
            v2.response(),
            json!({"isAuthorized": true, "context": context})
        );
        let rest = authorizer
            .authorize(
                &request("rest-request.json", &token("cognito_access")),
                chrono_at(10),
            )
            .await;
        let body = rest.response();
        assert_eq!(body["principalId"], "user-1");
        assert_eq!(body["policyDocument"]["Statement"][0]["Effect"], "Allow");
        assert_eq!(body["context"], context);
        let line: Value = serde_json::from_str(&rest.log_line(chrono_at(10))).unwrap();
        assert_eq!(line["reason"], "valid token");
        assert_eq!(line["user"], "user-1");
        assert_eq!(line["issuer"], ISSUER);
    }

    #[tokio::test]
    async fn cognito_mode_denies_missing_scopes_id_tokens_other_clients_and_unlisted_routes() {
        let fake = FakeIssuer::default();
        let authorizer = cognito(&fake);
        for saved in ["http-api-v2.json", "rest-request.json"] {
            // POST /orders needs mrt/write and mrt/admin; the token has mrt/read mrt/write.
            let post = with_route(request(saved, &token("cognito_access")), "POST", "/orders");
            let outcome = authorizer.authorize(&post, chrono_at(10)).await;
            let Decision::Refused { reason, detail } = &outcome.decision else {
                panic!("{outcome:?}")
            };
            assert_eq!(*reason, "insufficient scope");
            assert!(detail.contains("lacks `mrt/admin`"), "{detail}");
            assert!(!detail.contains(&token("cognito_access")));

            for (name, needle) in [
                ("cognito_id", "claim `client_id` missing"),
                ("cognito_other_client", "`client_id` `other` is not allowed"),
                // ES256: not what Cognito signs with.
                ("es256", "algorithm"),
            ] {
                let outcome = authorizer
                    .authorize(&request(saved, &token(name)), chrono_at(10))
                    .await;
                assert!(
                    matches!(&outcome.decision, Decision::Refused { reason: "invalid token", detail } if detail.contains(needle)),
                    "{name}: {outcome:?}"
                );
            }
        }
        let requests = fake.requests();
        // No entry for DELETE /orders and no `*`: denied before the token is looked at.
        for saved in ["http-api-v2.json", "rest-request.json"] {
            let delete = with_route(
                request(saved, &token("cognito_access")),
                "DELETE",
                "/orders",
            );
            let outcome = authorizer.authorize(&delete, chrono_at(10)).await;
            assert!(
                matches!(&outcome.decision, Decision::Refused { reason: "route not configured", detail } if detail.contains("DELETE /orders")),
                "{outcome:?}"
            );
        }
        let fresh = FakeIssuer::default();
        let unlisted = cognito(&fresh)
            .authorize(
                &with_route(
                    request("http-api-v2.json", &token("cognito_access")),
                    "PUT",
                    "/x",
                ),
                chrono_at(10),
            )
            .await;
        assert!(matches!(unlisted.decision, Decision::Refused { .. }));
        assert_eq!(fresh.requests(), 0, "an unlisted route fetches nothing");
        assert_eq!(fake.requests(), requests);
    }

    #[tokio::test]
    async fn a_catch_all_entry_covers_unlisted_routes() {
        let fake = FakeIssuer::default();
        let settings = TokenSettings::cognito(env(&with(
            &COGNITO_ENV,
            &[(REQUIRED_SCOPES, "POST /orders=mrt/admin *=mrt/read")],
        )))
        .unwrap();
        let authorizer = TokenAuthorizer::new(settings, &fake);
        let delete = with_route(
            request("rest-request.json", &token("cognito_access")),
            "DELETE",
            "/orders",
        );
        let outcome = authorizer.authorize(&delete, chrono_at(10)).await;
        assert!(
            matches!(outcome.decision, Decision::AllowToken(_)),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn log_lines_say_why_but_never_carry_the_token() {
        let fake = FakeIssuer::default();
        let authorizer = jwt(&fake);
        for name in ["es256", "tampered", "wrong_aud", "hs256_public_key"] {
            let outcome = authorizer
                .authorize(&request("http-api-v2.json", &token(name)), chrono_at(10))
                .await;
            let line = outcome.log_line(chrono_at(10));
            let signature = token(name).rsplit('.').next().unwrap().to_owned();
            assert!(!line.contains(&token(name)), "{line}");
            assert!(signature.is_empty() || !line.contains(&signature), "{line}");
            let v: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["event"], "authorize");
            if name == "es256" {
                assert_eq!(v["effect"], "allow");
                assert_eq!(v["level"], "info");
                assert_eq!(v["user"], SPIFFE_SUB);
                assert_eq!(v["issuer"], ISSUER);
                assert_eq!(v["session_id"], Value::Null);
            } else {
                assert_eq!(v["effect"], "deny");
                assert_eq!(v["reason"], "invalid token");
                assert!(
                    v["detail"].as_str().is_some_and(|d| !d.is_empty()),
                    "{line}"
                );
                assert!(v.get("issuer").is_none());
            }
        }
    }

    #[tokio::test]
    async fn garbage_events_are_denied_in_their_format() {
        let fake = FakeIssuer::default();
        for authorizer in [jwt(&fake), cognito(&fake)] {
            for e in [
                json!(null),
                json!({"version": "2.0"}),
                json!({"headers": {"authorization": 7}, "requestContext": {}}),
            ] {
                let outcome = authorizer.authorize(&e, chrono_at(10)).await;
                assert!(matches!(outcome.decision, Decision::Deny { .. }), "{e}");
            }
        }
        assert_eq!(fake.requests(), 0);
    }
}
