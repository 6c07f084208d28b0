//! The proxy's two SSM parameters — its policy and the upstream's credential — read
//! through one cache: both are loaded together, kept for the TTL, and on a failure
//! nothing stale is used (fail closed).

use std::sync::Arc;
use std::time::Duration;

use policy::ProxyPolicySet;
use sentinel_aws::PolicyStoreError;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Reads one parameter's text (decrypted), `None` when it does not exist.
pub trait Parameters: Send + Sync {
    /// The parameter `name`.
    fn get(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, PolicyStoreError>> + Send;
}

/// SSM Parameter Store.
#[derive(Debug, Clone)]
pub struct Ssm(pub aws_sdk_ssm::Client);

impl Parameters for Ssm {
    async fn get(&self, name: &str) -> Result<Option<String>, PolicyStoreError> {
        sentinel_aws::get_parameter(&self.0, name).await
    }
}

/// The policy and the upstream credential in force.
#[derive(Debug)]
pub struct Loaded {
    /// The proxy's policy.
    pub policy: ProxyPolicySet,
    /// The `Authorization` value for the upstream, when one is configured.
    pub upstream_auth: Option<String>,
}

/// Why the proxy cannot decide (500 `CONFIG_ERROR` / `POLICY_ERROR`); the text is for
/// the log only.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// SSM refused or failed.
    #[error(transparent)]
    Store(#[from] PolicyStoreError),
    /// A configured parameter does not exist.
    #[error("parameter `{0}` does not exist")]
    Missing(String),
    /// The policy does not validate.
    #[error("the proxy policy `{name}` is invalid: {error}")]
    Invalid {
        /// The policy parameter.
        name: String,
        /// Where and why.
        error: policy::PolicyError,
    },
}

/// [`Loaded`] behind a TTL; concurrent misses make one read (the others wait for it).
pub struct Cache<P> {
    source: P,
    policy_parameter: String,
    auth_parameter: Option<String>,
    ttl: Duration,
    slot: Mutex<Option<(Instant, Arc<Loaded>)>>,
}

impl<P: Parameters> Cache<P> {
    /// A cache of `policy_parameter` and `auth_parameter` from `source`; a zero `ttl`
    /// reads them for every request.
    pub fn new(
        source: P,
        policy_parameter: String,
        auth_parameter: Option<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            source,
            policy_parameter,
            auth_parameter,
            ttl,
            slot: Mutex::new(None),
        }
    }

    /// The policy and credential, from the cache while fresh.
    pub async fn get(&self) -> Result<Arc<Loaded>, LoadError> {
        let mut slot = self.slot.lock().await;
        if let Some((at, loaded)) = slot.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(Arc::clone(loaded));
        }
        *slot = None;
        let name = &self.policy_parameter;
        let yaml = self
            .source
            .get(name)
            .await?
            .ok_or_else(|| LoadError::Missing(name.clone()))?;
        let policy = policy::parse_proxy(&yaml).map_err(|error| LoadError::Invalid {
            name: name.clone(),
            error,
        })?;
        let upstream_auth = match &self.auth_parameter {
            None => None,
            Some(name) => Some(
                self.source
                    .get(name)
                    .await?
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| LoadError::Missing(name.clone()))?,
            ),
        };
        let loaded = Arc::new(Loaded {
            policy,
            upstream_auth,
        });
        if !self.ttl.is_zero() {
            *slot = Some((Instant::now(), Arc::clone(&loaded)));
        }
        Ok(loaded)
    }
}

#[cfg(test)]
pub(crate) mod fake {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Parameters in memory; counts reads; can be made to fail.
    #[derive(Default)]
    pub(crate) struct FakeParameters {
        pub(crate) values: StdMutex<HashMap<String, String>>,
        pub(crate) failing: StdMutex<bool>,
        pub(crate) reads: AtomicUsize,
    }

    impl FakeParameters {
        pub(crate) fn with(pairs: &[(&str, &str)]) -> Self {
            let fake = Self::default();
            for (k, v) in pairs {
                fake.set(k, v);
            }
            fake
        }

        pub(crate) fn set(&self, name: &str, value: &str) {
            self.values
                .lock()
                .unwrap()
                .insert(name.to_owned(), value.to_owned());
        }
    }

    impl Parameters for FakeParameters {
        async fn get(&self, name: &str) -> Result<Option<String>, PolicyStoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            if *self.failing.lock().unwrap() {
                return Err(PolicyStoreError::Unavailable {
                    operation: "GetParameters",
                    name: name.to_owned(),
                    detail: "connection refused".into(),
                });
            }
            Ok(self.values.lock().unwrap().get(name).cloned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeParameters;
    use super::*;
    use std::sync::atomic::Ordering;

    const POLICY: &str = "version: \"1\"\nrules:\n  - name: all\n    effect: allow\n";

    #[tokio::test]
    async fn loads_both_caches_them_and_fails_closed() {
        let fake = FakeParameters::with(&[("/p", POLICY), ("/t", " Bearer abc \n")]);
        let cache = Cache::new(
            fake,
            "/p".into(),
            Some("/t".into()),
            Duration::from_secs(60),
        );
        let loaded = cache.get().await.unwrap();
        assert_eq!(loaded.upstream_auth.as_deref(), Some("Bearer abc"));
        assert_eq!(loaded.policy.rules().len(), 1);
        cache.get().await.unwrap();
        assert_eq!(cache.source.reads.load(Ordering::SeqCst), 2, "cached");

        let cold = Cache::new(
            FakeParameters::with(&[("/p", POLICY)]),
            "/p".into(),
            Some("/t".into()),
            Duration::ZERO,
        );
        assert!(matches!(cold.get().await, Err(LoadError::Missing(n)) if n == "/t"));
        *cold.source.failing.lock().unwrap() = true;
        assert!(matches!(cold.get().await, Err(LoadError::Store(_))));
        *cold.source.failing.lock().unwrap() = false;
        cold.source
            .set("/p", "version: \"1\"\nprofile: {}\nrules: []\n");
        assert!(matches!(cold.get().await, Err(LoadError::Invalid { .. })));
    }
}
