//! The ports layer 2 writes through: the inline policies of one account's roles
//! ([`RolePolicies`]), and which account's IAM to use for a role ([`RoleWriters`]).
//! The IAM adapter is `sentinel_aws::IamRoles`; [`InMemoryIam`] (feature `test-util`) is
//! the fake.

use std::future::Future;

use sentinel_types::RoleArn;

/// An IAM call failed. The message names the operation, the role and the policy, and
/// carries the SDK's error chain; never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IamError {
    /// What failed and why.
    pub message: String,
    /// IAM (or STS) refused: a permission or a deployment is missing, and retrying will
    /// not help until someone fixes it. `false`: unreachable, throttled, timed out.
    pub refused: bool,
}

impl IamError {
    /// IAM said no (access denied, no such role): a human must fix something.
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            refused: true,
        }
    }

    /// IAM could not be asked (unreachable, throttled, timed out): a retry may succeed.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            refused: false,
        }
    }
}

/// The inline policies of the roles of one account.
pub trait RolePolicies: Send + Sync {
    /// The policy document (decoded), or `None` when the role has no such policy. A
    /// missing role is an error, not `None`.
    fn get(
        &self,
        role: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, IamError>> + Send;

    /// The names of every inline policy of `role` (all pages).
    fn names(&self, role: &str) -> impl Future<Output = Result<Vec<String>, IamError>> + Send;

    /// Creates or replaces the inline policy.
    fn put(
        &self,
        role: &str,
        name: &str,
        document: &str,
    ) -> impl Future<Output = Result<(), IamError>> + Send;

    /// Deletes the inline policy.
    fn delete(&self, role: &str, name: &str) -> impl Future<Output = Result<(), IamError>> + Send;
}

/// Where each protected role's deny is written: IAM of the writer's own account, or of
/// another account through the revoker role deployed there. Which account is the
/// writer's own is the caller's to say (the TVM knows the account it runs in).
pub trait RoleWriters: Send + Sync {
    /// The IAM of one account.
    type Policies: RolePolicies;

    /// IAM with the writer's own credentials.
    fn own(&self) -> Self::Policies;

    /// IAM with a session of `revoker` (a role in another account).
    fn assume(
        &self,
        revoker: &str,
    ) -> impl Future<Output = Result<Self::Policies, IamError>> + Send;
}

/// `arn:<partition>:iam::<account>:role/SentinelRevoker`: the role deploy/protected-role.yaml
/// creates beside a protected role in another account, trusted only by the TVM.
pub fn revoker_arn(role: &RoleArn) -> String {
    format!(
        "arn:{}:iam::{}:role/SentinelRevoker",
        role.partition(),
        role.account()
    )
}

#[cfg(any(test, feature = "test-util"))]
pub use fake::InMemoryIam;

#[cfg(any(test, feature = "test-util"))]
mod fake {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::{Arc, Mutex, PoisonError};

    use super::{IamError, RolePolicies, RoleWriters};
    use sentinel_types::AccountId;

    #[derive(Debug, Default)]
    struct Inner {
        /// (account, role name, policy name) -> document.
        policies: BTreeMap<(String, String, String), String>,
        /// Accounts whose `SentinelRevoker` can be assumed.
        revokers: BTreeSet<String>,
        /// Every call fails with this error while set.
        failing: Option<IamError>,
    }

    /// IAM of several accounts in memory. Every role exists; [`RoleWriters::own`] is the
    /// account given at construction, other accounts are reachable once
    /// [`InMemoryIam::deploy_revoker`] names them.
    #[derive(Debug, Clone)]
    pub struct InMemoryIam {
        inner: Arc<Mutex<Inner>>,
        account: String,
    }

    impl InMemoryIam {
        /// IAM whose own account is `own`.
        pub fn new(own: &AccountId) -> Self {
            Self {
                inner: Arc::default(),
                account: own.to_string(),
            }
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
            self.inner.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// Lets [`RoleWriters::assume`] reach `account`.
        pub fn deploy_revoker(&self, account: &str) {
            self.lock().revokers.insert(account.to_owned());
        }

        /// While `Some`, every call fails with this error.
        pub fn fail_with(&self, failure: Option<IamError>) {
            self.lock().failing = failure;
        }

        /// The document of `account`'s role `role`, policy `name`.
        pub fn policy(&self, account: &str, role: &str, name: &str) -> Option<String> {
            self.lock()
                .policies
                .get(&(account.to_owned(), role.to_owned(), name.to_owned()))
                .cloned()
        }

        fn check(&self) -> Result<(), IamError> {
            match &self.lock().failing {
                Some(failure) => Err(failure.clone()),
                None => Ok(()),
            }
        }

        fn key(&self, role: &str, name: &str) -> (String, String, String) {
            (self.account.clone(), role.to_owned(), name.to_owned())
        }
    }

    impl RolePolicies for InMemoryIam {
        async fn get(&self, role: &str, name: &str) -> Result<Option<String>, IamError> {
            self.check()?;
            Ok(self.lock().policies.get(&self.key(role, name)).cloned())
        }

        async fn names(&self, role: &str) -> Result<Vec<String>, IamError> {
            self.check()?;
            Ok(self
                .lock()
                .policies
                .keys()
                .filter(|(account, r, _)| *account == self.account && r == role)
                .map(|(_, _, name)| name.clone())
                .collect())
        }

        async fn put(&self, role: &str, name: &str, document: &str) -> Result<(), IamError> {
            self.check()?;
            let key = self.key(role, name);
            self.lock().policies.insert(key, document.to_owned());
            Ok(())
        }

        async fn delete(&self, role: &str, name: &str) -> Result<(), IamError> {
            self.check()?;
            let key = self.key(role, name);
            self.lock().policies.remove(&key);
            Ok(())
        }
    }

    impl RoleWriters for InMemoryIam {
        type Policies = InMemoryIam;

        fn own(&self) -> InMemoryIam {
            self.clone()
        }

        async fn assume(&self, revoker: &str) -> Result<InMemoryIam, IamError> {
            self.check()?;
            let account = revoker.split(':').nth(4).unwrap_or_default().to_owned();
            if !self.lock().revokers.contains(&account) {
                return Err(IamError::refused(format!(
                    "sts AssumeRole `{revoker}` failed: no such role"
                )));
            }
            Ok(InMemoryIam {
                inner: Arc::clone(&self.inner),
                account,
            })
        }
    }
}
