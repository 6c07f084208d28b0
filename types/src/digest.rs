//! Short content digests: a stable name for a piece of text that is not worth storing
//! whole, to tell later whether it changed.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The first 8 bytes of the SHA-256 of `text`, as 16 lowercase hex digits.
///
/// ```
/// let a = sentinel_types::short_digest("users: [dave]");
/// assert_eq!(a.len(), 16);
/// assert_eq!(a, sentinel_types::short_digest("users: [dave]"));
/// assert_ne!(a, sentinel_types::short_digest("users: [erin]"));
/// ```
pub fn short_digest(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(16);
    for byte in digest.iter().take(8) {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
