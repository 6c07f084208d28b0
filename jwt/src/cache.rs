//! One issuer's keys, cached per process (SPEC §10): fresh for the issuer's refresh hint
//! (`spiffe_refresh_hint`), else its `Cache-Control: max-age`, else 5 minutes (within
//! 10 s to 1 h); refetched
//! once on an unknown `kid`, at most every 10 s; served stale for at most one hour past
//! their freshness while the issuer cannot be reached; no keys, no verification.
//!
//! One fetch at a time per issuer (single flight): concurrent verifications wait for it
//! and use its result. Time is passed in, so every rule is testable without waiting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;

use crate::fetch::{Fetch, Fetched};
use crate::issuer::Issuer;
use crate::keys::{Key, parse_jwks};

/// Keys are fresh this long when the issuer gives no hint.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// Bounds on any hint.
const MIN_TTL: Duration = Duration::from_secs(10);
/// An hour at most: a key the issuer removed (rotated out after a leak) is trusted no
/// longer than that, whatever its `Cache-Control` says.
const MAX_TTL: Duration = Duration::from_secs(3600);
/// At most one fetch per issuer this often (an unknown `kid`, an issuer that is down).
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// How long keys are used past their freshness while the issuer cannot be reached.
pub const MAX_STALE: Duration = Duration::from_secs(3600);

/// Why no key is available (for the log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The issuer's keys do not include this `kid` (also after a refetch).
    #[error("no key `{0}` in the issuer's JWKS")]
    UnknownKid(String),
    /// No keys could be had: never fetched, or stale past the bound, and the issuer fails.
    #[error("the issuer's keys are unavailable: {0}")]
    Unavailable(String),
}

struct Keys {
    by_kid: HashMap<String, Key>,
    fetched_at: SystemTime,
    ttl: Duration,
}

#[derive(Default)]
struct State {
    keys: Option<Keys>,
    /// The JWKS URL, once known (configured, or from discovery).
    jwks_uri: Option<String>,
    last_attempt: Option<SystemTime>,
}

/// The key cache of one issuer.
pub struct IssuerKeys {
    issuer: Issuer,
    state: Mutex<State>,
    fetches: AtomicU64,
}

fn after(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).unwrap_or(t)
}

impl IssuerKeys {
    /// An empty cache for `issuer`.
    pub fn new(issuer: Issuer) -> Self {
        let jwks_uri = issuer.jwks_uri.clone();
        Self {
            issuer,
            state: Mutex::new(State {
                jwks_uri,
                ..State::default()
            }),
            fetches: AtomicU64::new(0),
        }
    }

    /// The issuer.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// HTTP requests made so far (discovery and JWKS).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key `kid` at `now`, fetching as the rules above allow.
    pub async fn key<F: Fetch>(
        &self,
        fetch: &F,
        kid: &str,
        now: SystemTime,
    ) -> Result<Key, KeyError> {
        let mut state = self.state.lock().await;
        let fresh = state
            .keys
            .as_ref()
            .is_some_and(|k| now < after(k.fetched_at, k.ttl));
        let may_fetch = state
            .last_attempt
            .is_none_or(|t| now >= after(t, REFETCH_INTERVAL) || now < t);
        if fresh {
            if let Some(key) = state.keys.as_ref().and_then(|k| k.by_kid.get(kid)) {
                return Ok(key.clone());
            }
            // A rotation: a new kid appears before the cache expires. One refetch.
            if !may_fetch {
                return Err(KeyError::UnknownKid(kid.to_owned()));
            }
            return match self.refresh(fetch, &mut state, now).await {
                Ok(()) => lookup(&state, kid),
                // The issuer is down: the fresh keys still stand, but have no such kid.
                Err(_) => Err(KeyError::UnknownKid(kid.to_owned())),
            };
        }
        let stale_usable = state
            .keys
            .as_ref()
            .is_some_and(|k| now < after(after(k.fetched_at, k.ttl), MAX_STALE));
        if !may_fetch {
            return if stale_usable {
                lookup(&state, kid)
            } else {
                Err(KeyError::Unavailable(
                    "the last fetch failed moments ago".into(),
                ))
            };
        }
        match self.refresh(fetch, &mut state, now).await {
            Ok(()) => lookup(&state, kid),
            Err(why) if stale_usable => {
                // Bounded stale-if-error: the keys the issuer last served.
                let _ = why;
                lookup(&state, kid)
            }
            Err(why) => {
                // Past the bound the old keys are gone for good.
                state.keys = None;
                Err(KeyError::Unavailable(why))
            }
        }
    }

    /// Fetches the JWKS (after discovery, when needed) and replaces the keys.
    async fn refresh<F: Fetch>(
        &self,
        fetch: &F,
        state: &mut State,
        now: SystemTime,
    ) -> Result<(), String> {
        state.last_attempt = Some(now);
        let uri = match state.jwks_uri.clone() {
            Some(uri) => uri,
            None => {
                let uri = self.discover(fetch).await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = fetch.get(&uri).await?;
        let (by_kid, _skipped) = parse_jwks(&fetched.body)?;
        if by_kid.is_empty() {
            return Err(format!("the JWKS at `{uri}` holds no usable key"));
        }
        let ttl = self
            .issuer
            .refresh
            .or_else(|| refresh_hint(&fetched))
            .unwrap_or(DEFAULT_TTL)
            .clamp(MIN_TTL, MAX_TTL);
        state.keys = Some(Keys {
            by_kid,
            fetched_at: now,
            ttl,
        });
        Ok(())
    }

    /// OIDC discovery: the document's `issuer` must be ours; its `jwks_uri` is https.
    async fn discover<F: Fetch>(&self, fetch: &F) -> Result<String, String> {
        #[derive(serde::Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = fetch.get(&self.issuer.discovery).await?;
        let document: Discovery = serde_json::from_slice(&fetched.body)
            .map_err(|e| format!("discovery document is not valid: {e}"))?;
        // SECURITY: OpenID Connect Discovery §4.3: a document for another issuer is
        // not this issuer's (and its keys are not either).
        if document.issuer != self.issuer.issuer {
            return Err(format!(
                "discovery names issuer `{}`, not `{}`",
                document.issuer, self.issuer.issuer
            ));
        }
        let jwks_uri = url::Url::parse(&document.jwks_uri)
            .map_err(|e| format!("discovery's jwks_uri is not a URL: {e}"))?;
        let loopback = matches!(jwks_uri.host_str(), Some("127.0.0.1" | "localhost"));
        if jwks_uri.scheme() != "https" && !(jwks_uri.scheme() == "http" && loopback) {
            return Err("discovery's jwks_uri is not https".into());
        }
        Ok(document.jwks_uri)
    }
}

fn lookup(state: &State, kid: &str) -> Result<Key, KeyError> {
    state
        .keys
        .as_ref()
        .and_then(|k| k.by_kid.get(kid))
        .cloned()
        .ok_or_else(|| KeyError::UnknownKid(kid.to_owned()))
}

/// SPIFFE's `spiffe_refresh_hint` (seconds) in the JWKS, else `Cache-Control: max-age`.
fn refresh_hint(fetched: &Fetched) -> Option<Duration> {
    let hint = serde_json::from_slice::<serde_json::Value>(&fetched.body)
        .ok()
        .and_then(|v| {
            v.get("spiffe_refresh_hint")
                .and_then(serde_json::Value::as_u64)
        });
    if let Some(secs) = hint {
        return Some(Duration::from_secs(secs));
    }
    let control = fetched.cache_control.as_deref()?;
    control
        .split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|secs| secs.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
