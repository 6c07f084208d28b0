//! New session identifiers, drawn from the operating system's CSPRNG.

use sentinel_types::SESSION_ID_BYTES;
use sentinel_types::SessionId;

use crate::StoreError;

/// A fresh session id: 128 random bits from the operating system's random number generator.
pub fn new_session_id() -> Result<SessionId, StoreError> {
    let mut bytes = [0u8; SESSION_ID_BYTES];
    // SECURITY: session ids are unguessable only because they come from the OS CSPRNG;
    // a failure is an error, never a fallback to a weaker source.
    getrandom::fill(&mut bytes).map_err(StoreError::Random)?;
    Ok(SessionId::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_well_formed_and_distinct() {
        let a = new_session_id().unwrap();
        let b = new_session_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(a.as_str()).unwrap(), a);
    }
}
