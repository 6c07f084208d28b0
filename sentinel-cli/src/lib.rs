//! The engine behind the `sentinel` command line (docs/cli.md): the engineers'
//! commands (`credentials`, `exec`, `proof`, `profiles`, `configure`, `request`,
//! `breakglass`) and the admins' and approvers' (`policy pull|push|diff`, `bootstrap`,
//! `sessions`, `requests`, `approve`, `deny`, `breakglass list|review`).
//!
//! This library is what the `sentinel` binary wires together; it is not an
//! SDK for the TVM and makes no stability promise to other crates. Commands
//! return a [`failure::Failure`] (exit class, one stderr line, optional hint)
//! that `main` turns into the exit code.
//!
//! ```
//! use sentinel_cli::config_file::ConfigFile;
//!
//! let mut file = ConfigFile::parse("# mine\n[default]\nregion = eu-west-1\n");
//! file.upsert("prod", &[("credential_process", "sentinel credentials --profile prod")]);
//! assert_eq!(
//!     file.render(),
//!     "# mine\n[default]\nregion = eu-west-1\n\n[profile prod]\ncredential_process = sentinel credentials --profile prod\n"
//! );
//! ```

pub mod aws;
pub mod bootstrap;
pub mod breakglass_cmd;
pub mod cache;
pub mod cli;
pub mod config_file;
pub mod configure;
pub mod credentials;
pub mod diagnostic;
pub mod endpoint;
pub mod environment;
pub mod exec;
pub mod failure;
pub mod local_tables;
pub mod policy_admin;
pub mod profiles;
pub mod proof;
pub mod recursion;
pub mod requests_cmd;
pub mod sessions_cmd;
pub mod table;
pub mod tvm;
