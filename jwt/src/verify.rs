//! Verifying one token (SPEC §10): compact JWS only; `alg` from the issuer's allow-list
//! and fitting the key's type; `kid` naming a key of the issuer's JWKS; `iss` exact;
//! `aud` present and one of the issuer's audiences; `exp` and `iat` required, `nbf`
//! honoured, 30 s leeway; `exp - iat` within the issuer's `max_lifetime`; a SPIFFE ID in
//! the trust domain.

use std::collections::{BTreeMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Validation, decode, decode_header};
use serde_json::{Map, Value};

use crate::cache::{IssuerKeys, KeyError};
use crate::fetch::Fetch;
use crate::issuer::Issuer;

/// Clock skew allowed on `exp`, `nbf` and `iat` (SPEC: at most 60 s).
pub const LEEWAY_SECS: i64 = 30;
/// The longest token accepted.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a token was refused. Clients only ever learn that it did not verify
/// (401 `INVALID_TOKEN`); this goes to the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a compact JWS of at most {MAX_TOKEN_BYTES} bytes: {0}")]
    Malformed(String),
    #[error("issuer `{0}` is not trusted")]
    UnknownIssuer(String),
    #[error("algorithm {0} is not allowed for this issuer or key")]
    Algorithm(String),
    #[error("the token names no `kid`")]
    NoKid,
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("signature or claims rejected: {0}")]
    Rejected(String),
    #[error("expired at {0}")]
    Expired(i64),
    #[error("not valid before {0}")]
    NotYetValid(i64),
    #[error("lifetime {0} s exceeds the issuer's max_lifetime")]
    Lifetime(i64),
    #[error("claim `{0}` missing or malformed")]
    Claim(&'static str),
    #[error("`sub` `{0}` is not a SPIFFE ID of trust domain `{1}`")]
    TrustDomain(String, String),
    #[error("`client_id` `{0}` is not allowed")]
    ClientId(String),
    #[error("`token_use` `{0}` is not `{1}`")]
    TokenUse(String, String),
}

/// A verified token's identity and claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// OAuth scopes (`scope`, space-separated, or `scp`).
    pub scopes: Vec<String>,
    /// `client_id` (Cognito access tokens), else `azp`.
    pub client_id: Option<String>,
    /// Every claim, as the token carried it.
    pub claims: Map<String, Value>,
}

impl Verified {
    /// The claims as lists of strings, for policy conditions: a string is one value, an
    /// array of strings, numbers or booleans its elements, a number or boolean its JSON
    /// text; objects and nulls are left out.
    pub fn claim_values(&self) -> BTreeMap<String, Vec<String>> {
        fn scalar(value: &Value) -> Option<String> {
            match value {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }
        self.claims
            .iter()
            .filter_map(|(name, value)| {
                let values: Vec<String> = match value {
                    Value::Array(items) => items.iter().filter_map(scalar).collect(),
                    other => scalar(other).into_iter().collect(),
                };
                (!values.is_empty()).then(|| (name.clone(), values))
            })
            .collect()
    }

    /// The user: the SPIFFE ID itself for a SPIFFE issuer, else `<issuer>:<sub>` with
    /// the issuer's URL less its scheme (SPEC §10 says `<issuer host>:<sub>`; the path
    /// and port are kept so two issuers on one host, such as two EKS clusters' OIDC
    /// issuers, never name different workloads alike).
    pub fn user(&self, spiffe: bool) -> String {
        sentinel_types::workload_user(&self.issuer, &self.subject, spiffe)
    }
}

/// Verifies tokens of a fixed set of issuers, fetching their keys through `F`.
pub struct Verifier<F> {
    issuers: Vec<IssuerKeys>,
    fetch: F,
}

impl<F: Fetch> Verifier<F> {
    /// A verifier of `issuers`.
    pub fn new(issuers: Vec<Issuer>, fetch: F) -> Self {
        Self {
            issuers: issuers.into_iter().map(IssuerKeys::new).collect(),
            fetch,
        }
    }

    /// The configured issuer of `iss`, if any.
    pub fn issuer(&self, iss: &str) -> Option<&Issuer> {
        self.issuers
            .iter()
            .map(IssuerKeys::issuer)
            .find(|i| i.issuer == iss)
    }

    /// Discovery and JWKS requests made so far, over all issuers.
    pub fn fetches(&self) -> u64 {
        self.issuers.iter().map(IssuerKeys::fetches).sum()
    }

    /// Verifies `token` at `now`.
    pub async fn verify(&self, token: &str, now: SystemTime) -> Result<Verified, TokenError> {
        if token.len() > MAX_TOKEN_BYTES || token.split('.').count() != 3 {
            return Err(TokenError::Malformed(
                "three base64url parts expected".into(),
            ));
        }
        let header = decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        // The issuer first (unverified), to know whose keys and rules apply; nothing
        // else of the unverified payload is used.
        let unverified = jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(token)
            .map_err(|e| TokenError::Malformed(e.to_string()))?;
        let iss = unverified
            .claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(TokenError::Claim("iss"))?;
        let keys = self
            .issuers
            .iter()
            .find(|k| k.issuer().issuer == iss)
            .ok_or_else(|| TokenError::UnknownIssuer(iss.chars().take(256).collect()))?;
        let issuer = keys.issuer();
        // SECURITY: only the issuer's asymmetric algorithms; HMAC and `none` never
        // reach here (the issuer's list cannot hold them; `none` does not parse).
        if !issuer.algorithms.contains(&header.alg) {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.as_deref().ok_or(TokenError::NoKid)?;
        let key = keys.key(&self.fetch, kid, now).await?;
        // SECURITY: the key's type and curve (and its own `alg`) must allow the
        // token's algorithm: an RSA key never checks an ES256 token, and so on.
        if !key.allows(header.alg) {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_issuer(&[&issuer.issuer]);
        if issuer.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&issuer.audiences);
        }
        // Times are checked below against `now`, with this crate's leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        // SECURITY: with audiences configured, `aud` must be present and parse: the
        // library checks it only when it does, so a token for no one (or `"aud": 5`)
        // would otherwise pass as a token for us.
        let mut required = HashSet::from(["iss".to_owned(), "sub".to_owned()]);
        if !issuer.audiences.is_empty() {
            required.insert("aud".to_owned());
        }
        validation.required_spec_claims = required;
        let data = decode::<Map<String, Value>>(token, &key.decoding, &validation)
            .map_err(|e| TokenError::Rejected(e.to_string()))?;
        check(issuer, data.claims, now)
    }
}

fn seconds(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The checks that depend on the time and on the issuer's own rules.
pub(crate) fn check(
    issuer: &Issuer,
    claims: Map<String, Value>,
    now: SystemTime,
) -> Result<Verified, TokenError> {
    let now = seconds(now);
    let number = |name: &'static str| -> Result<Option<i64>, TokenError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .map(Some)
                .ok_or(TokenError::Claim(name)),
        }
    };
    let exp = number("exp")?.ok_or(TokenError::Claim("exp"))?;
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(TokenError::Expired(exp));
    }
    if let Some(nbf) = number("nbf")?
        && nbf > now.saturating_add(LEEWAY_SECS)
    {
        return Err(TokenError::NotYetValid(nbf));
    }
    // `iat` is required: without it a long-lived token would pass in its last hour.
    let iat = number("iat")?.ok_or(TokenError::Claim("iat"))?;
    if iat > now.saturating_add(LEEWAY_SECS) {
        return Err(TokenError::NotYetValid(iat));
    }
    let lifetime = exp.saturating_sub(iat);
    let max = i64::try_from(issuer.max_lifetime.as_secs()).unwrap_or(i64::MAX);
    if lifetime > max {
        return Err(TokenError::Lifetime(lifetime));
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 1024 && !s.chars().any(char::is_control))
        .ok_or(TokenError::Claim("sub"))?
        .to_owned();
    if let Some(domain) = &issuer.trust_domain
        && !in_trust_domain(&subject, domain)
    {
        return Err(TokenError::TrustDomain(subject, domain.clone()));
    }
    let client_id = claims
        .get("client_id")
        .or_else(|| claims.get("azp"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if !issuer.client_ids.is_empty() {
        let id = claims
            .get("client_id")
            .and_then(Value::as_str)
            .ok_or(TokenError::Claim("client_id"))?;
        if !issuer.client_ids.iter().any(|c| c == id) {
            return Err(TokenError::ClientId(id.to_owned()));
        }
    }
    if let Some(expected) = &issuer.token_use {
        let got = claims
            .get("token_use")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if got != expected {
            return Err(TokenError::TokenUse(got.to_owned(), expected.clone()));
        }
    }
    let scopes = match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Verified {
        issuer: issuer.issuer.clone(),
        subject,
        expires_at: exp,
        scopes,
        client_id,
        claims,
    })
}

/// `spiffe://<domain>/<path>` with a non-empty path, no query, fragment, port or user.
pub fn in_trust_domain(subject: &str, domain: &str) -> bool {
    let Some(rest) = subject.strip_prefix("spiffe://") else {
        return false;
    };
    let Some((td, path)) = rest.split_once('/') else {
        return false;
    };
    td == domain
        && !path.is_empty()
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        })
}
