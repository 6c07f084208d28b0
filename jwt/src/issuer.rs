//! Issuers (SPEC §10, `SENTINEL_JWT_ISSUERS`): which tokens are accepted from whom.
//!
//! ```json
//! [{"issuer": "https://token.actions.githubusercontent.com", "audiences": ["sts.amazonaws.com"],
//!   "algorithms": ["RS256"], "max_lifetime": "1h"},
//!  {"issuer": "https://spire.example.internal", "jwks_uri": "https://spire.example.internal/keys",
//!   "audiences": ["sentinel"], "trust_domain": "company.internal", "max_lifetime": 300}]
//! ```

use std::str::FromStr;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use sentinel_types::workload_user_prefix;
use serde::Deserialize;

/// Longest accepted `exp - iat` when an issuer does not say.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest `max_lifetime` an issuer may be given.
const MAX_MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Every asymmetric algorithm: the default allow-list. HMAC and `none` never.
pub const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// One trusted issuer, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// `iss`, compared exactly.
    pub issuer: String,
    /// Where its keys are; `None`: from OIDC discovery.
    pub jwks_uri: Option<String>,
    /// The discovery document (default `<issuer>/.well-known/openid-configuration`).
    pub discovery: String,
    /// `aud` must contain one of these; empty only when `client_ids` is not (Cognito
    /// access tokens carry `client_id`, not `aud`).
    pub audiences: Vec<String>,
    /// Accepted `alg`s, all asymmetric.
    pub algorithms: Vec<Algorithm>,
    /// SPIFFE: `sub` must be a SPIFFE ID in this trust domain.
    pub trust_domain: Option<String>,
    /// Longest `exp - iat`.
    pub max_lifetime: Duration,
    /// Cognito: `client_id` must be one of these (when not empty).
    pub client_ids: Vec<String>,
    /// Cognito: `token_use` must be this (e.g. `access`).
    pub token_use: Option<String>,
    /// Key cache lifetime overriding the issuer's hints (`JWKS_REFRESH`).
    pub refresh: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    issuer: String,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    discovery: Option<String>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    algorithms: Option<Vec<String>>,
    #[serde(default)]
    trust_domain: Option<String>,
    #[serde(default)]
    max_lifetime: Option<serde_json::Value>,
    #[serde(default)]
    client_ids: Vec<String>,
    #[serde(default)]
    token_use: Option<String>,
    #[serde(default)]
    refresh: Option<serde_json::Value>,
}

/// Parses `SENTINEL_JWT_ISSUERS`' JSON list.
pub fn parse_issuers(json: &str) -> Result<Vec<Issuer>, String> {
    let raws: Vec<Raw> =
        serde_json::from_str(json).map_err(|e| format!("not a JSON list of issuers: {e}"))?;
    if raws.is_empty() {
        return Err("the list names no issuer".into());
    }
    let mut issuers: Vec<Issuer> = Vec::new();
    for raw in raws {
        let issuer = Issuer::try_from(raw)?;
        if issuers.iter().any(|i| i.issuer == issuer.issuer) {
            return Err(format!("issuer `{}` is listed twice", issuer.issuer));
        }
        // SECURITY: a workload's user is `<issuer without scheme>:<sub>` or, for SPIFFE,
        // its SPIFFE ID: two issuers of one trust domain would name different workloads
        // alike (one SourceIdentity, one session `user`, one revoke-by-user for both).
        // The same goes for two issuers whose URLs differ only in a trailing `/`.
        if let Some(other) = issuers
            .iter()
            .find(|i| workload_user_prefix(&i.issuer) == workload_user_prefix(&issuer.issuer))
        {
            return Err(format!(
                "issuers `{}` and `{}` differ only in scheme or a trailing `/`, so their workloads' users would collide",
                other.issuer, issuer.issuer
            ));
        }
        if let Some(domain) = &issuer.trust_domain
            && issuers
                .iter()
                .any(|i| i.trust_domain.as_ref() == Some(domain))
        {
            return Err(format!(
                "two issuers name trust domain `{domain}`, so their SPIFFE IDs would collide"
            ));
        }
        issuers.push(issuer);
    }
    Ok(issuers)
}

impl TryFrom<Raw> for Issuer {
    type Error = String;

    fn try_from(raw: Raw) -> Result<Self, String> {
        let name = raw.issuer.clone();
        let at = |message: String| format!("issuer `{name}`: {message}");
        check_url(&raw.issuer).map_err(&at)?;
        if let Some(uri) = &raw.jwks_uri {
            check_url(uri).map_err(|e| at(format!("jwks_uri: {e}")))?;
        }
        let discovery = match raw.discovery {
            Some(url) => {
                check_url(&url).map_err(|e| at(format!("discovery: {e}")))?;
                url
            }
            None => format!(
                "{}/.well-known/openid-configuration",
                raw.issuer.trim_end_matches('/')
            ),
        };
        if raw.audiences.iter().any(|a| a.is_empty()) || raw.client_ids.iter().any(String::is_empty)
        {
            return Err(at(
                "audiences and client_ids may not be empty strings".into()
            ));
        }
        // SECURITY: a token for any audience is a token for every relying party.
        if raw.audiences.is_empty() && raw.client_ids.is_empty() {
            return Err(at(
                "name the `audiences` tokens must be for (or, for Cognito access tokens, `client_ids`)"
                    .into(),
            ));
        }
        let algorithms = match raw.algorithms {
            None => ASYMMETRIC.to_vec(),
            Some(names) if names.is_empty() => {
                return Err(at("`algorithms` is empty".into()));
            }
            Some(names) => names
                .iter()
                .map(|n| algorithm(n).map_err(&at))
                .collect::<Result<_, _>>()?,
        };
        if let Some(domain) = &raw.trust_domain {
            let valid = !domain.is_empty()
                && domain.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
                });
            if !valid {
                return Err(at(format!(
                    "trust_domain `{domain}` is not a SPIFFE trust domain name (lower-case letters, digits, `.`, `-`, `_`)"
                )));
            }
        }
        let max_lifetime = match raw.max_lifetime {
            None => DEFAULT_MAX_LIFETIME,
            Some(value) => duration(&value).map_err(|e| at(format!("max_lifetime: {e}")))?,
        };
        if max_lifetime.is_zero() || max_lifetime > MAX_MAX_LIFETIME {
            return Err(at("max_lifetime must be from 1 s to 24 h".into()));
        }
        let refresh = raw
            .refresh
            .map(|v| duration(&v).map_err(|e| at(format!("refresh: {e}"))))
            .transpose()?;
        Ok(Self {
            issuer: raw.issuer,
            jwks_uri: raw.jwks_uri,
            discovery,
            audiences: raw.audiences,
            algorithms,
            trust_domain: raw.trust_domain,
            max_lifetime,
            client_ids: raw.client_ids,
            token_use: raw.token_use,
            refresh,
        })
    }
}

/// An asymmetric algorithm by its JOSE name.
///
/// SECURITY: HMAC algorithms are refused: an issuer's public key must never become a
/// shared secret (the "public key as HMAC secret" confusion); `none` is no algorithm.
pub fn algorithm(name: &str) -> Result<Algorithm, String> {
    let alg = Algorithm::from_str(name).map_err(|_| format!("unknown algorithm `{name}`"))?;
    if !ASYMMETRIC.contains(&alg) {
        return Err(format!(
            "algorithm `{name}` is not allowed: only asymmetric signatures (RS*, PS*, ES256, ES384, EdDSA)"
        ));
    }
    Ok(alg)
}

/// `https://…`, or `http://` to a loopback host (local issuers in tests and `serve`).
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("`{url}` must be an https URL")),
    }
}

/// Seconds as a number, or `"90s"`, `"15m"`, `"1h"`.
pub fn duration(value: &serde_json::Value) -> Result<Duration, String> {
    if let Some(secs) = value.as_u64() {
        return Ok(Duration::from_secs(secs));
    }
    let text = value
        .as_str()
        .ok_or_else(|| format!("`{value}` is not seconds or a duration like `15m`"))?;
    parse_duration(text)
}

/// `"90s"`, `"15m"`, `"1h"` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like `90s`, `15m` or `1h`"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("`{text}`: the unit must be `s`, `m` or `h`")),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_parse_with_defaults() {
        let issuers = parse_issuers(
            r#"[{"issuer": "https://idp.example.test", "audiences": ["sentinel"]},
                {"issuer": "http://127.0.0.1:9000/spire", "jwks_uri": "http://127.0.0.1:9000/keys",
                 "audiences": ["a"], "algorithms": ["ES256"], "trust_domain": "company.internal",
                 "max_lifetime": "5m", "refresh": 120}]"#,
        )
        .unwrap();
        assert_eq!(
            issuers[0].discovery,
            "https://idp.example.test/.well-known/openid-configuration"
        );
        assert_eq!(issuers[0].algorithms, ASYMMETRIC);
        assert_eq!(issuers[0].max_lifetime, DEFAULT_MAX_LIFETIME);
        assert_eq!(issuers[1].algorithms, [Algorithm::ES256]);
        assert_eq!(issuers[1].max_lifetime, Duration::from_secs(300));
        assert_eq!(issuers[1].refresh, Some(Duration::from_secs(120)));
    }

    #[test]
    fn unsafe_or_malformed_issuers_are_refused() {
        for (json, needle) in [
            (r#"[]"#, "no issuer"),
            (r#"[{"issuer": "https://a.test"}]"#, "audiences"),
            (
                r#"[{"issuer": "http://a.test", "audiences": ["x"]}]"#,
                "https",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "algorithms": ["HS256"]}]"#,
                "not allowed",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "algorithms": ["none"]}]"#,
                "unknown algorithm",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "algorithms": []}]"#,
                "empty",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "trust_domain": "Bad Domain"}]"#,
                "trust domain",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "max_lifetime": "2d"}]"#,
                "unit",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "max_lifetime": 0}]"#,
                "1 s to 24 h",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "jwks_uri": "ftp://k"}]"#,
                "https",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "audience": ["y"]}]"#,
                "unknown field",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"]}, {"issuer": "https://a.test", "audiences": ["y"]}]"#,
                "twice",
            ),
            // Users are `<issuer without scheme>:<sub>`.
            (
                r#"[{"issuer": "https://a.test/x", "audiences": ["x"]}, {"issuer": "https://a.test/x/", "audiences": ["x"]}]"#,
                "would collide",
            ),
            (
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "trust_domain": "td"}, {"issuer": "https://b.test", "audiences": ["x"], "trust_domain": "td"}]"#,
                "trust domain `td`",
            ),
        ] {
            let e = parse_issuers(json).unwrap_err();
            assert!(e.contains(needle), "{json}: {e}");
        }
        // Two clusters' issuers on one host are two issuers, with two user prefixes.
        let eks = parse_issuers(
            r#"[{"issuer": "https://oidc.eks.test/id/AAA", "audiences": ["x"]}, {"issuer": "https://oidc.eks.test/id/BBB", "audiences": ["x"]}]"#,
        )
        .unwrap();
        assert_eq!(workload_user_prefix(&eks[0].issuer), "oidc.eks.test/id/AAA");
        assert_ne!(
            workload_user_prefix(&eks[0].issuer),
            workload_user_prefix(&eks[1].issuer)
        );
        // Cognito access tokens: client ids instead of audiences.
        assert!(
            parse_issuers(
                r#"[{"issuer": "https://a.test", "client_ids": ["c1"], "token_use": "access"}]"#
            )
            .is_ok()
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("120s").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-5s").is_err());
    }
}
