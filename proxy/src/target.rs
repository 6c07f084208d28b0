//! What of a request may reach the upstream: its target, canonicalised so that the
//! route allow-list and the policy judge exactly the path the upstream will see, and
//! its headers, minus everything that is the caller's or a hop's.

use http::header::{self, HeaderMap};

/// An origin-form target: a canonical path and the query as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Starts with `/`; unreserved characters decoded, other escapes in upper case.
    pub path: String,
    /// Without `?`.
    pub query: Option<String>,
}

/// Why a request target is refused (400 `INVALID_REQUEST`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(String);

fn refuse(why: impl Into<String>) -> TargetError {
    TargetError(why.into())
}

/// Checks and canonicalises the request target as received (`/path?query`).
///
/// SECURITY: only origin-form is accepted: an absolute-form (`http://other/…`),
/// authority-form (`CONNECT`) or asterisk-form target names no upstream here, and the
/// upstream is never taken from the request. A path another server could read as a
/// different path is refused rather than guessed at: dot segments (`..`, `.`, also
/// percent-encoded), encoded `/` or `\`, `\` itself, empty segments, `;` parameters
/// (servlet containers strip them: `/ok/..;/admin`), NUL and control characters, and
/// malformed escapes. Escapes of unreserved characters are decoded (`%61dmin` is
/// `admin`, RFC 3986 §6.2.2.2) so that a rule on `/admin*` sees `/admin`.
pub fn canonical(target: &str) -> Result<Target, TargetError> {
    if !target.starts_with('/') {
        return Err(refuse(
            "only origin-form request targets (`/path?query`) are proxied",
        ));
    }
    if target.starts_with("//") {
        return Err(refuse("the path starts with `//`"));
    }
    let (raw_path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    if let Some(bad) = target
        .chars()
        .find(|c| c.is_control() || matches!(c, ' ' | '#' | '\\') || !c.is_ascii())
    {
        return Err(refuse(format!(
            "the target contains `{}`",
            bad.escape_default()
        )));
    }
    let path = decode_unreserved(raw_path)?;
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        if matches!(*segment, "." | "..") {
            return Err(refuse("the path has a `.` or `..` segment"));
        }
        if segment.is_empty() && i != last {
            return Err(refuse("the path has an empty segment (`//`)"));
        }
        if segment.contains(';') {
            return Err(refuse("the path has a `;` parameter"));
        }
    }
    if let Some(query) = query
        && query.contains('%')
    {
        // Malformed escapes in the query are refused too; the query is sent as received.
        check_escapes(query)?;
    }
    Ok(Target {
        path,
        query: query.map(str::to_owned),
    })
}

const fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes `%XX` of unreserved characters, upper-cases the others; refuses encoded
/// `/`, `\`, `%`, NUL and control bytes, and malformed escapes.
fn decode_unreserved(path: &str) -> Result<String, TargetError> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let (Some(hi), Some(lo)) = (
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) else {
            return Err(refuse("the path has a malformed `%` escape"));
        };
        let decoded = hi * 16 + lo;
        if unreserved(decoded) {
            out.push(char::from(decoded));
        } else if matches!(decoded, b'/' | b'\\' | b'%') || decoded < 0x20 || decoded == 0x7f {
            return Err(refuse(format!(
                "the path encodes `{}`",
                char::from(decoded).escape_default()
            )));
        } else {
            out.push_str(&format!("%{decoded:02X}"));
        }
        i += 3;
    }
    Ok(out)
}

fn check_escapes(text: &str) -> Result<(), TargetError> {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('%') {
        let ok = bytes.get(i + 1).copied().and_then(hex).is_some()
            && bytes.get(i + 2).copied().and_then(hex).is_some();
        if !ok {
            return Err(refuse("the query has a malformed `%` escape"));
        }
    }
    Ok(())
}

/// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), plus the
/// proxy-only ones.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The header that carries the verified caller's ARN upstream.
pub const CALLER_HEADER: &str = "x-sentinel-caller";

/// The caller's request headers that are forwarded when `SENTINEL_PROXY_FORWARD_HEADERS`
/// names no more: content negotiation, conditional requests, ranges and correlation.
pub const FORWARDED_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "content-encoding",
    "content-language",
    "content-type",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "idempotency-key",
    "pragma",
    "range",
    "user-agent",
    "x-request-id",
];

/// Whether a header name may never be forwarded, whatever the configuration says.
///
/// SECURITY: never the caller's `Authorization` (their SigV4) nor any `X-Amz-*` (their
/// date, session token, content hash), `Host` (the upstream's is set from its URL),
/// `Content-Length` and `Transfer-Encoding` (recomputed), hop-by-hop headers, AWS's own
/// `X-Amzn-*`, anything `X-Sentinel-*` (only the proxy says who called), `Cookie`, and
/// headers that tell an upstream another client address (`Forwarded`, `X-Forwarded-*`,
/// `X-Real-IP`, `True-Client-IP`, ...) or another method or path
/// (`X-HTTP-Method-Override`, `X-Original-URL`, ...): the upstream allow-lists the
/// proxy's IP, and the route allow-list judged this method and path.
pub fn never_forwarded(name: &str) -> bool {
    HOP_BY_HOP.contains(&name)
        || matches!(
            name,
            "authorization"
                | "host"
                | "content-length"
                | "cookie"
                | "forwarded"
                | "x-real-ip"
                | "true-client-ip"
                | "x-client-ip"
                | "client-ip"
                | "x-cluster-client-ip"
                | "cf-connecting-ip"
                | "fastly-client-ip"
                | "x-http-method-override"
                | "x-http-method"
                | "x-method-override"
                | "x-original-url"
                | "x-rewrite-url"
                | "x-original-method"
        )
        || name.starts_with("x-amz-")
        || name.starts_with("x-amzn-")
        || name.starts_with("x-sentinel-")
        || name.starts_with("x-forwarded-")
}

fn connection_names(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The caller's headers that go upstream: those of [`FORWARDED_HEADERS`] and `extra`,
/// less any the caller's `Connection` names.
pub fn request_headers(received: &HeaderMap, extra: &[String]) -> HeaderMap {
    let named = connection_names(received);
    let mut out = HeaderMap::new();
    for (name, value) in received {
        let n = name.as_str();
        let listed = FORWARDED_HEADERS.contains(&n) || extra.iter().any(|e| e == n);
        if listed && !never_forwarded(n) && !named.iter().any(|c| c == n) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// The upstream's headers that go back to the caller: all but hop-by-hop ones,
/// `Content-Length` (the front door sets it for the body it sends) and `Refresh` (a
/// redirect the proxy cannot check).
pub fn response_headers(received: &HeaderMap) -> HeaderMap {
    let named = connection_names(received);
    let mut out = HeaderMap::new();
    for (name, value) in received {
        let n = name.as_str();
        if !(HOP_BY_HOP.contains(&n)
            || named.iter().any(|c| c == n)
            || n == header::CONTENT_LENGTH.as_str()
            || n == "refresh")
        {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::HeaderName;

    #[test]
    fn origin_form_targets_are_canonicalised() {
        let ok = |t: &str| canonical(t).unwrap();
        assert_eq!(ok("/v1/rates").path, "/v1/rates");
        assert_eq!(ok("/").path, "/");
        assert_eq!(ok("/v1/rates/").path, "/v1/rates/");
        assert_eq!(ok("/%61dmin/%7euser").path, "/admin/~user");
        assert_eq!(ok("/a%20b/%c3%a9").path, "/a%20b/%C3%A9");
        let q = ok("/v1/rates?from=EUR&to=USD&x=%2F");
        assert_eq!(q.query.as_deref(), Some("from=EUR&to=USD&x=%2F"));
        assert_eq!(ok("/v1?").query.as_deref(), Some(""));
    }

    #[test]
    fn ambiguous_or_foreign_targets_are_refused() {
        for target in [
            "http://evil.test/v1/rates",
            "evil.test:443",
            "*",
            "",
            "//evil.test/v1",
            "/v1/../admin",
            "/v1/./rates",
            "/v1/%2e%2e/admin",
            "/v1/%2E/rates",
            "/v1/.%2e/admin",
            "/v1%2fadmin",
            "/v1%5cadmin",
            "/v1\\admin",
            "/v1//admin",
            "/v1/rates/..;/admin",
            "/v1;jsessionid=x/rates",
            "/v1/%00",
            "/v1/%0a",
            "/v1/%zz",
            "/v1/%4",
            "/v1/a b",
            "/v1/#frag",
            "/v1/é",
            "/v1?x=%g1",
            "/v1/..",
        ] {
            assert!(canonical(target).is_err(), "{target:?} was accepted");
        }
    }

    #[test]
    fn the_callers_credentials_and_hop_headers_stay_behind() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKID/..."),
            ("x-amz-date", "20261204T000000Z"),
            ("x-amz-security-token", "token"),
            ("x-amz-content-sha256", "abc"),
            ("x-amzn-trace-id", "Root=1-abc"),
            ("host", "proxy.example.test"),
            ("content-length", "5"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("proxy-authorization", "Basic xyz"),
            ("te", "trailers"),
            ("x-sentinel-caller", "arn:aws:iam::111122223333:user/admin"),
            ("forwarded", "for=10.0.0.1"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-host", "evil.test"),
            ("x-real-ip", "10.0.0.1"),
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("x-request-id", "r-1"),
            ("x-http-method-override", "DELETE"),
            ("x-original-url", "/admin"),
            ("true-client-ip", "10.0.0.1"),
            ("client-ip", "10.0.0.1"),
            ("cookie", "session=caller"),
            ("x-custom", "kept only when configured"),
            ("x-tenant", "t-1"),
        ] {
            h.append(name, HeaderValue::from_static(value));
        }
        let out = request_headers(&h, &[]);
        let mut names: Vec<&str> = out.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["accept", "content-type", "x-request-id"]);
        let extra = ["x-tenant".to_owned(), "x-custom".to_owned()];
        let out = request_headers(&h, &extra);
        let mut names: Vec<&str> = out.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "accept",
                "content-type",
                "x-custom",
                "x-request-id",
                "x-tenant"
            ]
        );
        // `Connection` may drop a listed header, never add one.
        h.insert("connection", HeaderValue::from_static("accept, x-tenant"));
        let out = request_headers(&h, &extra);
        assert!(!out.contains_key("accept") && !out.contains_key("x-tenant"));
    }

    #[test]
    fn response_headers_lose_only_hop_headers() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("content-type", "text/plain"),
            ("content-length", "3"),
            ("connection", "close"),
            ("transfer-encoding", "chunked"),
            ("set-cookie", "a=1"),
            ("refresh", "0; url=https://evil.test/"),
            ("x-upstream", "yes"),
        ] {
            h.append(name, HeaderValue::from_static(value));
        }
        let out = response_headers(&h);
        let mut names: Vec<&str> = out.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-type", "set-cookie", "x-upstream"]);
    }
}
