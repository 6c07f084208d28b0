//! `sentinel configure`: points an AWS profile's `credential_process` at sentinel.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sentinel_types::ProfileName;

use crate::config_file::{ConfigFile, config_path};
use crate::credentials::{Target, TvmOptions};
use crate::environment::Environment;
use crate::failure::Failure;
use crate::tvm;

/// `sentinel configure` arguments (`--tvm-url`, `--source-profile` and
/// `--region` are the global options).
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigureArgs {
    /// AWS profile to add or update; also the Sentinel profile it vends for
    #[arg(long, value_name = "PROFILE")]
    pub profile: String,
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The file did not exist.
    Created,
    /// The file was rewritten.
    Updated,
    /// The file already said this.
    Unchanged,
}

/// Runs `sentinel configure`, reporting on stderr.
pub fn run(args: &ConfigureArgs, options: &TvmOptions, env: &Environment) -> Result<(), Failure> {
    let exe = std::env::current_exe()
        .and_then(fs::canonicalize)
        .map_err(|e| Failure::error(format!("cannot tell where this sentinel binary is: {e}")))?;
    let path =
        config_path(env.aws_config_file.as_deref(), env.home.as_deref()).ok_or_else(|| {
            Failure::error(
                "cannot find the aws config file: neither AWS_CONFIG_FILE nor HOME is set",
            )
        })?;
    let pairs = settings(args, options, &exe)?;
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let change = apply(&path, &args.profile, &borrowed)?;
    let verb = match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Unchanged => "already up to date:",
    };
    eprintln!(
        "sentinel: {verb} profile `{}` in `{}`",
        args.profile,
        path.display()
    );
    if options.source_profile.is_none() {
        eprintln!(
            "hint: credentials will be signed by the AWS SDK default chain; with AWS_PROFILE={} set, sentinel refuses to run (it would call itself), so consider --source-profile",
            args.profile
        );
    }
    Ok(())
}

/// The keys `configure` writes for `args.profile`.
pub fn settings(
    args: &ConfigureArgs,
    options: &TvmOptions,
    exe: &Path,
) -> Result<Vec<(&'static str, String)>, Failure> {
    let profile = ProfileName::parse(&args.profile).map_err(|e| Failure::invalid(e.to_string()))?;
    // Resolving the signing scope now fails here, not at every later
    // credential_process call, when no region can be found.
    let target = Target::resolve(options)?;
    let scope = target.scope();
    let host_region = tvm::signing_scope(target.url(), None)
        .ok()
        .map(|s| s.region);
    if options.source_profile.as_deref() == Some(profile.as_str()) {
        return Err(Failure::invalid(format!(
            "--source-profile `{profile}` is the profile being configured, so it would call itself"
        ))
        .with_hint("name the AWS profile whose own credentials sign calls to the TVM"));
    }

    let mut words = vec![
        exe.to_string_lossy().into_owned(),
        "credentials".to_owned(),
        "--profile".to_owned(),
        profile.to_string(),
        "--tvm-url".to_owned(),
        target.tvm_url.to_owned(),
    ];
    if let Some(source) = &options.source_profile {
        words.extend(["--source-profile".to_owned(), source.clone()]);
    }
    // The host already names its region; only a region it cannot tell is written.
    if host_region.as_deref() != Some(scope.region.as_str()) {
        words.extend(["--region".to_owned(), scope.region.clone()]);
    }
    let command = words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    let mut pairs = vec![("credential_process", command)];
    if let Some(region) = &options.region {
        pairs.push(("region", region.clone()));
    }
    Ok(pairs)
}

/// Quotes a word for the AWS CLI's shlex split and the Rust/Go SDKs' `sh -c`.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        return word.to_owned();
    }
    let mut quoted = String::from("\"");
    for c in word.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Edits (or creates) the file at `path`; writes nothing when nothing changes.
pub fn apply(path: &Path, profile: &str, pairs: &[(&str, &str)]) -> Result<Change, Failure> {
    let fail = |what: &str, path: &Path, e: std::io::Error| {
        Failure::error(format!("cannot {what} `{}`: {e}", path.display()))
    };
    // A symlinked config (dotfile managers) is edited where it points.
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let existing = match fs::read_to_string(&target) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail("read", &target, e)),
    };
    let mut file = ConfigFile::parse(existing.as_deref().unwrap_or(""));
    file.upsert(profile, pairs);
    let rendered = file.render();
    if existing.as_deref() == Some(rendered.as_str()) {
        return Ok(Change::Unchanged);
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| fail("create", dir, e))?;
    }
    let mode = fs::metadata(&target)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600);
    let temp = temp_path(&target);
    let written =
        write_new(&temp, rendered.as_bytes(), mode).and_then(|()| fs::rename(&temp, &target));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(fail("write", &target, e));
    }
    Ok(if existing.is_some() {
        Change::Updated
    } else {
        Change::Created
    })
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".to_owned());
    target.with_file_name(format!(".{name}.sentinel-{}.tmp", std::process::id()))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str, source: Option<&str>, region: Option<&str>) -> TvmOptions {
        TvmOptions {
            tvm_url: Some(url.to_owned()),
            region: region.map(str::to_owned),
            source_profile: source.map(str::to_owned),
        }
    }

    fn args(profile: &str) -> ConfigureArgs {
        ConfigureArgs {
            profile: profile.to_owned(),
        }
    }

    #[test]
    fn credential_process_names_the_binary_profile_url_and_source() {
        let pairs = settings(
            &args("prod"),
            &options(
                "https://a.execute-api.eu-west-1.amazonaws.com/v1",
                Some("corp"),
                None,
            ),
            Path::new("/opt/bin/sentinel"),
        )
        .unwrap();
        assert_eq!(
            pairs,
            vec![(
                "credential_process",
                "/opt/bin/sentinel credentials --profile prod --tvm-url https://a.execute-api.eu-west-1.amazonaws.com/v1 --source-profile corp".to_owned()
            )]
        );
    }

    #[test]
    fn region_is_written_when_the_host_cannot_tell_it() {
        let pairs = settings(
            &args("dev"),
            &options("http://127.0.0.1:8787", None, Some("us-east-1")),
            Path::new("/My Tools/sentinel"),
        )
        .unwrap();
        assert_eq!(
            pairs,
            vec![
                (
                    "credential_process",
                    "\"/My Tools/sentinel\" credentials --profile dev --tvm-url http://127.0.0.1:8787 --region us-east-1".to_owned()
                ),
                ("region", "us-east-1".to_owned())
            ]
        );
        let no_region = settings(
            &args("dev"),
            &options("http://127.0.0.1:1", None, None),
            Path::new("/s"),
        );
        assert_eq!(
            no_region.unwrap_err().kind,
            crate::failure::ExitKind::Invalid
        );
    }

    #[test]
    fn invalid_names_and_self_sourcing_are_refused() {
        let url = "https://a.lambda-url.us-east-1.on.aws/";
        assert!(
            settings(
                &args("bad name"),
                &options(url, None, None),
                Path::new("/s")
            )
            .is_err()
        );
        assert!(settings(&args("p"), &options(url, Some("p"), None), Path::new("/s")).is_err());
    }

    #[test]
    fn quoting_survives_shell_metacharacters() {
        assert_eq!(shell_quote("plain/path-1.0"), "plain/path-1.0");
        assert_eq!(shell_quote("a b"), "\"a b\"");
        assert_eq!(shell_quote("$x\"`\\"), "\"\\$x\\\"\\`\\\\\"");
        assert_eq!(shell_quote(""), "\"\"");
    }

    #[test]
    fn apply_creates_then_is_idempotent_and_keeps_the_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("new-dir/config");
        let pairs = [("credential_process", "sentinel credentials --profile p")];
        assert_eq!(apply(&path, "p", &pairs).unwrap(), Change::Created);
        let first = fs::read(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(apply(&path, "p", &pairs).unwrap(), Change::Unchanged);
        assert_eq!(fs::read(&path).unwrap(), first);

        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(apply(&path, "q", &pairs).unwrap(), Change::Updated);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn apply_edits_through_a_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::write(&real, "[default]\nregion = a\n").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        apply(&link, "p", &[("k", "v")]).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            "[default]\nregion = a\n\n[profile p]\nk = v\n"
        );
    }
}
