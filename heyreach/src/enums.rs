//! Open vendor enums: every known value has its own variant, anything else is kept verbatim
//! in `Other` so a new vendor value never breaks a whole response.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know yet, kept as sent.
            Other(String),
        }

        impl $name {
            /// Every known value.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )+
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match $name::from(s.as_str()) {
                    $name::Other(_) => $name::Other(s),
                    known => known,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($name::from)
            }
        }
    };
}

open_enum!(
    /// The kind of a list (`type` when creating, `listType` in responses and filters).
    ListType {
        /// A list of people (the default when `type` is omitted).
        UserList = "USER_LIST",
        /// A list of companies.
        CompanyList = "COMPANY_LIST",
    }
);

open_enum!(
    /// A campaign's status (heyreach.md §7.1).
    CampaignStatus {
        /// Created, never started (refuses leads, Pause and Resume).
        Draft = "DRAFT",
        /// Running.
        InProgress = "IN_PROGRESS",
        /// Paused.
        Paused = "PAUSED",
        /// Every lead went through the sequence.
        Finished = "FINISHED",
        /// Cancelled.
        Canceled = "CANCELED",
        /// Failed.
        Failed = "FAILED",
        /// Transitional state after `StartCampaign`.
        Starting = "STARTING",
        /// Scheduled to start.
        Scheduled = "SCHEDULED",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_unknown_ones_are_kept() {
        for v in ListType::KNOWN {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(&serde_json::from_str::<ListType>(&json).unwrap(), v);
        }
        for v in CampaignStatus::KNOWN {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(&serde_json::from_str::<CampaignStatus>(&json).unwrap(), v);
        }
        assert_eq!(
            serde_json::from_str::<ListType>("\"USER_LIST\"").unwrap(),
            ListType::UserList
        );
        let other: CampaignStatus = serde_json::from_str("\"ARCHIVED\"").unwrap();
        assert_eq!(other, CampaignStatus::Other("ARCHIVED".into()));
        assert_eq!(serde_json::to_string(&other).unwrap(), "\"ARCHIVED\"");
        assert_eq!(
            CampaignStatus::from(String::from("PAUSED")),
            CampaignStatus::Paused
        );
        assert_eq!(ListType::CompanyList.to_string(), "COMPANY_LIST");
    }
}
