#![cfg(test)]

//! The verifier against tokens minted by joserfc (make_fixtures.py), an independent JOSE
//! implementation, with a fake key endpoint whose answers and request count the tests
//! control: every rule of SPEC §10 accepts what it should and refuses the rest; the key
//! cache's refetches are counted, not timed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sentinel_jwt::{Fetch, Fetched, TokenError, Verifier, parse_issuers};
use serde_json::Value;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures.json")).unwrap()
}

fn token(name: &str) -> String {
    fixtures()["tokens"][name].as_str().unwrap().to_owned()
}

fn at(offset: i64) -> SystemTime {
    let iat = fixtures()["iat"].as_i64().unwrap();
    UNIX_EPOCH + Duration::from_secs(u64::try_from(iat + offset).unwrap())
}

/// Serves discovery and JWKS documents from memory; counts requests; can be down.
struct FakeIssuer {
    jwks: Mutex<Value>,
    cache_control: Mutex<Option<String>>,
    down: Mutex<bool>,
    requests: AtomicUsize,
    discovery_issuer: Mutex<String>,
}

impl FakeIssuer {
    fn new() -> Self {
        Self {
            jwks: Mutex::new(fixtures()["jwks"].clone()),
            cache_control: Mutex::new(None),
            down: Mutex::new(false),
            requests: AtomicUsize::new(0),
            discovery_issuer: Mutex::new(fixtures()["iss"].as_str().unwrap().to_owned()),
        }
    }

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
            serde_json::json!({"issuer": *self.discovery_issuer.lock().unwrap(),
                               "jwks_uri": "https://issuer.example.test/keys"})
        } else {
            assert_eq!(url, "https://issuer.example.test/keys");
            self.jwks.lock().unwrap().clone()
        };
        Ok(Fetched {
            body: serde_json::to_vec(&body).unwrap(),
            cache_control: self.cache_control.lock().unwrap().clone(),
        })
    }
}

const SPIFFE: &str = r#"[{"issuer": "https://issuer.example.test", "audiences": ["sentinel"],
    "algorithms": ["ES256", "RS256", "PS256"], "trust_domain": "company.internal", "max_lifetime": "10m"}]"#;

fn verifier<'a>(fake: &'a FakeIssuer, issuers: &str) -> Verifier<&'a FakeIssuer> {
    Verifier::new(parse_issuers(issuers).unwrap(), fake)
}

#[tokio::test]
async fn es256_rs256_and_ps256_are_accepted() {
    let fake = FakeIssuer::new();
    let v = verifier(&fake, SPIFFE);
    for name in ["es256", "rs256", "ps256", "aud_list"] {
        let verified = v
            .verify(&token(name), at(10))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.subject, "spiffe://company.internal/ns/prod/sa/app");
        assert_eq!(
            verified.user(true),
            "spiffe://company.internal/ns/prod/sa/app"
        );
        assert_eq!(verified.claim_values()["aud"].last().unwrap(), "sentinel");
    }
    // Discovery once, the JWKS once: every later token used the cache.
    assert_eq!(fake.requests(), 2);
}

/// Whether an error is the expected kind.
type Expect = fn(&TokenError) -> bool;

#[tokio::test]
async fn every_forgery_and_every_bad_claim_is_refused() {
    let fake = FakeIssuer::new();
    let v = verifier(&fake, SPIFFE);
    let cases: [(&str, Expect); 17] = [
        ("none", |e| matches!(e, TokenError::Malformed(_))),
        ("hs256_public_key", |e| {
            matches!(e, TokenError::Algorithm(_))
        }),
        ("hs256_plain", |e| matches!(e, TokenError::Algorithm(_))),
        ("wrong_iss", |e| matches!(e, TokenError::UnknownIssuer(_))),
        ("wrong_aud", |e| matches!(e, TokenError::Rejected(_))),
        ("no_exp", |e| matches!(e, TokenError::Claim("exp"))),
        ("nbf_later", |e| matches!(e, TokenError::NotYetValid(_))),
        ("long_lived", |e| matches!(e, TokenError::Lifetime(_))),
        ("other_domain", |e| matches!(e, TokenError::TrustDomain(..))),
        ("not_spiffe", |e| matches!(e, TokenError::TrustDomain(..))),
        ("unknown_kid", |e| matches!(e, TokenError::Key(_))),
        ("no_kid", |e| matches!(e, TokenError::NoKid)),
        ("stranger_key", |e| matches!(e, TokenError::Rejected(_))),
        ("rsa_key_es_alg", |e| matches!(e, TokenError::Algorithm(_))),
        ("tampered", |e| matches!(e, TokenError::Rejected(_))),
        ("cognito_id", |e| matches!(e, TokenError::Rejected(_))),
        ("rotated", |e| matches!(e, TokenError::Key(_))),
    ];
    for (name, expected) in cases {
        let err = v.verify(&token(name), at(10)).await.unwrap_err();
        assert!(expected(&err), "{name}: {err:?}");
    }
    // Expired (past the 30 s leeway), and just inside it.
    assert!(matches!(
        v.verify(&token("es256"), at(300 + 31)).await,
        Err(TokenError::Expired(_))
    ));
    assert!(v.verify(&token("es256"), at(300 + 29)).await.is_ok());
    // Not a JWS at all.
    for garbage in ["", "a.b", "a.b.c.d.e", &"x".repeat(20_000)] {
        assert!(matches!(
            v.verify(garbage, at(10)).await,
            Err(TokenError::Malformed(_))
        ));
    }
}

#[tokio::test]
async fn a_token_without_a_usable_audience_or_iat_is_refused() {
    let fake = FakeIssuer::new();
    let v = verifier(&fake, SPIFFE);
    for name in ["no_aud", "aud_number", "no_iat"] {
        let result = v.verify(&token(name), at(10)).await;
        assert!(result.is_err(), "{name} was accepted: {result:?}");
    }
}

#[tokio::test]
async fn a_rotation_costs_one_refetch_and_unknown_kids_are_rate_limited() {
    let fake = FakeIssuer::new();
    let v = verifier(&fake, SPIFFE);
    v.verify(&token("es256"), at(10)).await.unwrap();
    assert_eq!(fake.requests(), 2, "discovery + JWKS");
    // The issuer rotates: ec-2 appears, ec-1 disappears.
    *fake.jwks.lock().unwrap() = fixtures()["jwks_rotated"].clone();
    v.verify(&token("rotated"), at(20)).await.unwrap();
    assert_eq!(fake.requests(), 3, "one refetch for the new kid");
    assert!(
        v.verify(&token("es256"), at(21)).await.is_err(),
        "the old key is gone"
    );
    // Unknown kids within 10 s of the last fetch cost nothing.
    for _ in 0..5 {
        assert!(v.verify(&token("unknown_kid"), at(22)).await.is_err());
    }
    assert_eq!(fake.requests(), 3, "rate-limited");
    assert!(v.verify(&token("unknown_kid"), at(31)).await.is_err());
    assert_eq!(fake.requests(), 4, "one more after 10 s");
    assert_eq!(v.fetches(), 4);
}

#[tokio::test]
async fn keys_expire_with_the_hint_and_serve_stale_for_an_hour_when_the_issuer_is_down() {
    let fake = FakeIssuer::new();
    *fake.cache_control.lock().unwrap() = Some("public, max-age=60".into());
    let v = verifier(&fake, SPIFFE);
    v.verify(&token("es256"), at(0)).await.unwrap();
    v.verify(&token("es256"), at(59)).await.unwrap();
    assert_eq!(fake.requests(), 2);
    v.verify(&token("es256"), at(61)).await.unwrap();
    assert_eq!(fake.requests(), 3, "refetched after max-age");

    *fake.down.lock().unwrap() = true;
    // Fresh until 121; then stale: a failed refetch, the old keys used.
    let v_now = at;
    assert!(v.verify(&token("es256"), v_now(130)).await.is_ok());
    assert_eq!(fake.requests(), 4);
    // No new attempt within 10 s of the last.
    assert!(v.verify(&token("es256"), v_now(135)).await.is_ok());
    assert_eq!(fake.requests(), 4);
    assert!(v.verify(&token("es256"), v_now(146)).await.is_ok());
    assert_eq!(fake.requests(), 5, "one attempt per 10 s while down");
}

#[tokio::test]
async fn stale_keys_are_refused_past_the_bound_even_for_a_valid_token() {
    // A long-lived token and a short hint, so only the key bound can refuse.
    let fake = FakeIssuer::new();
    *fake.cache_control.lock().unwrap() = Some("max-age=10".into());
    let long = r#"[{"issuer": "https://issuer.example.test", "audiences": ["sentinel"], "max_lifetime": "24h"}]"#;
    let v = verifier(&fake, long);
    // long_lived: exp = iat + 7200.
    v.verify(&token("long_lived"), at(0)).await.unwrap();
    *fake.down.lock().unwrap() = true;
    assert!(
        v.verify(&token("long_lived"), at(3000)).await.is_ok(),
        "stale, within the hour"
    );
    let err = v
        .verify(&token("long_lived"), at(10 + 3600 + 20))
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::Key(_)), "{err:?}");
    // The issuer is back: keys again.
    *fake.down.lock().unwrap() = false;
    v.verify(&token("long_lived"), at(3700)).await.unwrap();
}

#[tokio::test]
async fn discovery_for_another_issuer_is_refused_and_no_keys_means_deny() {
    let fake = FakeIssuer::new();
    *fake.discovery_issuer.lock().unwrap() = "https://evil.example.test".into();
    let v = verifier(&fake, SPIFFE);
    assert!(matches!(
        v.verify(&token("es256"), at(10)).await,
        Err(TokenError::Key(_))
    ));
    let down = FakeIssuer::new();
    *down.down.lock().unwrap() = true;
    let v = verifier(&down, SPIFFE);
    assert!(matches!(
        v.verify(&token("es256"), at(10)).await,
        Err(TokenError::Key(_))
    ));
}

#[tokio::test]
async fn cognito_access_tokens_need_the_client_and_token_use() {
    let fake = FakeIssuer::new();
    let cognito = r#"[{"issuer": "https://issuer.example.test", "client_ids": ["app-client"],
        "token_use": "access", "algorithms": ["RS256"]}]"#;
    let v = verifier(&fake, cognito);
    let verified = v.verify(&token("cognito_access"), at(10)).await.unwrap();
    assert_eq!(verified.scopes, ["mrt/read", "mrt/write"]);
    assert_eq!(verified.client_id.as_deref(), Some("app-client"));
    assert_eq!(verified.user(false), "issuer.example.test:user-1");
    assert!(matches!(
        v.verify(&token("cognito_id"), at(10)).await,
        Err(TokenError::Claim("client_id")) | Err(TokenError::TokenUse(..))
    ));
    assert!(matches!(
        v.verify(&token("cognito_other_client"), at(10)).await,
        Err(TokenError::ClientId(_))
    ));
    // An ES256 token of the same issuer: not in this issuer's algorithms.
    assert!(matches!(
        v.verify(&token("es256"), at(10)).await,
        Err(TokenError::Algorithm(_))
    ));
}
