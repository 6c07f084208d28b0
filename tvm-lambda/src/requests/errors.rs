//! The API errors of failures behind `/requests`: the request store, a listing cursor, a
//! transition refused by the request's state.

use approvals::{Conflict, StoreError};
use protocol::ErrorCode;

use crate::cursor::CursorError;
use crate::service::ApiError;

/// A request store failure: the client's when it is about the request, else 500.
pub(in crate::service) fn gate_store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound(ref id) => {
            ApiError::new(ErrorCode::NotFound, format!("no request or event `{id}`"))
        }
        StoreError::Conflict(conflict) => conflict_error(&conflict),
        StoreError::InvalidQuery(_) => ApiError::new(ErrorCode::InvalidRequest, error.to_string()),
        StoreError::Stale(_) => ApiError::new(
            ErrorCode::RequestConflict,
            "the request kept changing while this was written; try again",
        ),
        other => ApiError::new(
            ErrorCode::SessionStoreError,
            "the approval or break-glass table could not be read or written",
        )
        .with_cause(&other),
    }
}

/// A `next` that is not one this TVM sealed for the caller is 400; a cursor key that
/// cannot be read is the table's failure.
pub(in crate::service) fn cursor_error(error: CursorError) -> ApiError {
    match error {
        CursorError::Invalid => ApiError::new(ErrorCode::InvalidRequest, error.to_string()),
        CursorError::Key(store) => gate_store_error(store),
        CursorError::Seal => ApiError::new(ErrorCode::SessionStoreError, error.to_string()),
    }
}

pub(super) fn conflict_error(conflict: &Conflict) -> ApiError {
    ApiError::new(
        ErrorCode::RequestConflict,
        format!(
            "request `{}` is {}: {}",
            conflict.id, conflict.status, conflict.why
        ),
    )
}
