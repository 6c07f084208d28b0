mod lambda_binaries;
mod sessions;
mod tvm;
