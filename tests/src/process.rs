//! A local server process started for one test and stopped with it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::HarnessError;

/// Runs the server as a child of a small bash guard that holds our end of a pipe on its
/// stdin. When the pipe closes, because the test dropped the handle or because the test
/// process died (even by SIGKILL, where no destructor runs), the guard kills the server.
/// So no server outlives its test. The guard also exits when the server dies on its own,
/// which is how an early exit (a port taken meanwhile) is noticed.
const GUARD: &str = r#"
"$@" </dev/null &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
    read -r -t 1 _ignored
    rc=$?
    # 0: a line (ignored); >128: timeout; anything else: end of input, the test is gone.
    if [ "$rc" -ne 0 ] && [ "$rc" -le 128 ]; then
        kill -KILL "$pid" 2>/dev/null
        break
    fi
done
wait "$pid"
"#;

/// How long a stopped server may take to exit before its guard is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a server's output an error message quotes (the end of it).
const LOG_TAIL_BYTES: u64 = 8 * 1024;

/// What to run and how long to wait for it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Launch<'a> {
    /// Names the server in errors and its log file.
    pub(crate) name: &'static str,
    pub(crate) program: &'a Path,
    pub(crate) args: &'a [String],
    pub(crate) cwd: Option<&'a Path>,
    pub(crate) envs: &'a [(&'a str, &'a str)],
    /// The loopback port the server is told to listen on.
    pub(crate) port: u16,
    /// How long it may take to answer its first request.
    pub(crate) timeout: Duration,
}

/// A server listening on a loopback port, with its output in a log file.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    name: &'static str,
    port: u16,
    guard: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `launch` under the guard, logging to a file in `dir`, and waits until
    /// `127.0.0.1:port` answers HTTP.
    pub(crate) fn start(launch: &Launch<'_>, dir: &TempDir) -> Result<Self, HarnessError> {
        let Launch {
            name,
            program,
            args,
            cwd,
            envs,
            port,
            timeout,
        } = *launch;
        let log = dir.path().join(format!("{name}-{port}.log"));
        let out = File::create(&log)
            .map_err(|e| HarnessError::Io(format!("creating {}: {e}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(|e| HarnessError::Io(format!("duplicating a file handle: {e}")))?;
        let mut command = Command::new("bash");
        command
            .arg("-c")
            .arg(GUARD)
            .arg(format!("{name}-guard"))
            .arg(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err);
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        let mut guard = command.spawn().map_err(|source| HarnessError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
        let stdin = guard.stdin.take();
        let mut server = Self {
            name,
            port,
            guard,
            stdin,
            log,
        };
        server.wait_ready(timeout)?;
        Ok(server)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), HarnessError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.guard.try_wait() {
                return Err(HarnessError::Exited {
                    server: self.name,
                    status: status.to_string(),
                    log: self.log_tail(),
                });
            }
            if crate::http::status(addr, "GET", "/", Duration::from_secs(2)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::NotReady {
                    server: self.name,
                    port: self.port,
                    seconds: timeout.as_secs(),
                    log: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The end of the server's output, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)));
            let mut bytes = Vec::new();
            let _ = file.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        if text.trim().is_empty() {
            "(no output)".into()
        } else {
            text
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Closing the guard's stdin makes it kill the server and reap it.
        drop(self.stdin.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match self.guard.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        let _ = self.guard.kill();
        let _ = self.guard.wait();
    }
}
