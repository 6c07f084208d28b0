//! Revocation layer 2 (docs/sessions.md): the inline policy `sentinel-revoked-sessions`
//! on a protected role, denying every AWS call of the revoked, unexpired sessions of that
//! role.
//!
//! The crate holds the pure document builder ([`document`]), the ports layer 2 writes
//! through ([`RolePolicies`] for one account's IAM, [`RoleWriters`] for which account)
//! and the orchestration ([`deny_on_roles`], [`reconcile`]): each role's deny is rebuilt
//! from the session table under a per-role lease, written, read back and recorded on the
//! rows (`aws_deny`). The TVM's admin API is its caller; the IAM adapter is
//! `sentinel_aws::IamRoles`, and with the `test-util` feature [`InMemoryIam`] is the fake.
//!
//! It is not the session table (crate `sessions`) and it does not decide who may revoke
//! (the admin policy, crate `policy`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use chrono::{TimeDelta, Utc};
//! use revocation::document::{DenyPolicy, ExistingDeny, RevokedSession, build};
//!
//! let now = Utc::now();
//! let revoked = [RevokedSession {
//!     id: "3f9a0c1b2d3e4f5061728394a5b6c7d8".into(),
//!     issued_at: now - TimeDelta::minutes(5),
//!     expires_at: now + TimeDelta::minutes(55),
//! }];
//! let DenyPolicy::Document { json, fallback } = build(&ExistingDeny::default(), &revoked, 0, now)
//! else { unreachable!() };
//! assert!(json.contains("3f9a0c1b2d3e4f5061728394a5b6c7d8") && !fallback);
//! # }
//! ```

pub mod document;
mod layer;
mod roles;

pub use document::POLICY_NAME;
pub use layer::{RevocationError, RoleOutcome, deny_on_roles, reconcile};
#[cfg(any(test, feature = "test-util"))]
pub use roles::InMemoryIam;
pub use roles::{IamError, RolePolicies, RoleWriters, revoker_arn};
