//! Wire helpers of the simulator: ASP.NET-style body reading and error envelopes, profile
//! URL normalisation, timestamps.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use vendor_http::sim::{SimRequest, SimResponse};

/// A handler's early exit: the error response to send.
pub(crate) type Reply<T> = Result<T, SimResponse>;

static TRACE: AtomicU64 = AtomicU64::new(1);

fn trace_id() -> String {
    let n = TRACE.fetch_add(1, Ordering::Relaxed);
    format!(
        "00-{:032x}-{:016x}-00",
        u128::from(n) * 0x9e37_79b9_7f4a_7c15,
        n
    )
}

/// `400 {"errorMessage": ...}`: HeyReach's business-rule envelope (§3).
pub(crate) fn business(status: u16, message: &str) -> SimResponse {
    SimResponse::json(status, json!({ "errorMessage": message }))
}

/// ASP.NET `ValidationProblemDetails` (§3): `{"type","title","status","errors","traceId"}`.
pub(crate) fn validation(field: &str, message: impl Into<String>) -> SimResponse {
    let mut errors = Map::new();
    errors.insert(field.to_string(), json!([message.into()]));
    SimResponse::json(
        400,
        json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": errors,
            "traceId": trace_id(),
        }),
    )
}

/// A JSON value System.Text.Json could not bind to the declared type.
pub(crate) fn conversion(path: &str, dotnet_type: &str) -> SimResponse {
    validation(
        &format!("$.{path}"),
        format!("The JSON value could not be converted to {dotnet_type}. Path: $.{path}"),
    )
}

/// `415` ProblemDetails for a JSON endpoint called without a JSON body (§1, S13).
pub(crate) fn unsupported_media_type() -> SimResponse {
    SimResponse::json(
        415,
        json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.16",
            "title": "Unsupported Media Type",
            "status": 415,
            "traceId": trace_id(),
        }),
    )
}

/// The JSON object body of a `[FromBody]` endpoint, or the 415/400 ASP.NET would answer.
pub(crate) fn json_body(req: &SimRequest) -> Reply<&Map<String, Value>> {
    let is_json = req
        .header("content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    if !req.has_body || !is_json {
        return Err(unsupported_media_type());
    }
    match &req.body {
        Value::Object(map) => Ok(map),
        Value::Null => Err(validation(
            "$",
            "The input does not contain any JSON tokens or is not valid JSON.",
        )),
        _ => Err(validation(
            "$",
            "The JSON value could not be converted to the request type. Path: $",
        )),
    }
}

/// A body field, matched case-insensitively as ASP.NET does.
pub(crate) fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.get(name).or_else(|| {
        body.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// An integer field (numbers in strings are accepted, as ASP.NET's web defaults do).
pub(crate) fn int_field(body: &Map<String, Value>, name: &str) -> Reply<Option<i64>> {
    match field(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| conversion(name, "System.Int64")),
        Some(_) => Err(conversion(name, "System.Int64")),
    }
}

/// A string field.
pub(crate) fn str_field<'a>(body: &'a Map<String, Value>, name: &str) -> Reply<Option<&'a str>> {
    match field(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(conversion(name, "System.String")),
    }
}

/// An array field (`None` when absent or null).
pub(crate) fn array_field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
    dotnet_type: &str,
) -> Reply<Option<&'a Vec<Value>>> {
    match field(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(conversion(name, dotnet_type)),
    }
}

/// An array of integers.
pub(crate) fn int_array(body: &Map<String, Value>, name: &str) -> Reply<Vec<i64>> {
    let Some(items) = array_field(body, name, "System.Int64[]")? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|v| match v {
            Value::Number(n) if n.is_i64() => Ok(n.as_i64().unwrap_or_default()),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| conversion(name, "System.Int64[]")),
            _ => Err(conversion(name, "System.Int64[]")),
        })
        .collect()
}

/// An array of strings (`None` when absent or null).
pub(crate) fn str_array(body: &Map<String, Value>, name: &str) -> Reply<Option<Vec<String>>> {
    let Some(items) = array_field(body, name, "System.String[]")? else {
        return Ok(None);
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(conversion(name, "System.String[]")),
        })
        .collect::<Reply<Vec<_>>>()
        .map(Some)
}

/// `offset`/`limit` of a paged read (§5): defaults 0 and 10; a limit outside `0..=max` or a
/// negative offset is a validation error (the real behaviour above the maximum is unknown,
/// §5; this is the simulator's choice).
pub(crate) fn paging(body: &Map<String, Value>, max: i64) -> Reply<(usize, usize)> {
    let offset = int_field(body, "offset")?.unwrap_or(0);
    let limit = int_field(body, "limit")?.unwrap_or(10);
    if offset < 0 {
        return Err(validation(
            "Offset",
            "The field Offset must be between 0 and 2147483647.",
        ));
    }
    if !(0..=max).contains(&limit) {
        return Err(validation(
            "Limit",
            format!("The field Limit must be between 0 and {max}."),
        ));
    }
    Ok((offset as usize, limit as usize))
}

/// One page of `items`: `{"totalCount", "items"}`.
pub(crate) fn page(items: Vec<Value>, offset: usize, limit: usize) -> SimResponse {
    let total = items.len();
    let items: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    SimResponse::ok(json!({ "totalCount": total, "items": items }))
}

/// A required integer query parameter (`?listId=`), with ASP.NET's binding errors.
pub(crate) fn query_id(req: &SimRequest, name: &str) -> Reply<i64> {
    match req
        .query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
    {
        None | Some("") => Err(validation(name, format!("The {name} field is required."))),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| validation(name, format!("The value '{v}' is not valid."))),
    }
}

/// The key leads are upserted on. HeyReach's own normalisation is unknown (§6.5); the
/// simulator ignores case, the scheme, `www.`, query, fragment and trailing slashes.
pub(crate) fn profile_key(url: &str) -> String {
    let mut s = url.trim().to_ascii_lowercase();
    if let Some(i) = s.find(['?', '#']) {
        s.truncate(i);
    }
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.")
        .trim_end_matches('/');
    s.to_string()
}

/// Whether the URL looks like a LinkedIn profile (`/in/` or Sales Navigator `/sales/`).
pub(crate) fn is_linkedin_profile(url: &str) -> bool {
    let k = profile_key(url);
    let host_ok = k.starts_with("linkedin.com/") || k.contains(".linkedin.com/");
    host_ok && (k.contains("/in/") || k.contains("/sales/"))
}

/// The username part of a profile URL (`jane-doe` for `.../in/jane-doe/`), as
/// `notFoundInList` reports it (§6.7).
pub(crate) fn username(url: &str) -> String {
    let trimmed = url.trim();
    let lower = trimmed.to_ascii_lowercase();
    match lower.find("/in/") {
        Some(i) => trimmed[i + 4..]
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default()
            .to_string(),
        None => trimmed.trim_end_matches('/').to_string(),
    }
}

/// ISO-8601 UTC with 7 fractional digits, as HeyReach prints them.
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    let micros = t.to_rfc3339_opts(SecondsFormat::Micros, true);
    // "...:56.541778Z" -> "...:56.5417780Z"
    format!("{}0Z", micros.trim_end_matches('Z'))
}

/// Parse a request timestamp (offsets allowed); `None` if it is not ISO-8601.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_urls() {
        let a = profile_key("https://www.linkedin.com/in/Jane-Doe/?utm=x");
        assert_eq!(a, "linkedin.com/in/jane-doe");
        assert_eq!(a, profile_key("http://linkedin.com/in/jane-doe"));
        assert!(is_linkedin_profile("https://www.linkedin.com/in/jane-doe"));
        assert!(!is_linkedin_profile("https://example.com/in/jane"));
        assert_eq!(
            username("https://www.linkedin.com/in/jane-doe/"),
            "jane-doe"
        );
        assert_eq!(username("not a url"), "not a url");
    }

    #[test]
    fn times() {
        let t = parse_time("2024-10-06T17:34:00+02:00").unwrap();
        assert_eq!(iso(t), "2024-10-06T15:34:00.0000000Z");
        assert!(parse_time("2024-10-06T17:34:00").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
