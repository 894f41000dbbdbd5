//! Redaction of secrets in vendor bodies before they reach errors or logs.
//!
//! Vendor responses can hold live credentials (Zapmail's mailbox list returns passwords and
//! TOTP secrets; PlusVibe's create-client returns a one-time password). Any body we keep for
//! diagnostics goes through [`redact_body`] first.

use serde_json::Value;

/// The replacement text for a redacted value.
pub const REDACTED: &str = "[REDACTED]";

/// Longest body kept in an error, in characters.
pub const MAX_BODY_CHARS: usize = 512;

/// Whether a JSON key names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    const NEEDLES: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "totp",
        "apikey",
        "authzapmail",
        "otp",
        "twofa",
        "2fa",
        "mfa",
        "privatekey",
        "credential",
        "cookie",
        "authorization",
    ];
    NEEDLES.iter().any(|n| k.contains(n)) || k == "key" || k == "pass" || k == "pwd"
}

/// Replace every secret-named value in a JSON document, in place.
pub fn redact_value(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_key(k) && !val.is_null() {
                    *val = Value::String(REDACTED.into());
                } else {
                    redact_value(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

/// A body fit for an error message: secrets redacted, truncated to [`MAX_BODY_CHARS`].
///
/// JSON bodies are parsed and redacted structurally. Anything else (a malformed or cut-off
/// body) is scanned for `"secret_key": "value"` pairs, whose values are blanked.
pub fn redact_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let redacted = match serde_json::from_str::<Value>(&text) {
        Ok(mut v) => {
            redact_value(&mut v);
            v.to_string()
        }
        // Escaped so that an error quoting the body stays one line (found by the
        // decoder property tests).
        Err(_) => redact_text(&text)
            .chars()
            .flat_map(|c| {
                let escaped: Vec<char> = if c.is_control() {
                    c.escape_default().collect()
                } else {
                    vec![c]
                };
                escaped
            })
            .collect(),
    };
    truncate(&redacted, MAX_BODY_CHARS)
}

/// Blank the values of secret-named keys in text that is not valid JSON.
fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Find each quoted key followed by ':' and, if it names a secret, blank the value
    // up to the next quote, comma or brace (or the end of a cut-off body).
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else {
            out.push_str(rest);
            return out;
        };
        let key = &after[..end];
        let tail = &after[end + 1..];
        out.push_str(&rest[..start + 1 + end + 1]);
        let trimmed = tail.trim_start();
        if is_secret_key(key) && trimmed.starts_with(':') {
            let value = trimmed[1..].trim_start();
            let skipped = tail.len() - value.len();
            out.push_str(&tail[..skipped]);
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
            let value_len = if let Some(v) = value.strip_prefix('"') {
                v.find('"').map(|i| i + 2).unwrap_or(value.len())
            } else {
                value.find([',', '}', ']', '\n']).unwrap_or(value.len())
            };
            rest = &value[value_len..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Truncate to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…(truncated)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_secrets_are_redacted_at_any_depth() {
        let body = br#"{"data":[{"email":"a@x.com","password":"hunter2","totpSecret":"JBSW","nested":{"apiKey":"k-1"}}],"client_id":"c1"}"#;
        let out = redact_body(body);
        assert!(!out.contains("hunter2"));
        assert!(!out.contains("JBSW"));
        assert!(!out.contains("k-1"));
        assert!(out.contains("a@x.com"));
        assert!(out.contains("c1"));
    }

    #[test]
    fn malformed_bodies_are_redacted_too() {
        let body = br#"{"email":"a@x.com","password": "hunter2","x":1, "otp":12345, "cut":"#;
        let out = redact_body(body);
        assert!(!out.contains("hunter2"), "{out}");
        assert!(!out.contains("12345"), "{out}");
        assert!(out.contains("a@x.com"));
        let cut = redact_body(br#"{"password":"hunt"#);
        assert!(!cut.contains("hunt\""), "{cut}");
        assert!(!cut.contains("hunt"), "{cut}");
    }

    #[test]
    fn long_bodies_are_truncated() {
        let long = "x".repeat(5000);
        let out = redact_body(long.as_bytes());
        assert!(out.chars().count() < 600);
        assert!(out.ends_with("(truncated)"));
    }

    #[test]
    fn secret_key_detection() {
        for k in [
            "password",
            "Password",
            "pipl_password",
            "totp_secret",
            "x-api-key",
            "apiKey",
            "token",
            "key",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["email", "domain", "workspace_id", "keyword", "message"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn a_non_json_body_quoted_in_an_error_stays_on_one_line() {
        let r = redact_body(b"line one\nline two\r\x1b[31m\x00");
        assert!(!r.chars().any(char::is_control), "{r}");
        assert!(r.contains("line one\\nline two"), "{r}");
    }
}
