//! Id newtypes. PlusVibe ids are Mongo ObjectIds (24 lower-case hex characters, §1.3), but
//! the newtypes accept any string so a format change never breaks decoding.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wrap an id.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// Whether this looks like a PlusVibe ObjectId (24 lower-case hex characters).
            pub fn is_object_id(&self) -> bool {
                is_object_id(&self.0)
            }
            /// The inner string.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&$name> for $name {
            fn from(s: &$name) -> Self {
                s.clone()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A workspace id (`_id` in `/authenticate`).
    WorkspaceId
);
id_type!(
    /// An email account id (`id`, sometimes `_id`, in `/account/list`).
    AccountId
);
id_type!(
    /// A white-label client login id (`client_id`).
    ClientId
);
id_type!(
    /// A client-access permission, e.g. `CAMPAIGN_LIST`.
    ///
    /// The full list is not public (§3.1), so this is an open string type with constants
    /// for the values seen on a live account.
    Permission
);

impl Permission {
    /// Every family a live account showed (§3.1), with each of its actions.
    pub const KNOWN: &'static [&'static str] = &[
        "CAMPAIGN_CREATE",
        "CAMPAIGN_EDIT",
        "CAMPAIGN_LIST",
        "CAMPAIGN_DELETE",
        "EMAILACCOUNT_CREATE",
        "EMAILACCOUNT_EDIT",
        "EMAILACCOUNT_LIST",
        "EMAILACCOUNT_DELETE",
        "TAG_CREATE",
        "TAG_EDIT",
        "TAG_LIST",
        "TAG_DELETE",
        "BLOCKLIST_CREATE",
        "BLOCKLIST_EDIT",
        "BLOCKLIST_LIST",
        "BLOCKLIST_DELETE",
        "TEMPLATE_CREATE",
        "TEMPLATE_EDIT",
        "TEMPLATE_LIST",
        "TEMPLATE_DELETE",
        "HOOK_CREATE",
    ];

    /// Every permission in [`Permission::KNOWN`]: what a student managing their own
    /// workspace needs.
    pub fn all_known() -> Vec<Permission> {
        Self::KNOWN.iter().map(|p| Permission::from(*p)).collect()
    }
}

/// Whether `s` is a 24-character lower-case hex ObjectId.
pub(crate) fn is_object_id(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_transparent_and_display() {
        let id = WorkspaceId::from("65f3c92d3dbe5dbb35374a9a");
        assert_eq!(id.to_string(), "65f3c92d3dbe5dbb35374a9a");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"65f3c92d3dbe5dbb35374a9a\""
        );
        assert!(id.is_object_id());
        assert!(!AccountId::from("6835FFFD1710B6F930A27F47").is_object_id());
        assert!(!AccountId::from("abc").is_object_id());
        let back: ClientId = serde_json::from_str("\"x1\"").unwrap();
        assert_eq!(back, "x1");
    }
}
