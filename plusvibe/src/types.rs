//! Open vendor enums (each keeps unknown values) and small shared response types.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
            /// A value this crate does not know (kept exactly as the vendor sent it).
            #[serde(untagged)]
            Other(String),
        }

        impl $name {
            /// The value as the vendor spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
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
                $name::from(s.as_str())
            }
        }
    };
}

open_enum!(
    /// PlusVibe's string booleans: `"yes"` / `"no"` (§4.4).
    YesNo {
        /// `"yes"`.
        Yes = "yes",
        /// `"no"`.
        No = "no",
    }
);

impl From<bool> for YesNo {
    fn from(b: bool) -> Self {
        if b { YesNo::Yes } else { YesNo::No }
    }
}

impl YesNo {
    /// `Some(true)` for yes, `Some(false)` for no, `None` for an unknown value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            YesNo::Yes => Some(true),
            YesNo::No => Some(false),
            YesNo::Other(_) => None,
        }
    }
}

open_enum!(
    /// An email account's warmup status. PlusVibe has only `ACTIVE` and `INACTIVE`
    /// (§4.5); there is **no** `PAUSED` (pausing leads to `INACTIVE`).
    WarmupStatus {
        /// Warmup running.
        Active = "ACTIVE",
        /// Warmup off.
        Inactive = "INACTIVE",
    }
);

open_enum!(
    /// An email account's connection status (§4.1; the full enum is not public).
    AccountStatus {
        /// Connected and usable.
        Active = "ACTIVE",
        /// Switched off.
        Inactive = "INACTIVE",
        /// Disconnected (rejects campaign edits with "Email not found").
        Error = "ERROR",
    }
);

open_enum!(
    /// The mailbox provider of an email account (§4.1).
    Provider {
        /// Google Workspace (OAuth or app password).
        GoogleWorkspace = "GOOGLE_WORKSPACE",
        /// Microsoft 365.
        Microsoft365 = "MICROSOFT365",
        /// Any SMTP/IMAP account.
        RegularAccount = "REGULAR_ACCOUNT",
    }
);

open_enum!(
    /// A client login's status (§3.4).
    ClientStatus {
        /// Can log in.
        Active = "ACTIVE",
        /// Switched off.
        Inactive = "INACTIVE",
    }
);

/// The generic `{"status": "success"}` answer (§1.6), with anything else the vendor adds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// Usually `"success"`.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub status: Option<String>,
    /// A message, when the vendor sends one.
    #[serde(default, deserialize_with = "crate::de::text")]
    pub message: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_unknown_ones_are_kept() {
        for (wire, want) in [
            ("\"ACTIVE\"", WarmupStatus::Active),
            ("\"INACTIVE\"", WarmupStatus::Inactive),
            ("\"PAUSED\"", WarmupStatus::Other("PAUSED".into())),
        ] {
            let got: WarmupStatus = serde_json::from_str(wire).unwrap();
            assert_eq!(got, want);
            assert_eq!(serde_json::to_string(&got).unwrap(), wire);
        }
        let y: YesNo = serde_json::from_str("\"yes\"").unwrap();
        assert_eq!(y, YesNo::Yes);
        assert_eq!(YesNo::from(false).as_str(), "no");
        let p: Provider = serde_json::from_str("\"ZOHO\"").unwrap();
        assert_eq!(p, Provider::Other("ZOHO".into()));
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"ZOHO\"");
        assert_eq!(AccountStatus::from("ERROR"), AccountStatus::Error);
        assert_eq!(ClientStatus::from("SUSPENDED").to_string(), "SUSPENDED");
    }
}
