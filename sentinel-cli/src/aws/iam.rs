//! Inline policies of protected roles (revocation layer 2).

use aws_sdk_iam::Client;

use super::sdk_failure;
use crate::failure::Failure;
use crate::revocation::counted_chars;

/// The inline policies of IAM roles.
#[derive(Debug, Clone)]
pub struct RolePolicies {
    client: Client,
}

impl RolePolicies {
    /// A client built from `config`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }

    /// The policy document (decoded), or `None` when the role has no such policy.
    pub async fn get(&self, role: &str, name: &str) -> Result<Option<String>, Failure> {
        match self
            .client
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(Some(decode_document(&out.policy_document))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                // Distinguish a missing policy from a missing role.
                self.role_exists(role).await?;
                Ok(None)
            }
            Err(e) => Err(sdk_failure(
                &format!("iam GetRolePolicy `{role}`/`{name}`"),
                &e,
            )),
        }
    }

    async fn role_exists(&self, role: &str) -> Result<(), Failure> {
        self.client
            .get_role()
            .role_name(role)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_failure(&format!("iam GetRole `{role}`"), &e))
    }

    /// Characters counted by IAM for every inline policy of `role` except `except`.
    pub async fn others_chars(&self, role: &str, except: &str) -> Result<usize, Failure> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let page = self
                .client
                .list_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| sdk_failure(&format!("iam ListRolePolicies `{role}`"), &e))?;
            names.extend(page.policy_names);
            marker = page.marker.filter(|_| page.is_truncated);
            if marker.is_none() {
                break;
            }
        }
        let mut total = 0;
        for name in names.iter().filter(|n| n.as_str() != except) {
            if let Some(document) = self.get(role, name).await? {
                total += counted_chars(&document);
            }
        }
        Ok(total)
    }

    /// Creates or replaces the inline policy.
    pub async fn put(&self, role: &str, name: &str, document: &str) -> Result<(), Failure> {
        self.client
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_failure(&format!("iam PutRolePolicy `{role}`/`{name}`"), &e))
    }

    /// Deletes the inline policy.
    pub async fn delete(&self, role: &str, name: &str) -> Result<(), Failure> {
        self.client
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_failure(&format!("iam DeleteRolePolicy `{role}`/`{name}`"), &e))
    }
}

/// IAM returns policy documents URL-encoded (RFC 3986); some stand-ins do not.
/// A `%` not followed by two hex digits stays as it is.
fn decode_document(raw: &str) -> String {
    if raw.trim_start().starts_with('{') {
        return raw.to_owned();
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_decoded_when_encoded() {
        assert_eq!(decode_document("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(decode_document("{\"a\":\"%41\"}"), "{\"a\":\"%41\"}");
        assert_eq!(decode_document("%7Bbad%zz"), "{bad%zz");
    }
}
