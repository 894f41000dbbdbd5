//! Step 3, "Configure Mailboxes": two username patterns that cascade over every chosen
//! domain, a preview grid, and the sender's first and last name.

use serde::{Deserialize, Serialize};
use zapmail::validate::validate_mailbox_username;

use super::WizardError;

/// Check the two mailbox patterns with Zapmail's username rules (no leading/trailing `.`,
/// `_` or `-`, no consecutive separators, letters/digits/`.`/`_`/`-` only, ≤ 64 chars).
/// Patterns are trimmed and lower-cased (as the engine stores them) and must differ.
/// The error names the pattern (1 or 2) and the rule it breaks.
pub fn validate_patterns<S: AsRef<str>>(patterns: [S; 2]) -> Result<[String; 2], WizardError> {
    let mut out = [String::new(), String::new()];
    for (i, raw) in patterns.iter().enumerate() {
        let p = raw.as_ref().trim().to_ascii_lowercase();
        validate_mailbox_username(&p).map_err(|e| {
            WizardError::InvalidPattern(format!("mailbox pattern {} ({p:?}): {e}", i + 1))
        })?;
        out[i] = p;
    }
    if out[0] == out[1] {
        return Err(WizardError::InvalidPattern(format!(
            "the two mailbox patterns are the same ({:?}); each domain needs two different usernames",
            out[0]
        )));
    }
    Ok(out)
}

/// One mailbox of the preview grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    /// The domain (lower-case).
    pub domain: String,
    /// The username (a pattern).
    pub username: String,
    /// `username@domain`.
    pub email: String,
}

/// Every mailbox the provision will create: for each domain (in order), each pattern
/// (in order). Domains are trimmed and lower-cased; patterns are used as given (validate
/// them first with [`validate_patterns`]).
pub fn preview<D: AsRef<str>, P: AsRef<str>>(domains: &[D], patterns: &[P]) -> Vec<PreviewRow> {
    domains
        .iter()
        .flat_map(|d| {
            let domain = zapmail::validate::normalize_domain_name(d.as_ref());
            patterns.iter().map(move |p| {
                let username = p.as_ref().to_string();
                PreviewRow {
                    email: format!("{username}@{domain}"),
                    domain: domain.clone(),
                    username,
                }
            })
        })
        .collect()
}

/// The sender's `(first, last)` name derived from the customer's full name, as the engine
/// derives it: the first word, and the rest (the first name again for a one-word name).
pub fn sender_names(customer_name: &str) -> Result<(String, String), WizardError> {
    sender_names_with(customer_name, None, None)
}

/// [`sender_names`] with either part overridden (an override is trimmed and must not be
/// empty).
pub fn sender_names_with(
    customer_name: &str,
    first: Option<&str>,
    last: Option<&str>,
) -> Result<(String, String), WizardError> {
    if customer_name.chars().any(char::is_control) {
        return Err(WizardError::InvalidName(
            "the customer name contains control characters".into(),
        ));
    }
    let mut words = customer_name.split_whitespace();
    let first = match first {
        Some(f) => {
            let f = f.trim();
            if f.is_empty() {
                return Err(WizardError::InvalidName(
                    "the sender first name override is empty".into(),
                ));
            }
            let _ = words.next();
            f.to_string()
        }
        None => words.next().unwrap_or_default().to_string(),
    };
    if first.is_empty() {
        return Err(WizardError::InvalidName(
            "the customer name is empty; enter a name or a sender first name".into(),
        ));
    }
    let last = match last {
        Some(l) => {
            let l = l.trim();
            if l.is_empty() {
                return Err(WizardError::InvalidName(
                    "the sender last name override is empty".into(),
                ));
            }
            l.to_string()
        }
        None => words.collect::<Vec<_>>().join(" "),
    };
    let last = if last.is_empty() { first.clone() } else { last };
    Ok((first, last))
}
