//! What Sentinel's HTTP binaries (`sentinel-tvm`, `sentinel-proxy`) share at their front
//! door: the caller AWS verified ([`IamCaller`]), read from a Lambda event
//! ([`lambda`], feature `lambda`), or, for local use, checked by the workspace's one
//! SigV4 verifier ([`sigv4`]) and served by one bounded HTTP/1.1 loop ([`server`]),
//! both behind feature `serve` so Lambda builds link neither.
//!
//! It is not a service: what a request means belongs to each binary.

#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "serve")]
pub mod server;
#[cfg(feature = "serve")]
pub mod sigv4;

/// The identity AWS verified (`requestContext.authorizer.iam`, or a local SigV4 check).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamCaller {
    pub user_arn: Option<String>,
    pub account_id: Option<String>,
    pub principal_org_id: Option<String>,
    pub user_id: Option<String>,
    pub access_key: Option<String>,
}
