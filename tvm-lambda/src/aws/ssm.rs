//! `PolicySource` on SSM Parameter Store: one parameter per profile at `<root>/<profile>`.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::ParameterType;

use super::classify;
use crate::policies::{PolicySource, SourceError};

/// Reads `<root>/<profile>` (String or SecureString) and lists the root.
#[derive(Debug, Clone)]
pub struct SsmPolicySource {
    client: Client,
    root: String,
}

impl SsmPolicySource {
    /// `root` has no trailing `/`.
    pub fn new(client: Client, root: impl Into<String>) -> Self {
        Self {
            client,
            root: root.into(),
        }
    }
}

fn source_error<E>(
    err: &aws_sdk_ssm::error::SdkError<E, aws_sdk_ssm::config::http::HttpResponse>,
) -> SourceError
where
    E: aws_sdk_ssm::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match classify(err) {
        (true, text) => SourceError::AccessDenied(text),
        (false, text) => SourceError::Unavailable(text),
    }
}

impl PolicySource for SsmPolicySource {
    async fn fetch(&self, profile: &str) -> Result<Option<String>, SourceError> {
        let name = format!("{}/{profile}", self.root);
        // GetParameters (plural) reports a missing name in `InvalidParameters` instead of
        // as an error, which every SSM implementation answers the same way.
        let output = self
            .client
            .get_parameters()
            .names(&name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| source_error(&e))?;
        let Some(parameter) = output
            .parameters()
            .iter()
            .find(|p| p.name() == Some(name.as_str()))
        else {
            return Ok(None);
        };
        if parameter.r#type() == Some(&ParameterType::StringList) {
            return Err(SourceError::Unavailable(format!(
                "parameter `{name}` is a StringList; policies are String or SecureString"
            )));
        }
        parameter
            .value()
            .map(|value| Some(value.to_owned()))
            .ok_or_else(|| SourceError::Unavailable(format!("parameter `{name}` has no value")))
    }

    async fn list(&self) -> Result<Vec<String>, SourceError> {
        let prefix = format!("{}/", self.root);
        let mut names = Vec::new();
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(&self.root)
            .recursive(false)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| source_error(&e))?;
            names.extend(
                page.parameters()
                    .iter()
                    .filter_map(|p| p.name()?.strip_prefix(&prefix))
                    .filter(|rest| !rest.contains('/'))
                    .map(str::to_owned),
            );
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}
