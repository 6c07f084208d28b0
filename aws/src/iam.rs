//! Revocation layer 2's IAM adapter: the inline policies of protected roles
//! ([`IamRolePolicies`]), and which account's IAM writes a role's deny ([`IamRoles`]:
//! this process's own credentials, or a session of the `SentinelRevoker` role in the
//! role's account).

use aws_sdk_iam::Client;
use revocation::{IamError, RolePolicies, RoleWriters};

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::{FailureKind, classify};

/// The inline policies of one account's roles.
#[derive(Debug, Clone)]
pub struct IamRolePolicies {
    client: Client,
}

impl IamRolePolicies {
    /// IAM with the credentials of `config`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }

    /// A missing role is an error. The deployed writers (the TVM's role, SentinelRevoker)
    /// may only Get/Put/DeleteRolePolicy, so a refused GetRole leaves the question open
    /// and the policy counts as absent (a put to a missing role fails anyway).
    async fn role_exists(&self, role: &str) -> Result<(), IamError> {
        match self.client.get_role().role_name(role).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                if classify(&e).kind == FailureKind::AccessDenied {
                    Ok(())
                } else {
                    Err(failed(&format!("GetRole `{role}`"), &e))
                }
            }
        }
    }
}

fn failed<E>(operation: &str, err: &SdkError<E, HttpResponse>) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    kind_of(err)(format!("iam {operation} failed: {}", classify(err).detail))
}

/// A call that may succeed when retried (`pending`): it got no answer (unreachable,
/// timed out, unreadable), or IAM throttled it or failed on its side (5xx). Every other
/// answer needs a fix first (`failed`): access denied, no such role, a policy over the
/// size limit, a malformed document.
fn kind_of<E>(err: &SdkError<E, HttpResponse>) -> fn(String) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let retryable = match err {
        SdkError::ServiceError(context) => {
            classify(err).kind == FailureKind::Unavailable
                && (context.raw().status().as_u16() >= 500
                    || matches!(
                        err.code(),
                        Some(
                            "Throttling"
                                | "ThrottlingException"
                                | "RequestLimitExceeded"
                                | "ServiceFailure"
                                | "ServiceUnavailable"
                        )
                    ))
        }
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    };
    if retryable {
        IamError::unavailable
    } else {
        IamError::refused
    }
}

impl RolePolicies for IamRolePolicies {
    async fn get(&self, role: &str, name: &str) -> Result<Option<String>, IamError> {
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
            Err(e) => Err(failed(&format!("GetRolePolicy `{role}`/`{name}`"), &e)),
        }
    }

    async fn names(&self, role: &str) -> Result<Vec<String>, IamError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let page = self
                .client
                .list_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                // The deployed writers may not list (SentinelRevoker is allowed exactly
                // Get/Put/DeleteRolePolicy): the other policies' size is then unknown, and
                // a deny that no longer fits fails its put visibly (`aws_deny: failed`).
                Err(e) if classify(&e).kind == FailureKind::AccessDenied => return Ok(names),
                Err(e) => {
                    return Err(failed(&format!("ListRolePolicies `{role}`"), &e));
                }
            };
            names.extend(page.policy_names);
            marker = page.marker.filter(|_| page.is_truncated);
            if marker.is_none() {
                return Ok(names);
            }
        }
    }

    async fn put(&self, role: &str, name: &str, document: &str) -> Result<(), IamError> {
        self.client
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed(&format!("PutRolePolicy `{role}`/`{name}`"), &e))
    }

    async fn delete(&self, role: &str, name: &str) -> Result<(), IamError> {
        self.client
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed(&format!("DeleteRolePolicy `{role}`/`{name}`"), &e))
    }
}

/// IAM of every account a protected role lives in: this process's own, or another
/// through its `SentinelRevoker` role (assumed per call, so a revoker deployed a minute
/// ago is used at once).
#[derive(Debug, Clone)]
pub struct IamRoles {
    config: aws_config::SdkConfig,
}

impl IamRoles {
    /// Writers with the credentials of `config`.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            config: config.clone(),
        }
    }
}

impl RoleWriters for IamRoles {
    type Policies = IamRolePolicies;

    fn own(&self) -> IamRolePolicies {
        IamRolePolicies::from_config(&self.config)
    }

    async fn assume(&self, revoker: &str) -> Result<IamRolePolicies, IamError> {
        let out = aws_sdk_sts::Client::new(&self.config)
            .assume_role()
            .role_arn(revoker)
            .role_session_name("sentinel-revoke")
            .send()
            .await
            .map_err(|e| {
                kind_of(&e)(format!(
                    "sts AssumeRole `{revoker}` failed: {}",
                    classify(&e).detail
                ))
            })?;
        let credentials = out.credentials().ok_or_else(|| {
            IamError::unavailable(format!(
                "sts AssumeRole `{revoker}` returned no credentials"
            ))
        })?;
        let session = aws_credential_types::Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            None,
            "sentinel-revoker",
        );
        let config = self
            .config
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(session),
            )
            .build();
        Ok(IamRolePolicies::from_config(&config))
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
