//! Helpers behind the seed's four-step setup wizard ("User Flow", Setup Wizard):
//!
//! 1. [`suggest_domains`]: the seed's deterministic domain suggestions ("AI Domain
//!    Suggestion Algorithm"), filtered to the TLDs Zapmail sells;
//! 2. [`AvailabilityChecker`]: cached, batched, single-flight availability checks that
//!    answer invalid names locally and spend the 100-per-30-min availability budget only
//!    on names that need it; prices in integer cents ([`price_cents`]);
//! 3. [`validate_patterns`], [`preview`] and [`sender_names`]: the mailbox step;
//! 4. [`create_tier`] and friends (admin over the [`Store`](crate::Store)) and [`quote`]:
//!    the package and payment steps, in integer cents.
//!
//! Every failure is a [`WizardError`] whose message says what to fix.

mod availability;
mod patterns;
mod suggest;
mod tiers;

use std::sync::Arc;

pub use availability::{
    Availability, AvailabilityChecker, DEFAULT_CACHE_TTL, DomainCheck, parse_price_cents,
    price_cents,
};
pub use patterns::{PreviewRow, preview, sender_names, sender_names_with, validate_patterns};
pub use suggest::{seed_suggestions, suggest_domains};
pub use tiers::{
    Quote, TierInput, create_tier, deactivate_tier, quote, reorder_tiers, update_tier,
    validate_tier,
};

/// Why a wizard helper refused its input or could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WizardError {
    /// The brand name gives no domain suggestions (empty, only symbols, or too long).
    #[error("{0}")]
    InvalidBrand(String),
    /// A mailbox pattern breaks a rule (the message names the pattern and the rule).
    #[error("{0}")]
    InvalidPattern(String),
    /// The customer or sender name is unusable.
    #[error("{0}")]
    InvalidName(String),
    /// A tier breaks a rule (the message names the field).
    #[error("{0}")]
    InvalidTier(String),
    /// Another tier already has this slug.
    #[error("another tier already uses the slug {0:?}; choose a different slug")]
    DuplicateTierSlug(String),
    /// No tier with this id or slug.
    #[error("tier {0} not found")]
    TierNotFound(String),
    /// The chosen domains cannot be quoted (the message says which and why).
    #[error("{0}")]
    Quote(String),
    /// Zapmail's availability check failed (names checked before the failure stay cached).
    #[error("domain availability check failed: {0}")]
    Vendor(#[source] Arc<zapmail::Error>),
    /// The store failed.
    #[error("storage error: {0}")]
    Store(#[source] crate::store::StoreError),
}

impl From<crate::store::StoreError> for WizardError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::DuplicateTierSlug(slug) => WizardError::DuplicateTierSlug(slug),
            StoreError::TierNotFound(t) => WizardError::TierNotFound(t),
            other => WizardError::Store(other),
        }
    }
}
