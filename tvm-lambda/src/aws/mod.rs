//! Adapters from the TVM's ports to AWS: SSM Parameter Store for policies, STS for
//! credentials. The only modules of this crate that import `aws_sdk_*`.

mod ssm;
mod sts;

pub use ssm::SsmPolicySource;
pub use sts::StsIssuer;

use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// An SDK failure, classified: `(access_denied, text for logs)`.
fn classify<E, R>(err: &SdkError<E, R>) -> (bool, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let denied = matches!(
        err.code(),
        Some("AccessDenied" | "AccessDeniedException" | "KMSAccessDeniedException" | "UnrecognizedClientException")
    );
    (denied, DisplayErrorContext(err).to_string())
}
