//! Routes of the signed egress proxy (docs/proxy.md): `METHOD /path-glob`,
//! such as `GET /v1/rates/*` or `* /health`. The proxy's allow-list and the
//! proxy policy's `routes` condition are lists of them.
//!
//! The method is one of [`METHODS`] or `*` (any method). The path starts with
//! `/` and is a glob: `*` is any run of characters, `/` included, and `?` is
//! exactly one character (a path is matched without its query, so `?` never
//! stands for one). `[`, `]`, `{` and `}` are refused, and so are `#` (a
//! fragment never reaches a server), spaces and control characters. Matching
//! is case-sensitive, on the method as on the path.
//!
//! Paths are matched as the proxy canonicalises them (docs/proxy.md): escapes
//! of unreserved characters decoded, others in upper case. A route is written
//! the same way, so an escape of an unreserved character (`%61` for `a`) or one
//! in lower case (`%c3`) is refused: it could never match.

use std::fmt;
use std::str::FromStr;

use crate::error::Invalid;
use crate::glob::Glob;

/// The methods a route may name; `*` stands for any of them, and nothing else
/// (`TRACE`, `CONNECT`, lower-case spellings never match a route).
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

const EXPECTED: &str = "expected `METHOD /path-glob`";

/// `METHOD /path-glob`, e.g. `GET /v1/rates/*`, `* /health`: a route of the
/// signed egress proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// `None` for `*`: any method.
    method: Option<String>,
    path: Glob,
    /// The route as written, trimmed: `METHOD /path-glob`.
    source: String,
}

impl Route {
    /// Whether `method` (an uppercase HTTP method as received) and `path`
    /// (starting with `/`, no query) match. Case-sensitive; does not allocate.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let method = match self.method.as_deref() {
            None => METHODS.contains(&method),
            Some(mine) => mine == method,
        };
        method && self.path.matches(path)
    }

    /// Parses `METHOD /path-glob`; the message of an error names the route.
    pub(crate) fn parse(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        // Checked first, so every later message can show the route as written.
        if text.chars().any(char::is_control) {
            return Err(Invalid::new(format!(
                "route `{}` contains a control character",
                text.escape_default()
            )));
        }
        let refuse = |message: String| Invalid::new(format!("route `{text}`: {message}"));
        let Some((method, path)) = text.split_once(' ') else {
            return Err(refuse(EXPECTED.to_owned())
                .hint("write a method and a path glob, e.g. `GET /v1/rates/*` or `* /health`"));
        };
        if method.is_empty() || path.is_empty() || path.chars().any(char::is_whitespace) {
            return Err(refuse(format!(
                "{EXPECTED}, with one space between method and path and none in the path"
            ))
            .hint("write a method and a path glob, e.g. `GET /v1/rates/*` or `* /health`"));
        }
        let method = match method {
            "*" => None,
            known if METHODS.contains(&known) => Some(known.to_owned()),
            unknown => {
                let upper = unknown.to_ascii_uppercase();
                let invalid = refuse(format!(
                    "unknown method `{unknown}` ({} or `*`)",
                    METHODS.join(", ")
                ));
                return Err(if METHODS.contains(&upper.as_str()) {
                    invalid.hint(format!("methods are uppercase: did you mean `{upper}`?"))
                } else {
                    invalid
                });
            }
        };
        if !path.starts_with('/') {
            return Err(refuse("the path must start with `/`".to_owned())
                .hint("write the path as the upstream receives it, e.g. `/v1/rates/*`"));
        }
        if path.contains('#') {
            return Err(refuse(
                "the path contains `#`: a fragment is not part of a route".to_owned(),
            )
            .hint("remove the fragment; `?` in a path glob is the one-character wildcard"));
        }
        check_escapes(path).map_err(refuse)?;
        let path = Glob::new(path).map_err(|e| {
            let refused = refuse(e.message);
            match e.hint {
                Some(hint) => refused.hint(hint),
                None => refused,
            }
        })?;
        Ok(Route {
            method,
            path,
            source: text.to_owned(),
        })
    }

    /// The path glob as written.
    fn path_text(&self) -> &str {
        self.source
            .split_once(' ')
            .map_or(self.source.as_str(), |(_, path)| path)
    }

    /// Whether the route matches every request: any method, path `/*`.
    pub(crate) fn is_universal(&self) -> bool {
        self.method.is_none() && every_path(self.path_text())
    }

    /// Whether every request `other` matches, `self` matches too. Conservative
    /// (as [`Glob::covers`]), so a lint never claims a shadow that is not there.
    pub(crate) fn covers(&self, other: &Route) -> bool {
        let method = match (&self.method, &other.method) {
            (None, _) => true,
            (Some(mine), Some(theirs)) => mine == theirs,
            (Some(_), None) => false,
        };
        let (mine, theirs) = (self.path_text(), other.path_text());
        method
            && (every_path(mine)
                || self.path.covers(&other.path)
                // `/v1/*` covers `/v1/rates/*`: whatever `other` matches starts
                // with the literal prefix `/v1/`, and `self` matches all of that.
                || mine
                    .strip_suffix('*')
                    .filter(|prefix| !prefix.contains(['*', '?']))
                    .is_some_and(|prefix| theirs.starts_with(prefix)))
    }
}

/// Escapes as in a canonical path: `%XX` with upper-case hex, never of an
/// unreserved character.
fn check_escapes(path: &str) -> Result<(), String> {
    let bytes = path.as_bytes();
    for (i, _) in path.match_indices('%') {
        let escape = bytes.get(i + 1..i + 3).unwrap_or_default();
        let digits = std::str::from_utf8(escape).unwrap_or_default();
        let hex = digits.len() == 2 && digits.bytes().all(|b| b.is_ascii_hexdigit());
        let (true, Ok(decoded)) = (hex, u8::from_str_radix(digits, 16)) else {
            return Err("the path has a malformed `%` escape".to_owned());
        };
        if decoded.is_ascii_alphanumeric() || matches!(decoded, b'-' | b'.' | b'_' | b'~') {
            return Err(format!(
                "`%{digits}` is `{}`: write it as `{0}` (paths are matched decoded)",
                char::from(decoded)
            ));
        }
        if digits.bytes().any(|b| b.is_ascii_lowercase()) {
            return Err(format!(
                "`%{digits}`: write escapes in upper case (`%{}`), as paths are matched",
                digits.to_ascii_uppercase()
            ));
        }
    }
    Ok(())
}

/// `/*` (or `/**`...): matches every path, since paths start with `/`.
fn every_path(path: &str) -> bool {
    path.strip_prefix('/')
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c == '*'))
}

impl FromStr for Route {
    type Err = String;

    /// Parses `METHOD /path-glob`, e.g. `GET /v1/rates/*` or `* /health`.
    /// The error is one line naming the route, e.g. ``route `GET v1`: the
    /// path must start with `/` ``.
    fn from_str(text: &str) -> Result<Self, String> {
        Route::parse(text).map_err(|e| e.message)
    }
}

impl fmt::Display for Route {
    /// The route as written (trimmed), e.g. `GET /v1/*`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(text: &str) -> Route {
        text.parse().unwrap()
    }

    #[test]
    fn routes_parse_and_print_as_written() {
        for text in [
            "GET /v1/rates/*",
            "* /health",
            "POST /v1/orders",
            "DELETE /v1/orders/?",
            "OPTIONS /*",
            "HEAD /",
        ] {
            assert_eq!(route(text).to_string(), text);
        }
        assert_eq!(route("  PUT /v1/x \n").to_string(), "PUT /v1/x");
    }

    #[test]
    fn bad_routes_are_refused_with_clear_messages() {
        let cases = [
            (
                "GETT /x",
                "route `GETT /x`: unknown method `GETT` (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or `*`)",
            ),
            ("GET v1", "route `GET v1`: the path must start with `/`"),
            ("GET", "route `GET`: expected `METHOD /path-glob`"),
            ("", "route ``: expected `METHOD /path-glob`"),
            ("/v1/x", "route `/v1/x`: expected `METHOD /path-glob`"),
            (
                "GET  /x",
                "route `GET  /x`: expected `METHOD /path-glob`, with one space between method and path and none in the path",
            ),
            (
                "GET /a b",
                "route `GET /a b`: expected `METHOD /path-glob`, with one space between method and path and none in the path",
            ),
            (
                "GET /v1/{a,b}",
                "route `GET /v1/{a,b}`: glob `/v1/{a,b}` uses `{`, which is not supported",
            ),
            (
                "GET /v1/[ab]",
                "route `GET /v1/[ab]`: glob `/v1/[ab]` uses `[`, which is not supported",
            ),
            (
                "GET /v1#top",
                "route `GET /v1#top`: the path contains `#`: a fragment is not part of a route",
            ),
            (
                "GET /v1/\u{7}",
                "route `GET /v1/\\u{7}` contains a control character",
            ),
            ("GET\t/v1", "route `GET\\t/v1` contains a control character"),
            // Written as the proxy matches paths: decoded unreserved, upper-case escapes.
            (
                "GET /v1/%61dmin",
                "route `GET /v1/%61dmin`: `%61` is `a`: write it as `a` (paths are matched decoded)",
            ),
            (
                "GET /caf%c3%a9",
                "route `GET /caf%c3%a9`: `%c3`: write escapes in upper case (`%C3`), as paths are matched",
            ),
            (
                "GET /v1/%4",
                "route `GET /v1/%4`: the path has a malformed `%` escape",
            ),
            (
                "GET /v1/%+1",
                "route `GET /v1/%+1`: the path has a malformed `%` escape",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(text.parse::<Route>().unwrap_err(), message, "{text:?}");
        }
        assert!(route("GET /caf%C3%A9/a%20b").matches("GET", "/caf%C3%A9/a%20b"));
        let lower = Route::parse("get /x").unwrap_err();
        assert!(lower.message.contains("unknown method `get`"), "{lower:?}");
        assert_eq!(
            lower.hint.as_deref(),
            Some("methods are uppercase: did you mean `GET`?")
        );
        assert_eq!(
            Route::parse("GET /{a}").unwrap_err().hint.as_deref(),
            Some(crate::glob::GLOB_HINT)
        );
    }

    #[test]
    fn matching_is_by_method_and_path_glob_case_sensitively() {
        let cases = [
            ("GET /v1/*", "GET", "/v1/a/b", true),
            ("GET /v1/*", "GET", "/v1/", true),
            ("GET /v1/*", "GET", "/v1", false),
            ("GET /v1/*", "GET", "/v2/a", false),
            ("GET /v1/*", "POST", "/v1/a", false),
            ("GET /v1/*", "get", "/v1/a", false),
            ("GET /v1/*", "GET", "/V1/a", false),
            ("* /health", "GET", "/health", true),
            // `*` is any of the seven methods, never another or another spelling.
            ("* /health", "PROPFIND", "/health", false),
            ("* /health", "TRACE", "/health", false),
            ("* /health", "CONNECT", "/health", false),
            ("* /health", "get", "/health", false),
            ("* /health", "OPTIONS", "/health", true),
            ("* /health", "GET", "/health/x", false),
            ("* /health", "GET", "/Health", false),
            ("GET /v1/orders/?", "GET", "/v1/orders/7", true),
            ("GET /v1/orders/?", "GET", "/v1/orders/77", false),
            ("GET /v1/*/rates", "GET", "/v1/eu/west/rates", true),
            ("GET /v1/*/rates", "GET", "/v1/eu/rates/x", false),
            ("* /*", "PATCH", "/", true),
        ];
        for (text, method, path, expected) in cases {
            assert_eq!(
                route(text).matches(method, path),
                expected,
                "{text} on {method} {path}"
            );
        }
    }

    #[test]
    fn covers_is_conservative() {
        let covers = |a: &str, b: &str| route(a).covers(&route(b));
        assert!(covers("* /*", "GET /v1/*"));
        assert!(covers("* /v1/*", "GET /v1/rates/*"));
        assert!(covers("GET /v1/*", "GET /v1/rates"));
        assert!(covers("GET /v1/*", "GET /v1/*"));
        assert!(!covers("GET /v1/*", "* /v1/rates"), "`*` is every method");
        assert!(!covers("GET /v1/*", "POST /v1/rates"));
        assert!(!covers("GET /v1/rates", "GET /v1/*"));
        assert!(
            !covers("GET /v1/*/x", "GET /v1/?/x"),
            "not proven, so not claimed"
        );
        assert!(route("* /*").is_universal());
        assert!(!route("GET /*").is_universal());
        assert!(!route("* /v1/*").is_universal());
    }
}
