//! Policies in SSM Parameter Store: one `String` (or `SecureString`) parameter per
//! profile at `<root>/<profile>`. The TVM reads through it and the CLI writes through
//! it, so what `sentinel policy push` stores is exactly what the TVM accepts.

use std::collections::BTreeMap;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{Parameter, ParameterTier, ParameterType};
use sentinel_types::{PolicyName, PolicyRoot, ProfileName};

use crate::error::{Failure, FailureKind, classify};

/// Standard parameters hold up to 4 KB; Advanced up to 8 KB.
const STANDARD_LIMIT: usize = 4096;
const ADVANCED_LIMIT: usize = 8192;

/// Why the policy store could not do what was asked. The text is for logs and
/// operators, never for a TVM client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyStoreError {
    /// IAM or KMS refused the call.
    #[error("ssm {operation} `{name}` was refused: {detail}")]
    AccessDenied {
        /// The SSM operation.
        operation: &'static str,
        /// The parameter or path.
        name: String,
        /// The SDK's error chain.
        detail: String,
    },
    /// SSM failed or could not be reached.
    #[error("ssm {operation} `{name}` failed: {detail}")]
    Unavailable {
        /// The SSM operation.
        operation: &'static str,
        /// The parameter or path.
        name: String,
        /// The SDK's error chain.
        detail: String,
    },
    /// A parameter that is not a policy (a `StringList`, or no value).
    #[error("parameter `{name}` {problem}")]
    NotAPolicy {
        /// The parameter.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A policy larger than an SSM parameter holds.
    #[error(
        "the policy `{profile}` is {bytes} bytes; SSM parameters hold at most {ADVANCED_LIMIT}"
    )]
    TooLarge {
        /// The profile, or the admin policy.
        profile: PolicyName,
        /// The document's size.
        bytes: usize,
    },
}

impl PolicyStoreError {
    fn from_sdk(operation: &'static str, name: &str, failure: Failure) -> Self {
        let name = name.to_owned();
        let detail = failure.detail;
        match failure.kind {
            FailureKind::AccessDenied => Self::AccessDenied {
                operation,
                name,
                detail,
            },
            FailureKind::Unavailable => Self::Unavailable {
                operation,
                name,
                detail,
            },
        }
    }

    /// Whether IAM or KMS refused the call (a deployment mistake, not an outage).
    pub fn is_access_denied(&self) -> bool {
        matches!(self, Self::AccessDenied { .. })
    }
}

/// The text of the `String` or `SecureString` parameter `name` (decrypted), or `None`
/// when there is no such parameter: the TVM's policies, `sentinel-proxy`'s policy and
/// upstream credential.
///
/// `GetParameters` (plural) reports a missing name in `InvalidParameters` instead of
/// as an error, which every SSM implementation answers the same way.
pub async fn get_parameter(
    client: &Client,
    name: &str,
) -> Result<Option<String>, PolicyStoreError> {
    let output = client
        .get_parameters()
        .names(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| PolicyStoreError::from_sdk("GetParameters", name, classify(&e)))?;
    output
        .parameters()
        .iter()
        .find(|p| p.name() == Some(name))
        .map(|p| policy_text(name, p))
        .transpose()
}

/// The policies under one root path. Cheap to clone: clones share the SDK client.
#[derive(Debug, Clone)]
pub struct SsmPolicyStore {
    client: Client,
    root: PolicyRoot,
}

impl SsmPolicyStore {
    /// The store under `root`, through `client` (built once by the binary).
    pub fn new(client: Client, root: PolicyRoot) -> Self {
        Self { client, root }
    }

    /// The root path.
    pub fn root(&self) -> &PolicyRoot {
        &self.root
    }

    /// The parameter name of `profile`'s policy.
    pub fn name(&self, profile: &str) -> String {
        self.root.parameter(profile)
    }

    /// The stored policy text, or `None` when there is no parameter.
    ///
    /// `GetParameters` (plural) reports a missing name in `InvalidParameters` instead of
    /// as an error, which every SSM implementation answers the same way.
    pub async fn get(&self, profile: &str) -> Result<Option<String>, PolicyStoreError> {
        get_parameter(&self.client, &self.name(profile)).await
    }

    /// Writes (or overwrites) a policy (a profile's or the admin policy) as a `String`
    /// parameter; over 4 KB it uses the Advanced tier.
    pub async fn put(&self, name: &PolicyName, text: &str) -> Result<(), PolicyStoreError> {
        let parameter = self.name(&name.to_string());
        let tier = tier_for(text).ok_or_else(|| PolicyStoreError::TooLarge {
            profile: name.clone(),
            bytes: text.len(),
        })?;
        let description = match name {
            PolicyName::Admin => "Sentinel admin policy",
            PolicyName::Profile(_) => "Sentinel policy",
        };
        self.client
            .put_parameter()
            .name(&parameter)
            .value(text)
            .r#type(ParameterType::String)
            .tier(tier)
            .overwrite(true)
            .description(description)
            .send()
            .await
            .map_err(|e| PolicyStoreError::from_sdk("PutParameter", &parameter, classify(&e)))?;
        Ok(())
    }

    /// Deletes a policy.
    pub async fn delete(&self, name: &PolicyName) -> Result<(), PolicyStoreError> {
        let parameter = self.name(&name.to_string());
        self.client
            .delete_parameter()
            .name(&parameter)
            .send()
            .await
            .map_err(|e| PolicyStoreError::from_sdk("DeleteParameter", &parameter, classify(&e)))?;
        Ok(())
    }

    /// Every policy directly under the root, by profile (all pages). Parameters whose
    /// last segment is not a valid profile name, and parameters that are not policies
    /// (a `StringList`), are left out: the TVM never serves them, and one stray
    /// parameter must not hide every other profile.
    pub async fn list(&self) -> Result<BTreeMap<ProfileName, String>, PolicyStoreError> {
        let root = self.root.as_str();
        let prefix = format!("{root}/");
        let mut policies = BTreeMap::new();
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(root)
            .recursive(false)
            .with_decryption(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                PolicyStoreError::from_sdk("GetParametersByPath", root, classify(&e))
            })?;
            for parameter in page.parameters() {
                let Some(name) = parameter.name() else {
                    continue;
                };
                let profile = name
                    .strip_prefix(&prefix)
                    .filter(|rest| !rest.contains('/'))
                    .and_then(|rest| ProfileName::parse(rest).ok());
                if let (Some(profile), Ok(text)) = (profile, policy_text(name, parameter)) {
                    policies.insert(profile, text);
                }
            }
        }
        Ok(policies)
    }
}

/// The text of a policy parameter: `String` or `SecureString` with a value.
fn policy_text(name: &str, parameter: &Parameter) -> Result<String, PolicyStoreError> {
    if parameter.r#type() == Some(&ParameterType::StringList) {
        return Err(PolicyStoreError::NotAPolicy {
            name: name.to_owned(),
            problem: "is a StringList; policies are String or SecureString",
        });
    }
    parameter
        .value()
        .map(str::to_owned)
        .ok_or_else(|| PolicyStoreError::NotAPolicy {
            name: name.to_owned(),
            problem: "has no value",
        })
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
    fn large_policies_use_the_advanced_tier() {
        assert_eq!(tier_for(&"a".repeat(4096)), Some(ParameterTier::Standard));
        assert_eq!(tier_for(&"a".repeat(4097)), Some(ParameterTier::Advanced));
        assert_eq!(tier_for(&"a".repeat(8193)), None);
    }

    #[test]
    fn string_lists_and_empty_parameters_are_not_policies() {
        let list = Parameter::builder()
            .r#type(ParameterType::StringList)
            .value("a,b")
            .build();
        assert!(matches!(
            policy_text("/r/p", &list),
            Err(PolicyStoreError::NotAPolicy { .. })
        ));
        let empty = Parameter::builder().r#type(ParameterType::String).build();
        assert!(policy_text("/r/p", &empty).is_err());
        let secure = Parameter::builder()
            .r#type(ParameterType::SecureString)
            .value("version: \"1\"")
            .build();
        assert_eq!(policy_text("/r/p", &secure).unwrap(), "version: \"1\"");
    }
}
