//! Adapters from the TVM's ports to AWS: SSM Parameter Store for policies, STS for
//! credentials. The only modules of this crate that import `aws_sdk_*`.

mod ssm;
mod sts;

pub use ssm::SsmPolicySource;
pub use sts::StsIssuer;

use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// An SDK failure, classified: `(access_denied, text for logs)`.
///
/// Some AWS-compatible endpoints answer in a format the SDK cannot read the error
/// code from, so an HTTP 403 also counts as access denied.
fn classify<E>(err: &SdkError<E, HttpResponse>) -> (bool, String)
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
        )
    ) || err
        .raw_response()
        .is_some_and(|r| r.status().as_u16() == 403);
    (denied, DisplayErrorContext(err).to_string())
}
