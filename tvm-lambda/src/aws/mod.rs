//! Adapters from the TVM's ports to AWS: SSM Parameter Store for policies (on the
//! shared store of crate `sentinel-aws`), STS for credentials. With `sentinel-aws`, the
//! only modules of this crate that import `aws_sdk_*`.

mod ssm;
mod sts;

pub use sts::StsIssuer;
