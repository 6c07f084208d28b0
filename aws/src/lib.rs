//! Sentinel's AWS adapters that more than one binary needs, one per service: the SSM
//! policy store ([`SsmPolicyStore`], used by the TVM to read policies and by the CLI to
//! pull, push and bootstrap them), revocation layer 2's IAM adapter ([`IamRoles`]), the classification of SDK failures ([`classify`]) and
//! the SDK configuration every binary loads, with its timeouts ([`config`]), and the
//! workspace's one HTTP client, the SDK's own connector, for the SDK and for the calls
//! that are not SDK operations ([`https`], feature `https-aws-lc` or `https-ring`). The only
//! crate besides the binaries' own `aws` modules, the stores' DynamoDB adapters and
//! `sentinel-aws-dynamodb` that imports `aws_sdk_*`.
//!
//! The DynamoDB table plumbing the stores share is the package `sentinel-aws-dynamodb`
//! (`aws/dynamodb/`), not a feature here: with `iam` this crate depends on `revocation`,
//! hence on `sessions`, which could then not depend on it.
//!
//! It is not a port: the crates that use these adapters own their traits (the TVM's
//! `PolicySource`; crate `revocation`'s `RoleWriters`) and implement them for these types.

//!
//! Each service adapter is a cargo feature (`ssm`, `iam`), so a binary links only the SDK
//! clients it calls.

pub mod config;
mod error;
#[cfg(feature = "https")]
pub mod https;
#[cfg(feature = "iam")]
mod iam;
#[cfg(feature = "ssm")]
mod ssm;
#[cfg(feature = "sts")]
mod sts;

pub use error::{Failure, FailureKind, classify};
#[cfg(feature = "iam")]
pub use iam::{IamRolePolicies, IamRoles};
#[cfg(feature = "ssm")]
pub use ssm::{PolicyStoreError, SsmPolicyStore, get_parameter};
#[cfg(feature = "sts")]
pub use sts::own_account;
