//! What went wrong in an AWS call, in two kinds an operator acts on differently.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Whether a failed call was refused (fix IAM or KMS) or simply failed (retry, check
/// the network or the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// IAM, KMS or the signature said no: a deployment mistake, not an outage.
    AccessDenied,
    /// Anything else: unreachable, throttled, timed out, an unexpected answer.
    Unavailable,
}

/// A classified SDK failure: the kind and the SDK's whole error chain, for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Refused or failed.
    pub kind: FailureKind,
    /// The SDK's error with its causes (`DisplayErrorContext`); never for clients.
    pub detail: String,
}

/// Classifies an SDK failure from any service's client.
///
/// Some AWS-compatible endpoints answer in a format the SDK cannot read the error
/// code from, so an HTTP 403 also counts as access denied.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let denied = matches!(
        err.code(),
        Some(
            "AccessDenied"
                | "AccessDeniedException"
                | "KMSAccessDeniedException"
                | "UnrecognizedClientException"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
        )
    ) || err
        .raw_response()
        .is_some_and(|r| r.status().as_u16() == 403);
    Failure {
        kind: if denied {
            FailureKind::AccessDenied
        } else {
            FailureKind::Unavailable
        },
        detail: DisplayErrorContext(err).to_string(),
    }
}
