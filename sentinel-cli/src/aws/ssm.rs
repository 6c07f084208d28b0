//! Policies in SSM Parameter Store: one String parameter per profile at `<root>/<profile>`.

use std::collections::BTreeMap;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};

use super::sdk_failure;
use crate::failure::Failure;

/// Standard parameters hold up to 4 KB; Advanced up to 8 KB.
const STANDARD_LIMIT: usize = 4096;
const ADVANCED_LIMIT: usize = 8192;

/// The policies under one root path.
#[derive(Debug, Clone)]
pub struct SsmPolicies {
    client: Client,
    root: String,
}

impl SsmPolicies {
    /// Policies under `root`, with a client built from `config`.
    pub fn from_config(config: &aws_config::SdkConfig, root: &str) -> Self {
        Self::new(Client::new(config), root)
    }

    /// Policies under `root` (a trailing `/` is ignored).
    pub fn new(client: Client, root: &str) -> Self {
        Self {
            client,
            root: normalise_root(root),
        }
    }

    /// The root path, without a trailing `/`.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The parameter name of `profile`'s policy.
    pub fn name(&self, profile: &str) -> String {
        format!("{}/{profile}", self.root)
    }

    /// The stored policy text, or `None` when there is no parameter.
    pub async fn get(&self, profile: &str) -> Result<Option<String>, Failure> {
        let name = self.name(profile);
        match self
            .client
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => Ok(out.parameter.and_then(|p| p.value)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                Ok(None)
            }
            Err(e) => Err(sdk_failure(&format!("ssm GetParameter `{name}`"), &e)),
        }
    }

    /// Writes (or overwrites) `profile`'s policy. Over 4 KB uses the Advanced tier.
    pub async fn put(&self, profile: &str, text: &str) -> Result<(), Failure> {
        let name = self.name(profile);
        let tier = tier_for(text).ok_or_else(|| {
            Failure::invalid(format!(
                "the policy for `{profile}` is {} bytes; SSM parameters hold at most {ADVANCED_LIMIT}",
                text.len()
            ))
        })?;
        self.client
            .put_parameter()
            .name(&name)
            .value(text)
            .r#type(ParameterType::String)
            .tier(tier)
            .overwrite(true)
            .description("Sentinel policy")
            .send()
            .await
            .map_err(|e| sdk_failure(&format!("ssm PutParameter `{name}`"), &e))?;
        Ok(())
    }

    /// Deletes `profile`'s policy.
    pub async fn delete(&self, profile: &str) -> Result<(), Failure> {
        let name = self.name(profile);
        self.client
            .delete_parameter()
            .name(&name)
            .send()
            .await
            .map_err(|e| sdk_failure(&format!("ssm DeleteParameter `{name}`"), &e))?;
        Ok(())
    }

    /// Every policy directly under the root, by profile name (all pages).
    pub async fn list(&self) -> Result<BTreeMap<String, String>, Failure> {
        let mut policies = BTreeMap::new();
        let mut next_token = None;
        loop {
            let page = self
                .client
                .get_parameters_by_path()
                .path(&self.root)
                .recursive(false)
                .with_decryption(true)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| {
                    sdk_failure(&format!("ssm GetParametersByPath `{}`", self.root), &e)
                })?;
            for parameter in page.parameters.unwrap_or_default() {
                let profile = parameter
                    .name
                    .as_deref()
                    .and_then(|n| n.strip_prefix(&self.root))
                    .and_then(|n| n.strip_prefix('/'))
                    .filter(|n| !n.is_empty() && !n.contains('/'));
                if let (Some(profile), Some(value)) = (profile, parameter.value) {
                    policies.insert(profile.to_owned(), value);
                }
            }
            next_token = page.next_token.filter(|t| !t.is_empty());
            if next_token.is_none() {
                return Ok(policies);
            }
        }
    }
}

fn normalise_root(root: &str) -> String {
    let trimmed = root.trim_end_matches('/');
    if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    }
}

fn tier_for(text: &str) -> Option<ParameterTier> {
    match text.len() {
        n if n <= STANDARD_LIMIT => Some(ParameterTier::Standard),
        n if n <= ADVANCED_LIMIT => Some(ParameterTier::Advanced),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_absolute_without_a_trailing_slash() {
        assert_eq!(normalise_root("/sentinel/policies/"), "/sentinel/policies");
        assert_eq!(normalise_root("sentinel"), "/sentinel");
        assert_eq!(normalise_root("/a"), "/a");
    }

    #[test]
    fn large_policies_use_the_advanced_tier() {
        assert_eq!(tier_for(&"a".repeat(4096)), Some(ParameterTier::Standard));
        assert_eq!(tier_for(&"a".repeat(4097)), Some(ParameterTier::Advanced));
        assert_eq!(tier_for(&"a".repeat(8193)), None);
    }
}
