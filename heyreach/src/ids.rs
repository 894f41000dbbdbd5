//! Id newtypes.
//!
//! HeyReach list, campaign and LinkedIn-account (sender) ids are JSON numbers (`long` /
//! `integer` in the docs, heyreach.md §1), so their newtypes wrap an `i64` and convert from
//! and to it (instead of `AsRef<str>`, which would mean allocating a string for a number).
//! Lead member ids (`linkedin_id`, `leadMemberIds`) are JSON **strings** and wrap a `String`.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! numeric_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The numeric value.
            pub const fn get(self) -> i64 {
                self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                $name(v)
            }
        }
        impl From<$name> for i64 {
            fn from(v: $name) -> i64 {
                v.0
            }
        }
        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }
    };
}

numeric_id!(
    /// A lead list id (`listId`, `id` of a list).
    ListId
);
numeric_id!(
    /// A campaign id (`campaignId`, `id` of a campaign).
    CampaignId
);
numeric_id!(
    /// A LinkedIn account (sender, "seat") id.
    LinkedInAccountId
);

/// A lead's LinkedIn member id (`linkedin_id` on a list row, `leadMemberIds` when deleting).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LeadMemberId(pub String);

impl LeadMemberId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for LeadMemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl AsRef<str> for LeadMemberId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
impl From<&str> for LeadMemberId {
    fn from(v: &str) -> Self {
        LeadMemberId(v.to_string())
    }
}
impl From<String> for LeadMemberId {
    fn from(v: String) -> Self {
        LeadMemberId(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_transparent() {
        let id: ListId = serde_json::from_str("188213").unwrap();
        assert_eq!(id, ListId(188213));
        assert_eq!(serde_json::to_string(&id).unwrap(), "188213");
        assert_eq!(id.to_string(), "188213");
        assert_eq!(" 42 ".parse::<CampaignId>().unwrap(), CampaignId(42));
        let m: LeadMemberId = serde_json::from_str("\"1111\"").unwrap();
        assert_eq!(m.as_ref(), "1111");
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"1111\"");
        assert_eq!(
            LeadMemberId::from("x"),
            LeadMemberId::from(String::from("x"))
        );
    }
}
