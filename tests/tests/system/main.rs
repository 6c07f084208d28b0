mod cli_admin;
mod cli_e2e;
mod downstream;
mod lambda_binaries;
mod proof;
mod sessions;
mod tvm;
