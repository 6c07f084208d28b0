//! A failed SDK call in one line.

use std::error::Error as StdError;
use std::fmt::Write as _;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::TableError;

/// Describes a failed `operation` on `table` in one line: the service's error code and
/// message, or the transport failure's chain of causes. SDK errors carry no credentials.
///
/// Shorter than `sentinel_aws::classify`'s detail (the SDK's whole error context): this
/// line is what a store's `Unavailable` says to the operator.
pub fn unavailable<E, R>(table: &str, operation: &str, err: &SdkError<E, R>) -> TableError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug,
{
    let mut text = format!("{operation} on table `{table}` failed: ");
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let _ = write!(text, "{}", e.code().unwrap_or("service error"));
            if let Some(message) = e.message() {
                let _ = write!(text, ": {message}");
            }
        }
        other => {
            let _ = write!(text, "{other}");
            let mut source = other.source();
            while let Some(cause) = source {
                let _ = write!(text, ": {cause}");
                source = cause.source();
            }
        }
    }
    TableError::Unavailable(text)
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;

    use super::*;

    fn message(err: &SdkError<GetItemError, ()>) -> String {
        match unavailable("sessions", "GetItem", err) {
            TableError::Unavailable(message) => message,
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[test]
    fn a_service_error_is_its_code_and_message() {
        let metadata = ErrorMetadata::builder()
            .code("ResourceNotFoundException")
            .message("no such table")
            .build();
        let err = SdkError::service_error(GetItemError::generic(metadata), ());
        assert_eq!(
            message(&err),
            "GetItem on table `sessions` failed: ResourceNotFoundException: no such table"
        );
        let bare = SdkError::service_error(GetItemError::generic(ErrorMetadata::default()), ());
        assert_eq!(
            message(&bare),
            "GetItem on table `sessions` failed: service error"
        );
    }

    #[test]
    fn a_transport_error_is_its_chain_of_causes() {
        let err = SdkError::construction_failure(std::io::Error::other("no endpoint"));
        assert_eq!(
            message(&err),
            "GetItem on table `sessions` failed: failed to construct request: no endpoint"
        );
    }
}
