//! `sentinel-proxy`: a signed egress proxy (docs/proxy.md, SPEC §11).
//!
//! An application without a static IP signs each request with SigV4 (service `lambda`)
//! using the IAM credentials it already has; the proxy — a Lambda in a VPC whose NAT
//! gateway's Elastic IP the backend allow-lists, behind a Function URL with AWS_IAM —
//! forwards what its route allow-list and policy admit to the one upstream it is
//! configured with, adding the upstream's credential from SSM and the verified caller.
//!
//! The crate is the front-door-independent [`Proxy`] (ports: [`params::Parameters`],
//! [`upstream::Upstream`]), its two front doors ([`lambda`] and `serve`), and its
//! settings ([`config`]). The caller, the SigV4 check and the server loop are
//! `sentinel-front`'s, the policy language is crate `policy`'s.

pub mod config;
pub mod lambda;
pub mod log;
pub mod params;
#[cfg(feature = "serve")]
pub mod serve;
pub mod service;
pub mod target;
pub mod upstream;

pub use config::Config;
pub use service::{Handled, Incoming, Proxy, Reply};
