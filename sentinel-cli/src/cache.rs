//! The on-disk credential cache (docs/cli.md).
//!
//! One file per key in `$XDG_CACHE_HOME/sentinel/` (else `~/.cache/sentinel/`),
//! holding the whole vend response (`exec` needs its `SessionId`). The
//! directory is 0700 and files are created 0600, never widened afterwards.
//! Concurrent invocations for one key take an exclusive lock on a sibling
//! `.lock` file, re-read the cache under it and only then vend, so twenty
//! processes started together make one TVM call.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use protocol::VendResponse;
use sha2::{Digest, Sha256};

use crate::failure::Failure;

/// The cache directory for the given environment values.
pub fn cache_dir(xdg_cache_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    // The XDG spec says relative values are invalid and must be ignored.
    let base = match xdg_cache_home.filter(|p| p.starts_with('/')) {
        Some(xdg) => PathBuf::from(xdg),
        None => PathBuf::from(home.filter(|h| !h.is_empty())?).join(".cache"),
    };
    Some(base.join("sentinel"))
}

/// What identifies one cached credential.
#[derive(Debug, Clone, Copy)]
pub struct CacheKey<'a> {
    /// The TVM base URL as given.
    pub tvm_url: &'a str,
    /// The Sentinel profile.
    pub profile: &'a str,
    /// The AWS profile that signs, if any (different callers, different grants).
    pub source_profile: Option<&'a str>,
    /// Who signs when no source profile is given (see `Environment::signer`): two
    /// signers never share an entry.
    pub signer: &'a str,
    /// The requested duration, if any.
    pub duration: Option<u32>,
}

impl CacheKey<'_> {
    /// sha256 over the parts, NUL-separated so that no two keys collide.
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.tvm_url,
            self.profile,
            self.source_profile.unwrap_or(""),
            self.signer,
            &self.duration.map(|d| d.to_string()).unwrap_or_default(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hex::encode(hash.finalize())
    }
}

/// The cache directory, checked and ready.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
}

/// Held while a process vends for a key; dropping it unlocks.
#[derive(Debug)]
pub struct KeyLock {
    _file: File,
}

impl Cache {
    /// Creates the directory (0700) if needed and checks it is ours and private.
    pub fn open(dir: PathBuf) -> Result<Self, Failure> {
        let fail = |e: io::Error| {
            Failure::error(format!(
                "cannot use the credential cache `{}`: {e}",
                dir.display()
            ))
            .with_hint("set XDG_CACHE_HOME to a writable directory, or pass --no-cache")
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(fail)?;
        let meta = fs::symlink_metadata(&dir).map_err(fail)?;
        // SECURITY: the files hold live credentials; a directory someone else
        // owns (or a symlink to one) could be read or pre-seeded by them.
        if !meta.is_dir() || meta.uid() != rustix::process::getuid().as_raw() {
            return Err(fail(io::Error::other(
                "it is not a directory owned by the current user",
            )));
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(fail)?;
        }
        Ok(Self { dir })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The cached response for `key` when it is for `profile` and more than
    /// `window` remains. A missing, unreadable or corrupt file is a miss.
    pub fn read_fresh(
        &self,
        key: &str,
        profile: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Option<VendResponse> {
        let raw = fs::read(self.entry(key)).ok()?;
        let cached: VendResponse = serde_json::from_slice(&raw).ok()?;
        let usable = cached.profile == profile && cached.expiration - now > window;
        usable.then_some(cached)
    }

    /// Blocks until this process holds the key's lock.
    pub fn lock(&self, key: &str) -> Result<KeyLock, Failure> {
        let path = self.dir.join(format!("{key}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .and_then(|file| file.lock().map(|()| file))
            .map_err(|e| {
                Failure::error(format!(
                    "cannot lock the credential cache `{}`: {e}",
                    path.display()
                ))
            })?;
        Ok(KeyLock { _file: file })
    }

    /// Writes the response for `key` atomically (temporary file, then rename).
    pub fn store(&self, key: &str, vended: &VendResponse) -> Result<(), Failure> {
        let target = self.entry(key);
        let temp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let result = write_private(&temp, vended).and_then(|()| fs::rename(&temp, &target));
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map_err(|e| {
            Failure::error(format!(
                "cannot write the credential cache `{}`: {e}",
                target.display()
            ))
        })
    }
}

fn write_private(path: &Path, vended: &VendResponse) -> io::Result<()> {
    let body = serde_json::to_vec(vended).map_err(io::Error::other)?;
    // SECURITY: created 0600 from the start, so the secret is never readable by others.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(&body)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn vended(profile: &str, expiration: DateTime<Utc>) -> VendResponse {
        VendResponse::new(
            protocol::Credentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: "secret".into(),
                session_token: "token".into(),
                expiration,
            },
            protocol::VendedSession {
                session_id: "0123456789abcdef0123456789abcdef".parse().unwrap(),
                source_identity: "sentinel=alice".parse().unwrap(),
                profile: profile.parse().unwrap(),
                role_arn: "arn:aws:iam::111122223333:role/R".parse().unwrap(),
            },
        )
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
    }

    #[test]
    fn directory_is_0700_and_files_are_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested/sentinel");
        let cache = Cache::open(dir.clone()).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        cache
            .store("k", &vended("prod", now() + Duration::hours(1)))
            .unwrap();
        assert_eq!(
            fs::metadata(dir.join("k.json")).unwrap().mode() & 0o777,
            0o600
        );
        drop(cache.lock("k").unwrap());
        assert_eq!(
            fs::metadata(dir.join("k.lock")).unwrap().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn a_too_open_directory_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("open");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Cache::open(dir.clone()).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn entries_are_reused_only_while_more_than_the_window_remains() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::open(tmp.path().join("c")).unwrap();
        let window = Duration::minutes(5);
        cache
            .store("k", &vended("prod", now() + Duration::minutes(6)))
            .unwrap();
        assert!(cache.read_fresh("k", "prod", now(), window).is_some());
        assert!(
            cache
                .read_fresh("k", "prod", now() + Duration::minutes(1), window)
                .is_none()
        );
        assert!(cache.read_fresh("k", "other", now(), window).is_none());
        assert!(cache.read_fresh("missing", "prod", now(), window).is_none());
    }

    #[test]
    fn a_corrupt_file_is_a_miss_and_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::open(tmp.path().join("c")).unwrap();
        fs::write(cache.dir().join("k.json"), b"{not json").unwrap();
        assert!(
            cache
                .read_fresh("k", "prod", now(), Duration::zero())
                .is_none()
        );
        cache
            .store("k", &vended("prod", now() + Duration::hours(1)))
            .unwrap();
        assert!(
            cache
                .read_fresh("k", "prod", now(), Duration::zero())
                .is_some()
        );
    }

    #[test]
    fn keys_separate_every_part() {
        let base = CacheKey {
            tvm_url: "https://t",
            profile: "prod",
            source_profile: None,
            signer: "AWS_PROFILE=a",
            duration: None,
        };
        let variants = [
            CacheKey {
                profile: "dev",
                ..base
            },
            CacheKey {
                source_profile: Some("x"),
                ..base
            },
            CacheKey {
                signer: "AWS_PROFILE=b",
                ..base
            },
            CacheKey {
                duration: Some(900),
                ..base
            },
            CacheKey {
                tvm_url: "https://u",
                ..base
            },
        ];
        for other in variants {
            assert_ne!(base.digest(), other.digest(), "{other:?}");
        }
        assert_eq!(base.digest(), base.digest());
        assert_eq!(base.digest().len(), 64);
    }

    #[test]
    fn cache_dir_prefers_an_absolute_xdg_cache_home() {
        assert_eq!(
            cache_dir(Some("/x"), Some("/home/a")),
            Some(PathBuf::from("/x/sentinel"))
        );
        assert_eq!(
            cache_dir(Some("rel"), Some("/home/a")),
            Some(PathBuf::from("/home/a/.cache/sentinel"))
        );
        assert_eq!(cache_dir(None, None), None);
    }
}
