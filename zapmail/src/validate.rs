//! Local validation of what Zapmail would reject, so callers can check input before
//! spending a request (or a rate-limit slot): mailbox usernames, domain-name syntax and the
//! registrar's TLD allow-list.
//!
//! ```
//! use zapmail::validate::{SupportedTlds, validate_mailbox_username};
//!
//! assert!(validate_mailbox_username("tim.keen").is_ok());
//! let err = validate_mailbox_username("tim..keen").unwrap_err();
//! assert!(err.to_string().contains("consecutive"));
//!
//! let tlds = SupportedTlds::default();
//! assert_eq!(tlds.check("AcmeOutreach.com").unwrap(), "acmeoutreach.com");
//! assert!(tlds.check("acme.io").is_err()); // .io is not sold by Zapmail
//! ```

use std::collections::BTreeSet;
use std::fmt;

use crate::{Error, VENDOR};

/// Longest mailbox username accepted: the RFC 5321 local-part limit. Zapmail documents no
/// length rule (zapmail.md §6.9); this is an inferred bound.
pub const MAX_USERNAME_LEN: usize = 64;

/// Why a mailbox username is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsernameError {
    /// The username is empty.
    Empty,
    /// Longer than [`MAX_USERNAME_LEN`] characters.
    TooLong {
        /// The username's length.
        len: usize,
    },
    /// A character other than ASCII letters, digits, `.`, `_` and `-`.
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its 0-based position.
        position: usize,
    },
    /// Starts with `.`, `_` or `-` (documented Zapmail rule).
    StartsWithSeparator(char),
    /// Ends with `.`, `_` or `-` (documented Zapmail rule).
    EndsWithSeparator(char),
    /// Two of `.`, `_`, `-` next to each other, e.g. `tim..keen` or `tim._keen`
    /// (documented Zapmail rule).
    ConsecutiveSeparators {
        /// The offending pair.
        pair: String,
        /// 0-based position of the pair's first character.
        position: usize,
    },
}

impl fmt::Display for UsernameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsernameError::Empty => f.write_str("mailbox username is empty"),
            UsernameError::TooLong { len } => write!(
                f,
                "mailbox username is {len} characters long; at most {MAX_USERNAME_LEN} are allowed"
            ),
            UsernameError::InvalidCharacter { ch, position } => write!(
                f,
                "mailbox username contains {ch:?} at position {position}; only letters, digits, '.', '_' and '-' are allowed"
            ),
            UsernameError::StartsWithSeparator(c) => write!(
                f,
                "mailbox username must not start with '{c}' (no leading '.', '_' or '-')"
            ),
            UsernameError::EndsWithSeparator(c) => write!(
                f,
                "mailbox username must not end with '{c}' (no trailing '.', '_' or '-')"
            ),
            UsernameError::ConsecutiveSeparators { pair, position } => write!(
                f,
                "mailbox username has consecutive separators {pair:?} at position {position}; '.', '_' and '-' may not follow each other"
            ),
        }
    }
}

impl std::error::Error for UsernameError {}

impl From<UsernameError> for Error {
    fn from(e: UsernameError) -> Self {
        Error::invalid_input(VENDOR, e.to_string())
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, '.' | '_' | '-')
}

/// Check a mailbox username (the part before `@`) against Zapmail's rules
/// (zapmail.md §6.9, "Validation rules" 2):
/// - it must not start or end with `.`, `_` or `-`;
/// - it must not contain consecutive `.`/`_`/`-` (any two of them adjacent, e.g. `..`,
///   `._`, `-_`).
///
/// Two rules are inferred, as Zapmail publishes no others: only ASCII letters, digits,
/// `.`, `_` and `-` are allowed, and at most [`MAX_USERNAME_LEN`] characters. The error
/// says which rule failed and where.
pub fn validate_mailbox_username(username: &str) -> Result<(), UsernameError> {
    if username.is_empty() {
        return Err(UsernameError::Empty);
    }
    let len = username.chars().count();
    if len > MAX_USERNAME_LEN {
        return Err(UsernameError::TooLong { len });
    }
    for (position, ch) in username.chars().enumerate() {
        if !(ch.is_ascii_alphanumeric() || is_separator(ch)) {
            return Err(UsernameError::InvalidCharacter { ch, position });
        }
    }
    let first = username.chars().next().unwrap_or_default();
    if is_separator(first) {
        return Err(UsernameError::StartsWithSeparator(first));
    }
    let last = username.chars().last().unwrap_or_default();
    if is_separator(last) {
        return Err(UsernameError::EndsWithSeparator(last));
    }
    let chars: Vec<char> = username.chars().collect();
    for (position, w) in chars.windows(2).enumerate() {
        if is_separator(w[0]) && is_separator(w[1]) {
            return Err(UsernameError::ConsecutiveSeparators {
                pair: w.iter().collect(),
                position,
            });
        }
    }
    Ok(())
}

/// Longest domain name (RFC 1035).
pub const MAX_DOMAIN_LEN: usize = 253;
/// Longest label of a domain name (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;

/// Why a domain name is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DomainNameError {
    /// Empty after trimming.
    Empty,
    /// Longer than [`MAX_DOMAIN_LEN`].
    TooLong {
        /// Its length.
        len: usize,
    },
    /// No dot: a keyword, not a domain name (e.g. `acme` instead of `acme.com`).
    MissingTld,
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A label longer than [`MAX_LABEL_LEN`].
    LabelTooLong {
        /// The label.
        label: String,
    },
    /// A character other than ASCII letters, digits and `-`.
    InvalidCharacter {
        /// The character.
        ch: char,
    },
    /// A label starting or ending with `-`.
    HyphenAtLabelEdge {
        /// The label.
        label: String,
    },
    /// The TLD is not letters only.
    InvalidTld {
        /// The TLD.
        tld: String,
    },
    /// The TLD is well-formed but the registrar does not sell it.
    UnsupportedTld {
        /// The TLD.
        tld: String,
        /// The TLDs that are supported, comma-separated.
        supported: String,
    },
}

impl fmt::Display for DomainNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainNameError::Empty => f.write_str("domain name is empty"),
            DomainNameError::TooLong { len } => write!(
                f,
                "domain name is {len} characters long; at most {MAX_DOMAIN_LEN} are allowed"
            ),
            DomainNameError::MissingTld => {
                f.write_str("domain name has no TLD (expected e.g. \"acme.com\")")
            }
            DomainNameError::EmptyLabel => {
                f.write_str("domain name has an empty label (a leading dot or two dots in a row)")
            }
            DomainNameError::LabelTooLong { label } => write!(
                f,
                "domain label {label:?} is longer than {MAX_LABEL_LEN} characters"
            ),
            DomainNameError::InvalidCharacter { ch } => write!(
                f,
                "domain name contains {ch:?}; only letters, digits, '-' and '.' are allowed"
            ),
            DomainNameError::HyphenAtLabelEdge { label } => {
                write!(f, "domain label {label:?} must not start or end with '-'")
            }
            DomainNameError::InvalidTld { tld } => {
                write!(f, "TLD {tld:?} is not valid (letters only)")
            }
            DomainNameError::UnsupportedTld { tld, supported } => write!(
                f,
                "TLD .{tld} is not supported by Zapmail (supported: {supported})"
            ),
        }
    }
}

impl std::error::Error for DomainNameError {}

impl From<DomainNameError> for Error {
    fn from(e: DomainNameError) -> Self {
        Error::invalid_input(VENDOR, e.to_string())
    }
}

/// Trim, lower-case and drop a trailing dot: the form Zapmail lists names in.
pub fn normalize_domain_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Check the syntax of a registrable domain name (`label.tld`, letters/digits/hyphens,
/// RFC 1035 lengths, alphabetic TLD). Case is ignored; see [`normalize_domain_name`].
/// This does not check the TLD allow-list: use [`SupportedTlds::check`] for both.
pub fn validate_domain_name(name: &str) -> Result<(), DomainNameError> {
    let name = normalize_domain_name(name);
    if name.is_empty() {
        return Err(DomainNameError::Empty);
    }
    if name.len() > MAX_DOMAIN_LEN {
        return Err(DomainNameError::TooLong { len: name.len() });
    }
    if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(DomainNameError::InvalidCharacter { ch });
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err(DomainNameError::MissingTld);
    }
    for label in &labels {
        if label.is_empty() {
            return Err(DomainNameError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(DomainNameError::LabelTooLong {
                label: (*label).to_string(),
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainNameError::HyphenAtLabelEdge {
                label: (*label).to_string(),
            });
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(DomainNameError::InvalidTld {
            tld: tld.to_string(),
        });
    }
    Ok(())
}

/// The TLD of a name (lower-case, after the last dot), if it has one.
pub fn tld_of(name: &str) -> Option<String> {
    let name = normalize_domain_name(name);
    name.rsplit_once('.').map(|(_, tld)| tld.to_string())
}

/// The TLDs the registrar sells: an allow-list checked before availability queries and
/// purchases.
///
/// The default is the v2 list Zapmail support gave: `com, net, org, biz, live, info`
/// (zapmail.md §6.4). `.io` is **not** supported (the original design assumed it was);
/// `.co` appears only in the v3 docs — add it with [`SupportedTlds::v3`] or
/// [`SupportedTlds::with`] if your account sells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedTlds {
    tlds: BTreeSet<String>,
}

/// Another name for [`SupportedTlds`].
pub type TldPolicy = SupportedTlds;

impl Default for SupportedTlds {
    fn default() -> Self {
        SupportedTlds::new(SupportedTlds::V2)
    }
}

impl SupportedTlds {
    /// The v2 allow-list (support answer, zapmail.md §6.4).
    pub const V2: &'static [&'static str] = &["com", "net", "org", "biz", "live", "info"];

    /// An allow-list of these TLDs (with or without a leading dot; case-insensitive).
    pub fn new<I, S>(tlds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        SupportedTlds {
            tlds: tlds
                .into_iter()
                .map(|t| {
                    t.as_ref()
                        .trim()
                        .trim_start_matches('.')
                        .to_ascii_lowercase()
                })
                .filter(|t| !t.is_empty())
                .collect(),
        }
    }

    /// The v3 docs' list: the v2 list plus `co` (zapmail.md §8).
    pub fn v3() -> Self {
        SupportedTlds::default().with("co")
    }

    /// The same list plus `tld`.
    pub fn with(mut self, tld: &str) -> Self {
        self.tlds
            .insert(tld.trim().trim_start_matches('.').to_ascii_lowercase());
        self
    }

    /// The same list without `tld`.
    pub fn without(mut self, tld: &str) -> Self {
        self.tlds
            .remove(&tld.trim().trim_start_matches('.').to_ascii_lowercase());
        self
    }

    /// Whether `tld` (with or without a leading dot) is supported.
    pub fn contains(&self, tld: &str) -> bool {
        self.tlds
            .contains(&tld.trim().trim_start_matches('.').to_ascii_lowercase())
    }

    /// The supported TLDs, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.tlds.iter().map(String::as_str)
    }

    /// Check syntax and TLD; returns the normalized (lower-case) name.
    pub fn check(&self, name: &str) -> Result<String, DomainNameError> {
        validate_domain_name(name)?;
        let normalized = normalize_domain_name(name);
        let tld = tld_of(&normalized).unwrap_or_default();
        if !self.contains(&tld) {
            return Err(DomainNameError::UnsupportedTld {
                tld,
                supported: self.iter().collect::<Vec<_>>().join(", "),
            });
        }
        Ok(normalized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_documented_rules() {
        for ok in [
            "tim", "tim.keen", "tim_keen", "tim-keen", "t1m", "a", "John.Doe",
        ] {
            assert_eq!(validate_mailbox_username(ok), Ok(()), "{ok}");
        }
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            (".tim", "must not start with '.'"),
            ("_tim", "must not start with '_'"),
            ("tim-", "must not end with '-'"),
            ("tim..keen", "consecutive separators \"..\""),
            ("tim._keen", "consecutive separators \"._\""),
            ("tim-_keen", "consecutive"),
            ("tim keen", "contains ' '"),
            ("tim@keen", "contains '@'"),
            ("tïm", "contains 'ï'"),
        ];
        for (bad, msg) in cases {
            let e = validate_mailbox_username(bad).unwrap_err();
            assert!(e.to_string().contains(msg), "{bad}: {e}");
        }
        let long = "a".repeat(65);
        assert!(matches!(
            validate_mailbox_username(&long),
            Err(UsernameError::TooLong { len: 65 })
        ));
        let as_error: Error = UsernameError::Empty.into();
        assert_eq!(as_error.kind(), crate::ErrorKind::Validation);
        assert!(as_error.to_string().contains("zapmail"));
    }

    #[test]
    fn domain_syntax() {
        for ok in [
            "acme.com",
            "ACME.com",
            "try-acme.net",
            "a.b.info",
            "acme.com.",
        ] {
            assert_eq!(validate_domain_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(validate_domain_name(""), Err(DomainNameError::Empty));
        assert_eq!(
            validate_domain_name("acme"),
            Err(DomainNameError::MissingTld)
        );
        assert_eq!(
            validate_domain_name("acme..com"),
            Err(DomainNameError::EmptyLabel)
        );
        assert!(matches!(
            validate_domain_name("-acme.com"),
            Err(DomainNameError::HyphenAtLabelEdge { .. })
        ));
        assert!(matches!(
            validate_domain_name("ac_me.com"),
            Err(DomainNameError::InvalidCharacter { ch: '_' })
        ));
        assert!(matches!(
            validate_domain_name("acme.c0m"),
            Err(DomainNameError::InvalidTld { .. })
        ));
        let label = "a".repeat(64);
        assert!(matches!(
            validate_domain_name(&format!("{label}.com")),
            Err(DomainNameError::LabelTooLong { .. })
        ));
    }

    #[test]
    fn tld_policy_defaults_exclude_io() {
        let t = SupportedTlds::default();
        for tld in ["com", "net", "org", "biz", "live", "info", ".COM"] {
            assert!(t.contains(tld), "{tld}");
        }
        assert!(!t.contains("io"));
        assert!(!t.contains("co"));
        let e = t.check("acme.io").unwrap_err();
        assert!(e.to_string().contains(".io is not supported"), "{e}");
        assert!(e.to_string().contains("com"), "{e}");
        assert!(SupportedTlds::v3().contains("co"));
        let custom = SupportedTlds::default().with(".io").without("biz");
        assert_eq!(custom.check("Acme.IO").unwrap(), "acme.io");
        assert!(custom.check("acme.biz").is_err());
        assert_eq!(tld_of("a.b.Info"), Some("info".into()));
    }
}
