//! The proxy's settings (docs/proxy.md, "Configuration"): read once at start from the
//! environment (the Lambda) or from `serve`'s flags, which default to the same
//! variables. A bad value stops start-up with a message naming the variable.

use std::str::FromStr;
use std::time::Duration;

use policy::Route;
use policy::identity::IdentityRoles;
use url::Url;

/// Default largest request body: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// The largest request body: a Lambda invocation carries at most 6 MB, and a Function
/// URL base64-encodes a binary body (4/3 larger) into the event.
pub const MAX_MAX_BODY: usize = 4 * 1024 * 1024;
/// Default upstream timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest upstream timeout: a Lambda runs at most 15 minutes.
const MAX_TIMEOUT_MS: u64 = 900_000;
/// Default policy and credential cache.
const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);

/// Every setting, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SENTINEL_PROXY_UPSTREAM`: the only origin ever contacted.
    pub upstream: Upstream,
    /// `SENTINEL_PROXY_ROUTES`: what may be forwarded at all.
    pub routes: Vec<Route>,
    /// `SENTINEL_PROXY_POLICY_PARAMETER`: the SSM name of the proxy's policy.
    pub policy_parameter: String,
    /// `SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER`: the SSM name of the upstream's
    /// `Authorization` value.
    pub auth_parameter: Option<String>,
    /// `SENTINEL_PROXY_MAX_BODY`: largest request body in bytes.
    pub max_body: usize,
    /// `SENTINEL_PROXY_TIMEOUT_MS`: the upstream's whole answer must arrive within it.
    pub timeout: Duration,
    /// `SENTINEL_POLICY_CACHE_TTL` (seconds, as for the TVM): how long the policy and the
    /// upstream credential are used before SSM is read again.
    pub cache_ttl: Duration,
    /// `SENTINEL_IDENTITY_ROLES` (as for the TVM): roles whose session name is the user.
    pub identity_roles: IdentityRoles,
    /// `SENTINEL_STACK_NAME`: named in every log line.
    pub stack_name: Option<String>,
    /// `SENTINEL_PROXY_FORWARD_HEADERS`: request headers forwarded besides
    /// [`crate::target::FORWARDED_HEADERS`], lower case.
    pub forward_headers: Vec<String>,
}

/// A setting that cannot be used, naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn invalid(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        message: message.into(),
    }
}

impl Config {
    /// From the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any lookup of the variables (the environment, `serve`'s flags, tests). An
    /// empty value is the same as an unset one.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| {
            get(name).ok_or_else(|| invalid(name, "required (see docs/proxy.md)"))
        };
        let upstream = required("SENTINEL_PROXY_UPSTREAM")?
            .parse()
            .map_err(|e| invalid("SENTINEL_PROXY_UPSTREAM", e))?;
        let routes = parse_routes(&required("SENTINEL_PROXY_ROUTES")?)
            .map_err(|e| invalid("SENTINEL_PROXY_ROUTES", e))?;
        let policy_parameter = parameter_name(
            "SENTINEL_PROXY_POLICY_PARAMETER",
            required("SENTINEL_PROXY_POLICY_PARAMETER")?,
        )?;
        let auth_parameter = get("SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER")
            .map(|name| parameter_name("SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER", name))
            .transpose()?;
        let max_body = match get("SENTINEL_PROXY_MAX_BODY") {
            None => DEFAULT_MAX_BODY,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_MAX_BODY).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        "SENTINEL_PROXY_MAX_BODY",
                        format!("`{raw}` must be a number of bytes from 1 to {MAX_MAX_BODY}"),
                    ));
                }
            },
        };
        let timeout = match get("SENTINEL_PROXY_TIMEOUT_MS") {
            None => DEFAULT_TIMEOUT,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(invalid(
                        "SENTINEL_PROXY_TIMEOUT_MS",
                        format!("`{raw}` must be milliseconds from 1 to {MAX_TIMEOUT_MS}"),
                    ));
                }
            },
        };
        let cache_ttl = match get("SENTINEL_POLICY_CACHE_TTL") {
            None => DEFAULT_CACHE_TTL,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(secs) if secs <= 3600 => Duration::from_secs(secs),
                _ => {
                    return Err(invalid(
                        "SENTINEL_POLICY_CACHE_TTL",
                        format!("`{raw}` must be seconds from 0 to 3600"),
                    ));
                }
            },
        };
        let globs: Vec<String> = get("SENTINEL_IDENTITY_ROLES")
            .map(|raw| raw.split(',').map(|g| g.trim().to_owned()).collect())
            .unwrap_or_default();
        let identity_roles = IdentityRoles::new(&globs)
            .map_err(|e| invalid("SENTINEL_IDENTITY_ROLES", e.to_string()))?;
        let forward_headers = match get("SENTINEL_PROXY_FORWARD_HEADERS") {
            None => Vec::new(),
            Some(raw) => {
                forward_headers(&raw).map_err(|e| invalid("SENTINEL_PROXY_FORWARD_HEADERS", e))?
            }
        };
        Ok(Self {
            forward_headers,
            upstream,
            routes,
            policy_parameter,
            auth_parameter,
            max_body,
            timeout,
            cache_ttl,
            identity_roles,
            stack_name: get("SENTINEL_STACK_NAME"),
        })
    }
}

/// Header names, comma-separated; none that is never forwarded.
fn forward_headers(raw: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let name = name.to_ascii_lowercase();
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!("`{name}` is not a header name"));
        }
        if crate::target::never_forwarded(&name) {
            return Err(format!(
                "`{name}` is never forwarded (the caller's credentials, addresses, hop-by-hop and method or path overrides stay behind)"
            ));
        }
        names.push(name);
    }
    Ok(names)
}

/// `METHOD /path-glob, ...`; at least one.
fn parse_routes(raw: &str) -> Result<Vec<Route>, String> {
    let routes = raw
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(Route::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    if routes.is_empty() {
        return Err("lists no route; give `METHOD /path-glob`, e.g. `GET /v1/*`".into());
    }
    Ok(routes)
}

/// An SSM parameter name: absolute, and not starting with `aws` or `ssm` in any case
/// (SSM reserves those prefixes: `/awsome` is refused too).
fn parameter_name(name: &'static str, value: String) -> Result<String, ConfigError> {
    let lower = value.to_ascii_lowercase();
    let valid = value.starts_with('/')
        && value.len() <= 2048
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-'))
        && !["/aws", "/ssm"]
            .iter()
            .any(|reserved| lower.starts_with(reserved));
    if !valid {
        return Err(invalid(
            name,
            format!(
                "`{value}` is not a parameter name (`/path/name` of letters, digits and `/_.-`, not under /aws or /ssm)"
            ),
        ));
    }
    Ok(value)
}

/// The upstream base URL: `http(s)://host[:port][/base/path]`, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    url: Url,
}

impl FromStr for Upstream {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw.trim()).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(format!("`{raw}` must be an http or https URL"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("`{raw}` names no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "`{raw}` carries credentials; put the upstream's credential in SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("`{raw}` must not have a query or fragment"));
        }
        Ok(Self { url })
    }
}

impl Upstream {
    /// The URL of `path` (canonical, starting with `/`) and `query` under the base.
    ///
    /// SECURITY: the result is checked to have the base's scheme, host and port, so no
    /// path can make the proxy contact another origin.
    pub fn join(&self, path: &str, query: Option<&str>) -> Result<Url, String> {
        let base = self.url.as_str().trim_end_matches('/');
        let mut text = format!("{base}{path}");
        if let Some(query) = query {
            text.push('?');
            text.push_str(query);
        }
        let url = Url::parse(&text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        if !self.same_origin(&url) {
            return Err(format!("`{text}` leaves the upstream's origin"));
        }
        Ok(url)
    }

    /// Whether `url` has the base's scheme, host and port.
    pub fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.url.scheme()
            && url.host_str() == self.url.host_str()
            && url.port_or_known_default() == self.url.port_or_known_default()
    }

    /// The base URL.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut env: HashMap<String, String> = [
            ("SENTINEL_PROXY_UPSTREAM", "https://admin.example.test/api"),
            ("SENTINEL_PROXY_ROUTES", "GET /v1/*, POST /v1/orders"),
            ("SENTINEL_PROXY_POLICY_PARAMETER", "/sentinel/proxy/policy"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in pairs {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn defaults_apply_and_routes_parse() {
        let c = config(&[]).unwrap();
        assert_eq!(c.routes.len(), 2);
        assert!(c.routes[0].matches("GET", "/v1/rates"));
        assert_eq!(c.max_body, DEFAULT_MAX_BODY);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.auth_parameter, None);
        let c = config(&[
            (
                "SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER",
                "/sentinel/proxy/token",
            ),
            ("SENTINEL_PROXY_MAX_BODY", "2048"),
            ("SENTINEL_PROXY_TIMEOUT_MS", "1500"),
        ])
        .unwrap();
        assert_eq!(c.auth_parameter.as_deref(), Some("/sentinel/proxy/token"));
        assert_eq!((c.max_body, c.timeout), (2048, Duration::from_millis(1500)));
        let c = config(&[("SENTINEL_PROXY_FORWARD_HEADERS", "X-Tenant, x-trace ,")]).unwrap();
        assert_eq!(c.forward_headers, ["x-tenant", "x-trace"]);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("SENTINEL_PROXY_UPSTREAM", "ftp://x.test"),
            ("SENTINEL_PROXY_UPSTREAM", "https://user:pw@x.test"),
            ("SENTINEL_PROXY_UPSTREAM", "https://x.test/?a=1"),
            ("SENTINEL_PROXY_UPSTREAM", "not a url"),
            ("SENTINEL_PROXY_ROUTES", "GETT /x"),
            ("SENTINEL_PROXY_ROUTES", " , "),
            ("SENTINEL_PROXY_POLICY_PARAMETER", "relative/name"),
            (
                "SENTINEL_PROXY_POLICY_PARAMETER",
                "/aws/reference/secretsmanager/x",
            ),
            ("SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER", "/ssm/x"),
            ("SENTINEL_PROXY_POLICY_PARAMETER", "/AWSome/policy"),
            ("SENTINEL_PROXY_MAX_BODY", "0"),
            ("SENTINEL_PROXY_MAX_BODY", "5000000"),
            ("SENTINEL_PROXY_FORWARD_HEADERS", "x-tenant, Authorization"),
            ("SENTINEL_PROXY_FORWARD_HEADERS", "X-Forwarded-For"),
            ("SENTINEL_PROXY_FORWARD_HEADERS", "bad header"),
            ("SENTINEL_PROXY_TIMEOUT_MS", "soon"),
            ("SENTINEL_POLICY_CACHE_TTL", "-1"),
        ] {
            let e = config(&[(name, value)]).unwrap_err();
            assert_eq!(e.name, name, "{name}={value}: {e}");
        }
        let missing = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(missing.name, "SENTINEL_PROXY_UPSTREAM");
    }

    #[test]
    fn joined_urls_stay_on_the_upstream_origin() {
        let up: Upstream = "https://admin.example.test/api/".parse().unwrap();
        assert_eq!(
            up.join("/v1/rates", Some("a=1")).unwrap().as_str(),
            "https://admin.example.test/api/v1/rates?a=1"
        );
        let root: Upstream = "http://127.0.0.1:9000".parse().unwrap();
        assert_eq!(
            root.join("/x", None).unwrap().as_str(),
            "http://127.0.0.1:9000/x"
        );
        // A path that tries to become an authority stays a path, or is refused.
        for path in ["@evil.test/x", ".evil.test/x", ":81/x"] {
            match root.join(path, None) {
                Ok(url) => assert!(root.same_origin(&url), "{url}"),
                Err(e) => assert!(e.contains("origin") || e.contains("URL"), "{e}"),
            }
        }
        let other: Url = "http://127.0.0.1:9001/x".parse().unwrap();
        assert!(!root.same_origin(&other));
    }
}
