//! `PolicySource` on the shared SSM policy store (crate `sentinel-aws`), so the TVM
//! reads policies exactly as `sentinel policy push` writes them.

use sentinel_aws::{PolicyStoreError, SsmPolicyStore};

use crate::policies::{PolicySource, SourceError};

impl From<PolicyStoreError> for SourceError {
    fn from(e: PolicyStoreError) -> Self {
        if e.is_access_denied() {
            Self::AccessDenied(e.to_string())
        } else {
            Self::Unavailable(e.to_string())
        }
    }
}

impl PolicySource for SsmPolicyStore {
    async fn fetch(&self, profile: &str) -> Result<Option<String>, SourceError> {
        Ok(self.get(profile).await?)
    }

    async fn list(&self) -> Result<Vec<String>, SourceError> {
        let policies = SsmPolicyStore::list(self).await?;
        Ok(policies.into_keys().map(|p| p.to_string()).collect())
    }
}
