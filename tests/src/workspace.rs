//! Where things are in the checkout: the workspace root, built binaries, free ports.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

/// The workspace root (the folder holding the virtual `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The path of the workspace binary `name` in the same target folder and profile as the
/// running test (`target/debug/NAME` normally). The binary is not built here, and cargo
/// builds a package's binaries only for that package's own integration tests:
/// `scripts/test.sh` runs `cargo build --workspace --all-targets` before the tests.
pub fn cargo_bin(name: &str) -> PathBuf {
    // A test binary lives in `<target>/<profile>/deps/`; its binaries one folder up.
    let profile_dir = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        (deps.file_name()? == "deps")
            .then(|| deps.parent().map(Path::to_path_buf))
            .flatten()
    });
    profile_dir
        .unwrap_or_else(|| workspace_root().join("target").join("debug"))
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A loopback TCP port that was free a moment ago: bound to port 0, then released. Another
/// process may take it before the caller binds it, so servers started on it are retried.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}
