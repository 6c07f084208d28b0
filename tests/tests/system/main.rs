mod cli_admin;
mod cli_e2e;
mod downstream;
mod lambda_binaries;
mod proof;
mod serve_bounds;
mod sessions;
mod tvm;
