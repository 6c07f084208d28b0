//! Where policies come from: the `PolicySource` port (SSM in production) and a
//! per-profile cache in front of it, which also holds the admin policy (`_admin`).
//!
//! Only successfully parsed policies are cached. A fetch error or a policy that
//! fails validation is reported for that request and tried again on the next one,
//! so a fixed policy takes effect at once and a broken one never sticks.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use policy::{AdminPolicySet, PolicyError, PolicySet};
use sentinel_types::PolicyName;
use tokio::time::Instant;

/// Port: raw policy documents by profile name.
pub trait PolicySource: Send + Sync {
    /// The YAML for `profile`, or `None` if the profile does not exist.
    fn fetch(
        &self,
        profile: &str,
    ) -> impl Future<Output = Result<Option<String>, SourceError>> + Send;
    /// Every profile name under the policy root (all pages).
    fn list(&self) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send;
}

/// The policy store failed. The text is for logs, never for clients.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The TVM may not read the parameter (IAM or KMS): a deployment mistake.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// Anything else: unreachable, throttled, unexpected answer.
    #[error("policy store unavailable: {0}")]
    Unavailable(String),
}

/// Why a policy could not be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The store failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The document does not validate.
    #[error("invalid policy: {0}")]
    Invalid(PolicyError),
}

type Slot<T = PolicySet> = Arc<tokio::sync::Mutex<Option<(Instant, Arc<T>)>>>;

/// Caches parsed policies per profile for `ttl`; concurrent misses for one
/// profile make one fetch (the others wait for it).
pub struct PolicyCache<S> {
    source: S,
    ttl: Duration,
    slots: Mutex<HashMap<String, Slot>>,
    admin: Slot<AdminPolicySet>,
}

impl<S: PolicySource> PolicyCache<S> {
    /// A cache over `source`; `ttl` zero disables caching.
    pub fn new(source: S, ttl: Duration) -> Self {
        Self {
            source,
            ttl,
            slots: Mutex::new(HashMap::new()),
            admin: Slot::default(),
        }
    }

    /// The source behind the cache.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The validated policy for `profile`; `Ok(None)` when the profile does not exist.
    pub async fn get(&self, profile: &str) -> Result<Option<Arc<PolicySet>>, LoadError> {
        let slot = {
            // A poisoned map only means another request panicked mid-insert; the map is still usable.
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(slots.entry(profile.to_owned()).or_default())
        };
        let mut cached = slot.lock().await;
        if let Some((loaded_at, set)) = cached.as_ref()
            && loaded_at.elapsed() < self.ttl
        {
            return Ok(Some(Arc::clone(set)));
        }
        *cached = None;
        let Some(yaml) = self.source.fetch(profile).await? else {
            // No slot is kept for a profile that does not exist: callers cannot grow
            // the map with made-up names.
            drop(cached);
            self.slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(profile);
            return Ok(None);
        };
        let set = Arc::new(policy::parse(&yaml).map_err(LoadError::Invalid)?);
        if !self.ttl.is_zero() {
            *cached = Some((Instant::now(), Arc::clone(&set)));
        }
        Ok(Some(set))
    }

    /// The validated admin policy (`<root>/_admin`), cached like a profile's;
    /// `Ok(None)` when there is none.
    pub async fn admin(&self) -> Result<Option<Arc<AdminPolicySet>>, LoadError> {
        let mut cached = self.admin.lock().await;
        if let Some((loaded_at, set)) = cached.as_ref()
            && loaded_at.elapsed() < self.ttl
        {
            return Ok(Some(Arc::clone(set)));
        }
        *cached = None;
        let Some(yaml) = self.source.fetch(PolicyName::ADMIN).await? else {
            return Ok(None);
        };
        let set = Arc::new(policy::parse_admin(&yaml).map_err(LoadError::Invalid)?);
        if !self.ttl.is_zero() {
            *cached = Some((Instant::now(), Arc::clone(&set)));
        }
        Ok(Some(set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::FakePolicySource;

    const VALID: &str = r#"
version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-dev
rules:
  - name: everyone
    effect: allow
"#;

    #[tokio::test]
    async fn policies_are_cached_for_the_ttl_then_fetched_again() {
        let source = FakePolicySource::new([("dev", VALID)]);
        // Long enough that the second read is always inside it.
        let cache = PolicyCache::new(source, Duration::from_secs(3600));
        assert!(cache.get("dev").await.unwrap().is_some());
        assert!(cache.get("dev").await.unwrap().is_some());
        assert_eq!(cache.source().fetches(), 1);

        // The monotonic clock guarantees the sleep outlasts this TTL.
        let cache = PolicyCache::new(
            FakePolicySource::new([("dev", VALID)]),
            Duration::from_millis(20),
        );
        assert!(cache.get("dev").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(cache.get("dev").await.unwrap().is_some());
        assert_eq!(cache.source().fetches(), 2);
    }

    #[tokio::test]
    async fn a_zero_ttl_caches_nothing() {
        let cache = PolicyCache::new(FakePolicySource::new([("dev", VALID)]), Duration::ZERO);
        for _ in 0..3 {
            assert!(cache.get("dev").await.unwrap().is_some());
        }
        assert_eq!(cache.source().fetches(), 3);
    }

    #[tokio::test]
    async fn unknown_profiles_leave_nothing_behind() {
        let cache = PolicyCache::new(
            FakePolicySource::new([("dev", VALID)]),
            Duration::from_secs(30),
        );
        for n in 0..100 {
            assert!(cache.get(&format!("made-up-{n}")).await.unwrap().is_none());
        }
        assert!(cache.get("dev").await.unwrap().is_some());
        assert_eq!(cache.slots.lock().unwrap().len(), 1, "only `dev` is cached");
    }

    #[tokio::test]
    async fn invalid_policy_is_an_error_for_that_profile_only_and_not_cached() {
        let source =
            FakePolicySource::new([("dev", VALID), ("broken", "version: \"1\"\nrules: [")]);
        let cache = PolicyCache::new(source, Duration::from_secs(30));
        assert!(matches!(
            cache.get("broken").await,
            Err(LoadError::Invalid(_))
        ));
        assert!(cache.get("dev").await.unwrap().is_some());
        cache.source().put("broken", VALID);
        assert!(
            cache.get("broken").await.unwrap().is_some(),
            "fixed policy takes effect at once"
        );
    }

    #[tokio::test]
    async fn source_errors_are_not_cached() {
        let source = FakePolicySource::new([("dev", VALID)]);
        let cache = PolicyCache::new(source, Duration::from_secs(30));
        cache
            .source()
            .fail_with(Some(SourceError::Unavailable("down".into())));
        assert!(matches!(cache.get("dev").await, Err(LoadError::Source(_))));
        cache.source().fail_with(None);
        assert!(cache.get("dev").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn unknown_profile_is_none() {
        let cache = PolicyCache::new(FakePolicySource::new([]), Duration::from_secs(30));
        assert!(cache.get("nope").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn concurrent_misses_make_one_fetch() {
        let source = FakePolicySource::new([("dev", VALID)]);
        let cache = Arc::new(PolicyCache::new(source, Duration::from_secs(30)));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.get("dev").await.map(|p| p.is_some()) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(true));
        }
        assert_eq!(cache.source().fetches(), 1);
    }
}
