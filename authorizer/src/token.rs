//! The token modes (SPEC §10, docs/authorizer.md): `jwt` lets a call through with a
//! verified JWT-SVID or OIDC token, `cognito` with a verified Cognito access token that
//! carries the scopes its route requires. The token comes from `Authorization: Bearer`;
//! the verifier is the workspace's one ([`sentinel_jwt`]), built once per process, so its
//! key cache lives as long as the Lambda container.
//!
//! Settings are read once, at start ([`TokenSettings::jwt`], [`TokenSettings::cognito`]);
//! a bad one stops the binary with a message naming the variable. At request time every
//! failure is a deny with the reason in the decision line.
//!
//! ```
//! use authorizer::token::RequiredScopes;
//!
//! // SPEC §10's form: a method starts a route, every other word is one of its scopes.
//! let spec = RequiredScopes::parse("GET /bucket_size=mrt/read POST /orders=mrt/write mrt/admin").unwrap();
//! // The `;` form says the same.
//! let semi = RequiredScopes::parse("GET /bucket_size=mrt/read; POST /orders=mrt/write,mrt/admin").unwrap();
//! assert_eq!(spec, semi);
//! assert_eq!(spec.lookup("POST /orders"), Some(("POST /orders", &["mrt/write".to_owned(), "mrt/admin".to_owned()][..])));
//! // A route without an entry (and no `*` entry) is denied.
//! assert_eq!(spec.lookup("DELETE /orders"), None);
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use sentinel_jwt::cache::KeyError;
use sentinel_jwt::issuer::parse_duration;
use sentinel_jwt::{Fetch, Issuer, TokenError, Verified, Verifier, in_trust_domain, parse_issuers};
use serde_json::{Value, json};

use crate::event::{BearerError, Event};
use crate::{Decision, Outcome};

/// The issuers as a JSON list (`parse_issuers`), instead of the single-issuer settings.
pub const JWT_ISSUERS: &str = "SENTINEL_JWT_ISSUERS";
/// `jwt` mode: the issuer (`iss`, exactly); its keys come from its OIDC discovery.
pub const OIDC_ISSUER_URL: &str = "OIDC_ISSUER_URL";
/// `jwt` mode: the audiences (`aud` must contain one), comma-separated.
pub const EXPECTED_AUDIENCE: &str = "EXPECTED_AUDIENCE";
/// `jwt` mode: `sub` must be a SPIFFE ID in this trust domain.
pub const REQUIRED_TRUST_DOMAIN: &str = "REQUIRED_TRUST_DOMAIN";
/// Both token modes: how long fetched keys are fresh, overriding the issuer's hints.
pub const JWKS_REFRESH: &str = "JWKS_REFRESH";
/// `cognito` mode: the user pool, `<region>_<id>`.
pub const COGNITO_USER_POOL_ID: &str = "COGNITO_USER_POOL_ID";
/// `cognito` mode: the issuer instead of the pool's (local issuers in tests).
pub const COGNITO_ISSUER: &str = "SENTINEL_COGNITO_ISSUER";
/// `cognito` mode: the app clients whose access tokens are accepted, comma-separated.
pub const COGNITO_CLIENT_IDS: &str = "SENTINEL_COGNITO_CLIENT_IDS";
/// `cognito` mode: the scopes each route requires ([`RequiredScopes`]).
pub const REQUIRED_SCOPES: &str = "SENTINEL_REQUIRED_SCOPES";

/// `JWKS_REFRESH` bounds (what the key cache would clamp to anyway, said at start).
const MIN_REFRESH: Duration = Duration::from_secs(10);
const MAX_REFRESH: Duration = Duration::from_secs(3600);
/// Cognito access tokens live from 5 minutes to one day, as the app client says.
const COGNITO_MAX_LIFETIME: &str = "24h";
/// The longest user pool ID Cognito issues.
const MAX_POOL_ID: usize = 55;
/// HTTP methods a route key may start with (`ANY`: an HTTP API's any-method route).
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY",
];
/// The catch-all entry of [`RequiredScopes`].
pub const ANY_ROUTE: &str = "*";

/// The settings of the other token mode: set in this one, they would be silently
/// ignored (a scope list in `jwt` mode enforcing nothing), so they stop the start.
const JWT_ONLY: [&str; 4] = [
    JWT_ISSUERS,
    OIDC_ISSUER_URL,
    EXPECTED_AUDIENCE,
    REQUIRED_TRUST_DOMAIN,
];
const COGNITO_ONLY: [&str; 4] = [
    COGNITO_USER_POOL_ID,
    COGNITO_ISSUER,
    COGNITO_CLIENT_IDS,
    REQUIRED_SCOPES,
];

fn invalid(name: &str, why: impl std::fmt::Display) -> String {
    format!("invalid setting `{name}`: {why}")
}

/// What a verified token must also satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rules {
    /// `jwt`: nothing more (audience, trust domain and times are the verifier's).
    Jwt,
    /// `cognito`: the scopes of the event's route.
    Cognito(RequiredScopes),
}

/// A token mode's settings, read once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    /// Whose tokens are accepted, and their rules.
    pub issuers: Vec<Issuer>,
    /// What a verified token must also satisfy.
    pub rules: Rules,
}

impl TokenSettings {
    /// `jwt` mode, configured like the SPIFFE deployment it replaces: `OIDC_ISSUER_URL`,
    /// `EXPECTED_AUDIENCE`, `REQUIRED_TRUST_DOMAIN` (optional), `JWKS_REFRESH` (optional);
    /// or `SENTINEL_JWT_ISSUERS`, the JSON list, instead of the first three.
    pub fn jwt(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = trimmed(var);
        refuse_foreign(&get, &COGNITO_ONLY, "jwt")?;
        let refresh = refresh(&get)?;
        if let Some(list) = get(JWT_ISSUERS) {
            if let Some(other) = [OIDC_ISSUER_URL, EXPECTED_AUDIENCE, REQUIRED_TRUST_DOMAIN]
                .into_iter()
                .find(|name| get(name).is_some())
            {
                return Err(invalid(
                    other,
                    format!(
                        "`{JWT_ISSUERS}` is set and names the issuers and their rules; set one or the other"
                    ),
                ));
            }
            if list.starts_with('/') {
                return Err(invalid(
                    JWT_ISSUERS,
                    "the authorizer takes the JSON list itself, not an SSM parameter path",
                ));
            }
            let mut issuers = parse_issuers(&list).map_err(|e| invalid(JWT_ISSUERS, e))?;
            if let Some(refresh) = refresh {
                for issuer in issuers.iter_mut().filter(|i| i.refresh.is_none()) {
                    issuer.refresh = Some(refresh);
                }
            }
            return Ok(Self {
                issuers,
                rules: Rules::Jwt,
            });
        }
        let issuer = get(OIDC_ISSUER_URL).ok_or_else(|| {
            invalid(
                OIDC_ISSUER_URL,
                format!("`jwt` mode needs the token issuer (or `{JWT_ISSUERS}`)"),
            )
        })?;
        probe(json!({"issuer": issuer, "audiences": ["-"]}))
            .map_err(|e| invalid(OIDC_ISSUER_URL, e))?;
        let audiences = list(&get, EXPECTED_AUDIENCE, "the audiences tokens must be for")?;
        let trust_domain = get(REQUIRED_TRUST_DOMAIN).map(|domain| {
            // A trust domain is often written as its SPIFFE ID, `spiffe://<domain>`.
            domain
                .strip_prefix("spiffe://")
                .map_or(domain.clone(), str::to_owned)
        });
        if let Some(domain) = &trust_domain {
            probe(json!({"issuer": "https://probe.invalid", "audiences": ["-"], "trust_domain": domain}))
                .map_err(|e| invalid(REQUIRED_TRUST_DOMAIN, e))?;
        }
        let raw = json!({"issuer": issuer, "audiences": audiences, "trust_domain": trust_domain});
        let mut issuers = probe(raw).map_err(|e| invalid(OIDC_ISSUER_URL, e))?;
        for issuer in &mut issuers {
            issuer.refresh = refresh;
        }
        Ok(Self {
            issuers,
            rules: Rules::Jwt,
        })
    }

    /// `cognito` mode: the issuer of `COGNITO_USER_POOL_ID` (or `SENTINEL_COGNITO_ISSUER`),
    /// access tokens only (`token_use`), RS256 only (what Cognito signs with), `client_id`
    /// in `SENTINEL_COGNITO_CLIENT_IDS`, scopes per route from `SENTINEL_REQUIRED_SCOPES`.
    pub fn cognito(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = trimmed(var);
        refuse_foreign(&get, &JWT_ONLY, "cognito")?;
        let refresh = refresh(&get)?;
        let issuer = match get(COGNITO_ISSUER) {
            Some(url) => {
                probe(json!({"issuer": url, "audiences": ["-"]}))
                    .map_err(|e| invalid(COGNITO_ISSUER, e))?;
                url
            }
            None => {
                let pool = get(COGNITO_USER_POOL_ID).ok_or_else(|| {
                    invalid(
                        COGNITO_USER_POOL_ID,
                        format!("`cognito` mode needs the user pool (or `{COGNITO_ISSUER}`)"),
                    )
                })?;
                cognito_issuer(&pool).map_err(|e| invalid(COGNITO_USER_POOL_ID, e))?
            }
        };
        let client_ids = list(
            &get,
            COGNITO_CLIENT_IDS,
            "the app clients whose access tokens are accepted",
        )?;
        let text = get(REQUIRED_SCOPES).ok_or_else(|| {
            invalid(
                REQUIRED_SCOPES,
                "`cognito` mode needs the scopes each route requires (`*=` for any other route)",
            )
        })?;
        let scopes = RequiredScopes::parse(&text).map_err(|e| invalid(REQUIRED_SCOPES, e))?;
        let mut issuers = probe(json!({
            "issuer": issuer,
            "client_ids": client_ids,
            "token_use": "access",
            "algorithms": ["RS256"],
            "max_lifetime": COGNITO_MAX_LIFETIME,
        }))
        .map_err(|e| invalid(COGNITO_ISSUER, e))?;
        for issuer in &mut issuers {
            issuer.refresh = refresh;
        }
        Ok(Self {
            issuers,
            rules: Rules::Cognito(scopes),
        })
    }
}

/// The lookup as `main.rs` does it: trimmed, and empty is unset.
fn trimmed(var: impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> {
    move |name| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

fn refuse_foreign(
    get: &impl Fn(&str) -> Option<String>,
    foreign: &[&str],
    mode: &str,
) -> Result<(), String> {
    match foreign.iter().find(|name| get(name).is_some()) {
        Some(name) => Err(invalid(
            name,
            format!("not a setting of `{mode}` mode, where it would be ignored; unset it"),
        )),
        None => Ok(()),
    }
}

/// `JWKS_REFRESH`: `120s`, `15m`, `1h` or seconds, from 10 s to 1 h.
fn refresh(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Duration>, String> {
    let Some(text) = get(JWKS_REFRESH) else {
        return Ok(None);
    };
    let refresh = parse_duration(&text).map_err(|e| invalid(JWKS_REFRESH, e))?;
    if !(MIN_REFRESH..=MAX_REFRESH).contains(&refresh) {
        return Err(invalid(
            JWKS_REFRESH,
            format!("`{text}` is not from 10s to 1h"),
        ));
    }
    Ok(Some(refresh))
}

/// A required comma-separated list of non-empty values.
fn list(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    what: &str,
) -> Result<Vec<String>, String> {
    let text = get(name).ok_or_else(|| invalid(name, format!("required: {what}")))?;
    let values: Vec<String> = text.split(',').map(|v| v.trim().to_owned()).collect();
    if values
        .iter()
        .any(|v| v.is_empty() || v.contains(char::is_whitespace))
    {
        return Err(invalid(
            name,
            format!("`{text}` is not a comma-separated list of non-empty values"),
        ));
    }
    Ok(values)
}

/// One issuer through `parse_issuers`, its one validation.
fn probe(raw: Value) -> Result<Vec<Issuer>, String> {
    parse_issuers(&Value::Array(vec![raw]).to_string())
}

/// `https://cognito-idp.<region>.amazonaws.com/<pool>`, the region being the pool ID's
/// own (`eu-west-1_AbC123` is a pool of eu-west-1, wherever the function runs).
fn cognito_issuer(pool: &str) -> Result<String, String> {
    let bad =
        || format!("`{pool}` is not a user pool ID (`<region>_<id>`, like `eu-west-1_AbC123`)");
    let (region, id) = pool.split_once('_').ok_or_else(bad)?;
    let region_ok = region.contains('-')
        && region.ends_with(|c: char| c.is_ascii_digit())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !region_ok || !id_ok || pool.len() > MAX_POOL_ID {
        return Err(bad());
    }
    Ok(format!("https://cognito-idp.{region}.amazonaws.com/{pool}"))
}

/// `SENTINEL_REQUIRED_SCOPES`: the scopes each route requires. A token must carry
/// **every** scope of its route's entry.
///
/// Grammar (whitespace is spaces or tabs):
///
/// ```text
/// value   = entries-separated-by-";"  |  SPEC-form
/// entry   = route "=" [ scope *( ("," / whitespace) scope ) ]
/// route   = METHOD " " path  |  "$default"  |  "*"
/// METHOD  = GET / HEAD / POST / PUT / PATCH / DELETE / OPTIONS / ANY
/// path    = "/" followed by visible ASCII except "=" (e.g. `/orders/{id}`, `/{proxy+}`)
/// scope   = visible ASCII except `"` `\` `,` `;` `=`, not starting with `/`
/// ```
///
/// With a `;` anywhere, the value is `;`-separated entries. Without one it is SPEC
/// §10's form, words separated by whitespace: a method word starts an entry and the word
/// after it is `path=scope[,scope...]`; a word starting with `*=` or `$default=` starts an
/// entry too; any other word is one more scope of the entry before it. So in this form a
/// scope may not be spelled like a method (`GET`): use the `;` form for that.
///
/// An entry with nothing after `=` requires no scope (any valid access token of an
/// allowed client). A route is looked up by its exact key, then as `ANY <path>`, then
/// `*`; with no entry the call is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredScopes {
    routes: BTreeMap<String, Vec<String>>,
}

impl RequiredScopes {
    /// Parses the setting's value (the error does not name the variable).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut scopes = Self {
            routes: BTreeMap::new(),
        };
        if text.contains(';') {
            for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
                let (route, list) = entry
                    .split_once('=')
                    .ok_or_else(|| format!("`{entry}` is not `METHOD /path=scope,...`"))?;
                let route = route_key(route.trim())?;
                let list = list
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(scope)
                    .collect::<Result<Vec<_>, _>>()?;
                scopes.insert(route, list)?;
            }
        } else {
            let mut words = text.split_whitespace();
            let mut current: Option<(String, Vec<String>)> = None;
            while let Some(word) = words.next() {
                let started = if METHODS.contains(&word) {
                    let rest = words
                        .next()
                        .ok_or_else(|| format!("`{word}` is not followed by `/path=scope`"))?;
                    let (path, list) = rest.split_once('=').ok_or_else(|| {
                        format!(
                            "`{word} {rest}` is not `{word} /path=scope` (no spaces around `=`)"
                        )
                    })?;
                    Some((route_key(&format!("{word} {path}"))?, list))
                } else if let Some(list) = word.strip_prefix("*=") {
                    Some((ANY_ROUTE.to_owned(), list))
                } else {
                    word.strip_prefix("$default=")
                        .map(|list| ("$default".to_owned(), list))
                };
                match started {
                    Some((route, list)) => {
                        if let Some((route, list)) = current.take() {
                            scopes.insert(route, list)?;
                        }
                        let list = list
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(scope)
                            .collect::<Result<Vec<_>, _>>()?;
                        current = Some((route, list));
                    }
                    None => {
                        let Some((_, list)) = current.as_mut() else {
                            return Err(format!(
                                "`{word}` comes before any route (`METHOD /path=scope`)"
                            ));
                        };
                        for s in word.split(',').filter(|s| !s.is_empty()) {
                            list.push(scope(s)?);
                        }
                    }
                }
            }
            if let Some((route, list)) = current {
                scopes.insert(route, list)?;
            }
        }
        if scopes.routes.is_empty() {
            return Err("names no route".into());
        }
        Ok(scopes)
    }

    fn insert(&mut self, route: String, list: Vec<String>) -> Result<(), String> {
        let mut unique: Vec<String> = Vec::with_capacity(list.len());
        for scope in list {
            if !unique.contains(&scope) {
                unique.push(scope);
            }
        }
        if self.routes.contains_key(&route) {
            return Err(format!("route `{route}` is listed twice"));
        }
        self.routes.insert(route, unique);
        Ok(())
    }

    /// The entry for an event's route key — exact, then `ANY <path>`, then `*` — as
    /// (the entry's route, its scopes).
    pub fn lookup(&self, route_key: &str) -> Option<(&str, &[String])> {
        let any = route_key
            .split_once(' ')
            .map(|(_, path)| format!("ANY {path}"));
        [Some(route_key), any.as_deref(), Some(ANY_ROUTE)]
            .into_iter()
            .flatten()
            .find_map(|key| self.routes.get_key_value(key))
            .map(|(route, scopes)| (route.as_str(), scopes.as_slice()))
    }

    /// Every entry, by route.
    pub fn routes(&self) -> &BTreeMap<String, Vec<String>> {
        &self.routes
    }
}

/// `METHOD /path`, `$default` or `*`, checked.
fn route_key(route: &str) -> Result<String, String> {
    if route == ANY_ROUTE || route == "$default" {
        return Ok(route.to_owned());
    }
    let mut parts = route.split_whitespace();
    let (Some(method), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "route `{route}` is not `METHOD /path`, `$default` or `*`"
        ));
    };
    if !METHODS.contains(&method) {
        return Err(format!(
            "`{method}` is not a method ({})",
            METHODS.join(", ")
        ));
    }
    let path_ok = path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'=' && b != b';');
    if !path_ok {
        return Err(format!("`{path}` is not a path starting with `/`"));
    }
    Ok(format!("{method} {path}"))
}

/// A scope as RFC 6749 §3.3 allows, less the separators of this grammar.
fn scope(text: &str) -> Result<String, String> {
    let ok = !text.starts_with('/')
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b',' | b';' | b'='));
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a scope (a route is `METHOD /path=scope`, without spaces around `=`)"
        ))
    }
}

/// What a verified token lets through: the REST policy's `principalId` and the context
/// API Gateway hands the integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `sub`.
    pub principal: String,
    /// `iss`, for the log line.
    pub issuer: String,
    /// The authorizer context: strings only.
    pub context: BTreeMap<&'static str, String>,
}

/// Answers events in the `jwt` or `cognito` mode; built once per process.
pub struct TokenAuthorizer<F> {
    verifier: Verifier<F>,
    rules: Rules,
}

impl<F: Fetch> TokenAuthorizer<F> {
    /// The verifier of `settings`' issuers, fetching keys through `fetch`; no request
    /// is made before the first token.
    pub fn new(settings: TokenSettings, fetch: F) -> Self {
        Self {
            verifier: Verifier::new(settings.issuers, fetch),
            rules: settings.rules,
        }
    }

    /// The verifier (its key cache, its fetch count).
    pub fn verifier(&self) -> &Verifier<F> {
        &self.verifier
    }

    /// Decides on one event at `now`: in `cognito` mode the route's entry first (an
    /// unlisted route costs no verification), then the token, then its scopes.
    pub async fn decide(&self, event: &Event, now: SystemTime) -> Decision {
        let required = match &self.rules {
            Rules::Jwt => None,
            Rules::Cognito(scopes) => {
                let Some(route_key) = event.route_key() else {
                    return Decision::Refused {
                        reason: "route not configured",
                        detail: "the event names no route".into(),
                    };
                };
                // SECURITY: fail closed: a route nobody listed is not open.
                let Some((entry, required)) = scopes.lookup(&route_key) else {
                    return Decision::Refused {
                        reason: "route not configured",
                        detail: format!("no entry for `{route_key}` and no `*` entry"),
                    };
                };
                Some((route_key, entry, required))
            }
        };
        let token = match event.bearer() {
            Ok(token) => token,
            Err(BearerError::Missing) => {
                return Decision::Deny {
                    reason: "no bearer token",
                };
            }
            Err(BearerError::Malformed(why)) => {
                return Decision::Refused {
                    reason: "no bearer token",
                    detail: why.into(),
                };
            }
        };
        let verified = match self.verifier.verify(token, now).await {
            Ok(verified) => verified,
            Err(e) => return refused(e),
        };
        let mut context = BTreeMap::from([
            ("sub", verified.subject.clone()),
            ("issuer", verified.issuer.clone()),
            ("scopes", verified.scopes.join(" ")),
        ]);
        if let Some((route_key, entry, required)) = required {
            let missing: Vec<&str> = required
                .iter()
                .filter(|s| !verified.scopes.contains(s))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Decision::Refused {
                    reason: "insufficient scope",
                    detail: format!(
                        "`{route_key}` (entry `{entry}`) requires `{}`; the token of `{}` lacks `{}`",
                        required.join(" "),
                        verified.subject,
                        missing.join(" ")
                    ),
                };
            }
            context.insert("client_id", verified.client_id.clone().unwrap_or_default());
        } else if let Some(id) = self
            .verifier
            .issuer(&verified.issuer)
            .and_then(|issuer| issuer.trust_domain.as_deref())
            .filter(|domain| in_trust_domain(&verified.subject, domain))
            .map(|_| verified.subject.clone())
        {
            // SECURITY: only an issuer configured with a trust domain vouches for SPIFFE
            // IDs; another issuer's `sub` that merely looks like one is no `spiffe_id`.
            context.insert("spiffe_id", id);
        }
        allow(verified, context)
    }

    /// Answers one raw event: an event that does not deserialize is denied, never an error.
    pub async fn authorize(&self, raw: &Value, now: DateTime<Utc>) -> Outcome {
        match Event::parse(raw) {
            Ok(event) => {
                let decision = self.decide(&event, SystemTime::from(now)).await;
                Outcome::of(&event, decision)
            }
            Err(not_understood) => Outcome::not_understood(not_understood),
        }
    }
}

fn allow(verified: Verified, context: BTreeMap<&'static str, String>) -> Decision {
    Decision::AllowToken(Box::new(Grant {
        principal: verified.subject,
        issuer: verified.issuer,
        context,
    }))
}

/// A token that does not verify is refused; keys that cannot be had (the issuer down past
/// the stale bound, discovery naming another issuer, a JWKS without a usable key) are a
/// failed check, counted as an error.
fn refused(e: TokenError) -> Decision {
    match e {
        TokenError::Key(KeyError::Unavailable(_)) => Decision::Failed {
            reason: "token check failed",
            detail: e.to_string(),
        },
        _ => Decision::Refused {
            reason: "invalid token",
            detail: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
