//! The workspace's one JWT verifier (SPEC §10), shared by the TVM's `/exchange` and the
//! authorizer's `jwt` and `cognito` modes.
//!
//! [`Verifier`] holds the trusted [`Issuer`]s and, per issuer, a key cache
//! ([`cache`]): JWKS from the configured URL or OIDC discovery, fresh for the issuer's
//! hint, refetched on an unknown `kid` at most every 10 s, stale for at most an hour
//! while the issuer is down. Signatures are checked by `jsonwebtoken` on aws-lc-rs; this
//! crate decides which key and algorithm may be used and checks the claims (no
//! hand-written signature code).
//!
//! ```
//! use sentinel_jwt::parse_issuers;
//! let issuers = parse_issuers(
//!     r#"[{"issuer": "https://token.actions.githubusercontent.com",
//!          "audiences": ["sentinel"], "algorithms": ["RS256"]}]"#,
//! )
//! .unwrap();
//! assert_eq!(issuers[0].audiences, ["sentinel"]);
//! // An issuer may never allow HMAC: its public key would become a shared secret.
//! assert!(parse_issuers(r#"[{"issuer": "https://a.test", "audiences": ["x"], "algorithms": ["HS256"]}]"#).is_err());
//! ```

pub mod cache;
pub mod fetch;
pub mod issuer;
mod keys;
mod verify;

pub use fetch::{Fetch, Fetched, HttpFetch};
pub use issuer::{Issuer, parse_issuers};
pub use verify::{LEEWAY_SECS, TokenError, Verified, Verifier, in_trust_domain};
