//! Settings read once from the environment at start-up (docs/identity.md, docs/policy.md, docs/api.md, docs/sessions.md).
//!
//! A bad value stops start-up with a message that names the variable: a TVM that
//! guesses at its own configuration could vend credentials it should not.

use std::time::Duration;

use policy::identity::IdentityRoles;
use sentinel_aws::config::AwsTimeouts;
use sentinel_types::{AccountId, OrgId, PolicyRoot, SessionDuration};

/// Where policies live when neither `SENTINEL_POLICY_ROOT` nor `SENTINEL_POLICY_PARAMETER` is set.
/// A Lambda's own credentials are a role session, and AWS caps chained role sessions at one hour.
pub const DEFAULT_MAX_DURATION_SECS: u32 = 3600;
/// How long a loaded policy is reused before SSM is asked again.
pub const DEFAULT_POLICY_CACHE_TTL: Duration = Duration::from_secs(30);
/// How long session rows outlive their credentials.
pub const DEFAULT_SESSION_RETENTION_DAYS: u32 = 90;

/// The TVM's configuration, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// SSM path under which `<root>/<profile>` holds each profile's policy; no trailing `/`.
    pub policy_root: PolicyRoot,
    /// DynamoDB table for session records; `None` disables recording.
    pub session_table: Option<String>,
    /// Upper bound on any granted duration, in seconds.
    pub max_duration: u32,
    /// Roles whose session names are set by an identity provider (docs/identity.md).
    pub identity_roles: IdentityRoles,
    /// Accounts allowed to call; `*` = any; empty (with no org IDs) = only the TVM's own.
    pub allowed_accounts: Vec<String>,
    /// AWS Organizations allowed to call; empty = any.
    pub allowed_org_ids: Vec<String>,
    /// How long a successfully loaded policy is cached per profile.
    pub policy_cache_ttl: Duration,
    /// Days a session row is kept after its credentials expire.
    pub session_retention_days: u32,
    /// Bounds on every AWS call (`SENTINEL_AWS_TIMEOUT_MS`, `SENTINEL_AWS_OPERATION_TIMEOUT_MS`).
    pub aws_timeouts: AwsTimeouts,
    /// `SENTINEL_STACK_NAME`: the `Stack` dimension of the metrics, so that each
    /// deployment's alarms see only its own answers.
    pub stack_name: String,
    /// `SENTINEL_JWT_ISSUERS`: the issuers whose tokens `POST /exchange` accepts;
    /// `None` when unset (the route then answers 404).
    pub jwt_issuers: Option<JwtIssuers>,
    /// `SENTINEL_APPROVAL_TABLE` and `SENTINEL_BREAKGLASS_TABLE`: both or neither; with
    /// them (and the session table) the TVM answers `/requests` and `/breakglass`.
    pub gate_tables: Option<GateTables>,
    /// `SENTINEL_NOTIFY_TOPIC_ARN` and `SENTINEL_NOTIFY_WEBHOOK_URL`.
    pub notify: crate::notify::NotifyTargets,
}

/// The approval and break-glass tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateTables {
    pub approvals: String,
    pub breakglass: String,
}

/// `SENTINEL_JWT_ISSUERS`: the JSON list itself, or the SSM parameter holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtIssuers {
    /// The list, validated.
    Inline(Vec<sentinel_jwt::Issuer>),
    /// An SSM parameter name (`/...`), read once at start.
    Parameter(String),
}

/// A setting that stops start-up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid setting `{name}`: {message}")]
pub struct SettingsError {
    /// The environment variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn invalid(name: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError {
        name,
        message: message.into(),
    }
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let policy_root = match (
            get("SENTINEL_POLICY_ROOT"),
            get("SENTINEL_POLICY_PARAMETER"),
        ) {
            (Some(root), _) => parse_root("SENTINEL_POLICY_ROOT", &root)?,
            (None, Some(parameter)) => parent_path(&parameter)?,
            (None, None) => PolicyRoot::default(),
        };

        let session_table = get("SENTINEL_SESSION_TABLE")
            .map(|table| parse_table_name(&table))
            .transpose()?;

        let max_duration = match get("SENTINEL_MAX_DURATION") {
            None => DEFAULT_MAX_DURATION_SECS,
            Some(raw) => SessionDuration::parse_seconds(&raw)
                .map_err(|e| invalid("SENTINEL_MAX_DURATION", e.to_string()))?
                .secs(),
        };

        let identity_roles = match get("SENTINEL_IDENTITY_ROLES") {
            None => IdentityRoles::default(),
            Some(raw) => IdentityRoles::new(&comma_list(&raw))
                .map_err(|e| invalid("SENTINEL_IDENTITY_ROLES", e))?,
        };

        let allowed_accounts = get("SENTINEL_ALLOWED_ACCOUNTS")
            .map(|raw| comma_list(&raw))
            .unwrap_or_default();
        // `*` admits every account; otherwise each entry is an account ID.
        if let Some(e) = allowed_accounts
            .iter()
            .filter(|a| *a != "*")
            .find_map(|a| AccountId::parse(a).err())
        {
            return Err(invalid("SENTINEL_ALLOWED_ACCOUNTS", e.to_string()));
        }

        let allowed_org_ids = get("SENTINEL_ALLOWED_ORG_IDS")
            .map(|raw| comma_list(&raw))
            .unwrap_or_default();
        if let Some(e) = allowed_org_ids.iter().find_map(|o| OrgId::parse(o).err()) {
            return Err(invalid("SENTINEL_ALLOWED_ORG_IDS", e.to_string()));
        }

        let policy_cache_ttl = match get("SENTINEL_POLICY_CACHE_TTL") {
            None => DEFAULT_POLICY_CACHE_TTL,
            Some(raw) => {
                Duration::from_secs(parse_seconds("SENTINEL_POLICY_CACHE_TTL", &raw, 3600)?)
            }
        };

        let session_retention_days = match get("SENTINEL_SESSION_RETENTION_DAYS") {
            None => DEFAULT_SESSION_RETENTION_DAYS,
            Some(raw) => {
                let days = parse_seconds("SENTINEL_SESSION_RETENTION_DAYS", &raw, 36_500)?;
                u32::try_from(days)
                    .map_err(|_| invalid("SENTINEL_SESSION_RETENTION_DAYS", "too large"))?
            }
        };

        let aws_timeouts = AwsTimeouts::from_lookup(|name| get(name))
            .map_err(|e| invalid(e.variable, e.message))?;

        let stack_name =
            get("SENTINEL_STACK_NAME").unwrap_or_else(|| crate::audit::DEFAULT_STACK.to_owned());

        let jwt_issuers = match get("SENTINEL_JWT_ISSUERS") {
            None => None,
            Some(raw) if raw.trim_start().starts_with('/') => {
                Some(JwtIssuers::Parameter(raw.trim().to_owned()))
            }
            Some(raw) => Some(JwtIssuers::Inline(
                sentinel_jwt::parse_issuers(&raw)
                    .map_err(|e| invalid("SENTINEL_JWT_ISSUERS", e))?,
            )),
        };

        let gate_tables = match (
            get("SENTINEL_APPROVAL_TABLE"),
            get("SENTINEL_BREAKGLASS_TABLE"),
        ) {
            (None, None) => None,
            (Some(approvals), Some(breakglass)) => {
                if session_table.is_none() {
                    return Err(invalid(
                        "SENTINEL_APPROVAL_TABLE",
                        "approvals and break-glass need SENTINEL_SESSION_TABLE too (their sessions must be revocable)",
                    ));
                }
                Some(GateTables {
                    approvals: parse_table_name(&approvals)?,
                    breakglass: parse_table_name(&breakglass)?,
                })
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid(
                    "SENTINEL_APPROVAL_TABLE",
                    "set SENTINEL_APPROVAL_TABLE and SENTINEL_BREAKGLASS_TABLE together",
                ));
            }
        };
        let notify = crate::notify::NotifyTargets::from_values(
            get("SENTINEL_NOTIFY_TOPIC_ARN").as_deref(),
            get("SENTINEL_NOTIFY_WEBHOOK_URL").as_deref(),
        )
        .map_err(|e| invalid(e.variable, e.message))?;

        Ok(Self {
            gate_tables,
            notify,
            jwt_issuers,
            stack_name,
            policy_root,
            session_table,
            max_duration,
            identity_roles,
            allowed_accounts,
            allowed_org_ids,
            policy_cache_ttl,
            session_retention_days,
            aws_timeouts,
        })
    }

    /// The SSM parameter that holds `profile`'s policy.
    pub fn policy_path(&self, profile: &str) -> String {
        self.policy_root.parameter(profile)
    }
}

fn comma_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An integer with an optional `s` suffix, at most `max`.
fn parse_seconds(name: &'static str, raw: &str, max: u64) -> Result<u64, SettingsError> {
    let digits = raw.strip_suffix('s').unwrap_or(raw);
    let value: u64 = digits
        .parse()
        .map_err(|_| invalid(name, format!("`{raw}` is not a whole number")))?;
    if value > max {
        return Err(invalid(name, format!("`{raw}` is larger than {max}")));
    }
    Ok(value)
}

fn parse_root(name: &'static str, raw: &str) -> Result<PolicyRoot, SettingsError> {
    PolicyRoot::parse(raw).map_err(|e| invalid(name, e.to_string()))
}

fn parent_path(parameter: &str) -> Result<PolicyRoot, SettingsError> {
    const NAME: &str = "SENTINEL_POLICY_PARAMETER";
    let trimmed = parameter.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) | None => Err(invalid(
            NAME,
            format!("`{parameter}` has no parent path (expected e.g. /sentinel/policies/prod)"),
        )),
        Some(at) => parse_root(NAME, trimmed.get(..at).unwrap_or_default()),
    }
}

/// DynamoDB table names: 3–255 characters of `a-zA-Z0-9_.-` (or a table ARN).
fn parse_table_name(raw: &str) -> Result<String, SettingsError> {
    let is_arn = raw.starts_with("arn:") && raw.contains(":table/");
    let valid = (3..=255).contains(&raw.len())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid || is_arn {
        Ok(raw.to_owned())
    } else {
        Err(invalid(
            "SENTINEL_SESSION_TABLE",
            format!("`{raw}` is not a DynamoDB table name"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.policy_root, "/sentinel/policies");
        assert_eq!(s.session_table, None);
        assert_eq!(s.max_duration, 3600);
        assert_eq!(s.policy_cache_ttl, Duration::from_secs(30));
        assert_eq!(s.session_retention_days, 90);
        assert_eq!(s.aws_timeouts, AwsTimeouts::default());
        assert!(s.allowed_accounts.is_empty());
        assert!(s.allowed_org_ids.is_empty());
        assert_eq!(s.jwt_issuers, None);
    }

    #[test]
    fn jwt_issuers_are_a_json_list_or_a_parameter() {
        let s = settings(&[(
            "SENTINEL_JWT_ISSUERS",
            r#"[{"issuer": "https://token.actions.githubusercontent.com", "audiences": ["sentinel"]}]"#,
        )])
        .unwrap();
        let Some(JwtIssuers::Inline(issuers)) = s.jwt_issuers else {
            panic!("{:?}", s.jwt_issuers);
        };
        assert_eq!(issuers[0].audiences, ["sentinel"]);
        let s = settings(&[("SENTINEL_JWT_ISSUERS", " /sentinel/jwt-issuers ")]).unwrap();
        assert_eq!(
            s.jwt_issuers,
            Some(JwtIssuers::Parameter("/sentinel/jwt-issuers".into()))
        );
    }

    #[test]
    fn policy_root_comes_from_root_then_parameter_parent() {
        let s = settings(&[("SENTINEL_POLICY_PARAMETER", "/org/sentinel/prod")]).unwrap();
        assert_eq!(s.policy_root, "/org/sentinel");
        let s = settings(&[
            ("SENTINEL_POLICY_ROOT", "/a/b/"),
            ("SENTINEL_POLICY_PARAMETER", "/org/sentinel/prod"),
        ])
        .unwrap();
        assert_eq!(s.policy_root, "/a/b");
        assert_eq!(s.policy_path("prod"), "/a/b/prod");
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let cases = [
            ("SENTINEL_POLICY_ROOT", "relative/path"),
            ("SENTINEL_POLICY_ROOT", "/aws/reserved"),
            ("SENTINEL_POLICY_PARAMETER", "/prod"),
            ("SENTINEL_MAX_DURATION", "60"),
            ("SENTINEL_MAX_DURATION", "50000"),
            ("SENTINEL_MAX_DURATION", "1h"),
            ("SENTINEL_ALLOWED_ACCOUNTS", "1234"),
            ("SENTINEL_ALLOWED_ORG_IDS", "org-1"),
            ("SENTINEL_POLICY_CACHE_TTL", "-1"),
            ("SENTINEL_SESSION_RETENTION_DAYS", "many"),
            ("SENTINEL_SESSION_TABLE", "a b"),
            ("SENTINEL_IDENTITY_ROLES", "Bad[Role"),
            ("SENTINEL_AWS_TIMEOUT_MS", "0"),
            ("SENTINEL_AWS_OPERATION_TIMEOUT_MS", "8s"),
            ("SENTINEL_JWT_ISSUERS", "[]"),
            (
                "SENTINEL_JWT_ISSUERS",
                r#"[{"issuer": "https://a.test", "audiences": ["x"], "algorithms": ["HS256"]}]"#,
            ),
            ("SENTINEL_JWT_ISSUERS", "not json"),
        ];
        for (name, value) in cases {
            let err = settings(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}");
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn lists_are_trimmed_and_validated() {
        let s = settings(&[
            ("SENTINEL_ALLOWED_ACCOUNTS", " 111122223333, 444455556666 ,"),
            ("SENTINEL_ALLOWED_ORG_IDS", "o-abcdefghij"),
            ("SENTINEL_IDENTITY_ROLES", "AWSReservedSSO_*,Engineers"),
            ("SENTINEL_POLICY_CACHE_TTL", "0"),
            ("SENTINEL_MAX_DURATION", "43200"),
            ("SENTINEL_AWS_OPERATION_TIMEOUT_MS", "1500"),
        ])
        .unwrap();
        assert_eq!(s.allowed_accounts, ["111122223333", "444455556666"]);
        assert_eq!(s.allowed_org_ids, ["o-abcdefghij"]);
        assert_eq!(s.policy_cache_ttl, Duration::ZERO);
        assert_eq!(s.max_duration, 43200);
        assert_eq!(s.aws_timeouts.operation, Duration::from_millis(1500));
    }
}
