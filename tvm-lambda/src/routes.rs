//! Routing (method and path to a [`Route`]) and the vend input (query or JSON body).

use protocol::ErrorCode;

use super::{AdminRoute, ApiError, ApiRequest, BreakGlassRoute, MAX_BODY_BYTES, RequestsRoute};

pub(super) enum Route {
    Vend,
    Exchange,
    Profiles,
    Admin(AdminRoute),
    Requests(RequestsRoute),
    BreakGlass(BreakGlassRoute),
}

pub(super) fn route(method: &str, path: &str) -> Result<Route, ApiError> {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let not_allowed = || {
        ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("method `{method}` is not allowed on `{path}`"),
        )
    };
    if let Some(route) = gate_route(method, path) {
        return route;
    }
    // `/sessions/{id}` and `/sessions/{id}/revoke`; the fixed paths below come first.
    let session = path
        .strip_prefix("/sessions/")
        .filter(|rest| !matches!(*rest, "revoke" | "reconcile"))
        .map(|rest| rest.split_once('/').unwrap_or((rest, "")));
    match (session, method) {
        (Some((id, "")), "GET") => return Ok(Route::Admin(AdminRoute::Show(id.to_owned()))),
        (Some((id, "revoke")), "POST") => {
            return Ok(Route::Admin(AdminRoute::Revoke(id.to_owned())));
        }
        (Some((_, "" | "revoke")), _) => return Err(not_allowed()),
        _ => {}
    }
    match (path, method) {
        ("/", "GET" | "POST") => Ok(Route::Vend),
        ("/exchange", "POST") => Ok(Route::Exchange),
        ("/profiles", "GET") => Ok(Route::Profiles),
        ("/sessions", "GET") => Ok(Route::Admin(AdminRoute::List)),
        ("/sessions/revoke", "POST") => Ok(Route::Admin(AdminRoute::RevokeBulk)),
        ("/sessions/reconcile", "POST") => Ok(Route::Admin(AdminRoute::Reconcile)),
        ("/sessions" | "/sessions/revoke" | "/sessions/reconcile", _) => Err(not_allowed()),
        ("/" | "/profiles" | "/exchange", _) => Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("method `{method}` is not allowed on `{path}`"),
        )),
        _ => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no route for `{path}`"),
        )),
    }
}

/// Profile and raw duration from the query (GET) or the JSON body (POST).
pub(super) struct VendInput {
    pub(super) profile: String,
    pub(super) duration: Option<String>,
}

pub(super) fn parse_vend_input(request: &ApiRequest) -> Result<VendInput, ApiError> {
    let missing = || {
        ApiError::new(
            ErrorCode::MissingProfile,
            "the `profile` parameter is required",
        )
    };
    if request.method == "POST" {
        if request.body.len() > MAX_BODY_BYTES {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "the request body is too large",
            ));
        }
        // SECURITY: the body alone names what to vend; a query beside it could say
        // something else (SigV4's own `X-Amz-*` parameters are authentication, not input).
        let query = request.query.as_deref().unwrap_or("").as_bytes();
        if let Some((key, _)) =
            form_urlencoded::parse(query).find(|(key, _)| !key.starts_with("X-Amz-"))
        {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("`POST /` takes its input from the body, not the query (`{key}`)"),
            ));
        }
        if request.body.iter().all(u8::is_ascii_whitespace) {
            return Err(missing());
        }
        return parse_vend_body(&request.body);
    }

    let mut profile = None;
    let mut duration = None;
    for (key, value) in form_urlencoded::parse(request.query.as_deref().unwrap_or("").as_bytes()) {
        let slot = match key.as_ref() {
            "profile" => &mut profile,
            "duration" => &mut duration,
            // SigV4 query-string authentication (presigned URLs); AWS has checked it.
            signing if signing.starts_with("X-Amz-") => continue,
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "unknown query parameter `{other}` (expected `profile` and `duration`)"
                    ),
                ));
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("query parameter `{key}` is given more than once"),
            ));
        }
    }
    match profile {
        Some(profile) if !profile.is_empty() => Ok(VendInput { profile, duration }),
        _ => Err(missing()),
    }
}

/// `POST /` body (docs/api.md: `{"profile": "P", "duration": 3600}`), read field by field
/// so that each problem gets its own code: a missing or empty profile is
/// `MISSING_PROFILE`, any duration that is not an integer in range `INVALID_DURATION`.
fn parse_vend_body(body: &[u8]) -> Result<VendInput, ApiError> {
    const SHAPE: &str =
        "the body must be a JSON object like {\"profile\": \"P\", \"duration\": 3600}";
    let UniqueKeys(mut fields) = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, SHAPE).with_cause(&e))?;
    let profile = fields.remove("profile");
    let duration = fields.remove("duration");
    if let Some(unknown) = fields.keys().next() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("unknown field `{unknown}` (expected `profile` and `duration`)"),
        ));
    }
    let profile = match profile {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(p)) => Some(p).filter(|p| !p.is_empty()),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidProfile,
                "`profile` must be a string",
            ));
        }
    }
    .ok_or_else(|| ApiError::new(ErrorCode::MissingProfile, "the `profile` field is required"))?;
    let duration = match duration {
        None | Some(serde_json::Value::Null) => None,
        // The text goes through the same check as the query parameter: 900.5, 1e3 or
        // 99999999999999999999 are refused there as INVALID_DURATION.
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidDuration,
                format!("`duration` must be a whole number of seconds, not {other}"),
            ));
        }
    };
    Ok(VendInput { profile, duration })
}

/// A JSON object whose keys are all different. serde_json keeps the last of two equal
/// keys; a request that says `profile` twice is ambiguous and refused instead.
pub(super) struct UniqueKeys(pub(super) serde_json::Map<String, serde_json::Value>);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UniqueKeys, A::Error> {
                let mut fields = serde_json::Map::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    if fields.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    fields.insert(key, value);
                }
                Ok(UniqueKeys(fields))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// `/requests[/{id}[/approve|deny|revoke]]` and `/breakglass[/{id}[/review]]`.
fn gate_route(method: &str, path: &str) -> Option<Result<Route, ApiError>> {
    let not_allowed = || {
        Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("method `{method}` is not allowed on `{path}`"),
        ))
    };
    let (base, rest) = if let Some(rest) = path.strip_prefix("/requests") {
        ("requests", rest)
    } else if let Some(rest) = path.strip_prefix("/breakglass") {
        ("breakglass", rest)
    } else {
        return None;
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let parts: Vec<&str> = rest.split('/').skip(1).collect();
    let id = |i: usize| parts.get(i).map(|s| (*s).to_owned()).unwrap_or_default();
    let route = match (base, parts.as_slice(), method) {
        (_, [_, _, _, ..], _) => return None,
        ("requests", [], "POST") => Route::Requests(RequestsRoute::Create),
        ("requests", [], "GET") => Route::Requests(RequestsRoute::List),
        ("requests", [_], "GET") => Route::Requests(RequestsRoute::Show(id(0))),
        ("requests", [_, "approve"], "POST") => Route::Requests(RequestsRoute::Approve(id(0))),
        ("requests", [_, "deny"], "POST") => Route::Requests(RequestsRoute::Deny(id(0))),
        ("requests", [_, "revoke"], "POST") => Route::Requests(RequestsRoute::Revoke(id(0))),
        ("breakglass", [], "POST") => Route::BreakGlass(BreakGlassRoute::Open),
        ("breakglass", [], "GET") => Route::BreakGlass(BreakGlassRoute::List),
        ("breakglass", [_], "GET") => Route::BreakGlass(BreakGlassRoute::Show(id(0))),
        ("breakglass", [_, "review"], "POST") => Route::BreakGlass(BreakGlassRoute::Review(id(0))),
        ("requests", [] | [_] | [_, "approve" | "deny" | "revoke"], _)
        | ("breakglass", [] | [_] | [_, "review"], _) => return Some(not_allowed()),
        _ => return None,
    };
    Some(Ok(route))
}
