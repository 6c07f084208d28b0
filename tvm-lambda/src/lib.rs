//! The Sentinel token vending machine (`sentinel-tvm`).
//!
//! For each request: the caller's IAM identity (verified by API Gateway or a Lambda
//! Function URL, or by `serve`'s own SigV4 check) → the profile's policy from SSM
//! (cached) → a decision → `sts:AssumeRole` with SourceIdentity and session tags →
//! a session row in DynamoDB → credential_process JSON (docs/identity.md, docs/api.md, docs/sessions.md).
//!
//! The crate is the [`Service`] (front-door independent, ports as traits), its two
//! front doors ([`lambda`] and [`serve`]), the AWS adapters ([`aws`]) and the
//! settings. It is **not** the policy language (crate `policy`), the wire types
//! (crate `protocol`) nor the session store (crate `sessions`).
//!
//! ```
//! use tvm_lambda::grant::{GrantInput, IssueRequest};
//!
//! // The AssumeRole call for one vend, checked against STS's rules before it is sent.
//! let role = "arn:aws:iam::111122223333:role/SentinelProtected-dev".parse().unwrap();
//! let session = "0123456789abcdef0123456789abcdef".parse().unwrap();
//! let profile = "dev".parse().unwrap();
//! let call = IssueRequest::new(GrantInput {
//!     role_arn: &role,
//!     session_id: &session,
//!     user: "alice",
//!     profile: &profile,
//!     duration_secs: 900,
//!     static_tags: &[],
//!     gate: None,
//! })
//! .unwrap();
//! assert_eq!(call.session_name.as_str(), "sentinel-0123456789abcdef0123456789abcdef");
//! assert_eq!(call.source_identity.as_str(), "sentinel=alice");
//! ```

pub mod audit;
pub mod aws;
pub mod cursor;
pub mod exchange;
#[cfg(any(test, feature = "test-util"))]
pub mod fakes;
pub mod gates;
pub mod grant;
pub mod lambda;
pub mod notify;
pub mod policies;
#[cfg(feature = "serve")]
pub mod serve;
pub mod service;
pub mod settings;

pub use service::{ApiRequest, ApiResponse, IamCaller, Service};
pub use settings::Settings;
