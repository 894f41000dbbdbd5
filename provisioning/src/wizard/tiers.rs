//! Step 1 and step 4: admin helpers for the packages (`infra_tiers`) and the price quote.
//! All money is integer cents.

use serde::{Deserialize, Serialize};

use super::{DomainCheck, WizardError};
use crate::model::{Tier, TierId};
use crate::store::Store;

/// Longest tier slug.
const MAX_SLUG_LEN: usize = 64;
/// Longest tier name.
const MAX_NAME_LEN: usize = 100;

/// The editable fields of a tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierInput {
    /// Display name, e.g. "Starter".
    pub name: String,
    /// Unique slug: lower-case letters, digits and single inner hyphens, e.g. "starter".
    pub slug: String,
    /// Domains bought (≥ 1).
    pub domain_count: u32,
    /// Mailboxes per domain (2: the wizard's two patterns).
    pub mailboxes_per_domain: u32,
    /// One-time setup fee, cents (≥ 0).
    pub setup_fee_cents: i64,
    /// Monthly fee, cents (≥ 0).
    pub monthly_fee_cents: i64,
    /// Stripe price of the setup fee.
    pub stripe_setup_price_id: Option<String>,
    /// Stripe price of the monthly fee.
    pub stripe_monthly_price_id: Option<String>,
    /// Offered to new customers.
    pub is_active: bool,
    /// Display order; `None` on create puts the tier last.
    pub sort_order: Option<i32>,
}

impl TierInput {
    /// An active tier with 2 mailboxes per domain and no Stripe prices.
    pub fn new(
        name: impl Into<String>,
        slug: impl Into<String>,
        domain_count: u32,
        setup_fee_cents: i64,
        monthly_fee_cents: i64,
    ) -> Self {
        TierInput {
            name: name.into(),
            slug: slug.into(),
            domain_count,
            mailboxes_per_domain: 2,
            setup_fee_cents,
            monthly_fee_cents,
            stripe_setup_price_id: None,
            stripe_monthly_price_id: None,
            is_active: true,
            sort_order: None,
        }
    }

    fn into_tier(self, id: TierId, sort_order: i32) -> Tier {
        Tier {
            id,
            name: self.name.trim().to_string(),
            slug: self.slug.trim().to_string(),
            domain_count: self.domain_count,
            mailboxes_per_domain: self.mailboxes_per_domain,
            setup_fee_cents: self.setup_fee_cents,
            monthly_fee_cents: self.monthly_fee_cents,
            stripe_setup_price_id: self.stripe_setup_price_id,
            stripe_monthly_price_id: self.stripe_monthly_price_id,
            is_active: self.is_active,
            sort_order,
        }
    }
}

fn invalid(msg: impl Into<String>) -> WizardError {
    WizardError::InvalidTier(msg.into())
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_LEN
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Check a tier's fields; the error names the field and the rule.
pub fn validate_tier(tier: &Tier) -> Result<(), WizardError> {
    let name = tier.name.trim();
    if name.is_empty() {
        return Err(invalid("tier name is empty"));
    }
    if name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "tier name must be at most {MAX_NAME_LEN} characters without control characters"
        )));
    }
    if !valid_slug(&tier.slug) {
        return Err(invalid(format!(
            "tier slug {:?} is not valid: use 1-{MAX_SLUG_LEN} lower-case letters and digits, \
             optionally joined by single hyphens (e.g. \"starter\", \"scale-2\")",
            tier.slug
        )));
    }
    if tier.domain_count == 0 {
        return Err(invalid(format!(
            "tier {:?}: domain_count must be positive",
            tier.slug
        )));
    }
    if tier.mailboxes_per_domain != 2 {
        return Err(invalid(format!(
            "tier {:?}: mailboxes_per_domain must be 2 (the wizard collects two mailbox patterns), got {}",
            tier.slug, tier.mailboxes_per_domain
        )));
    }
    if tier.setup_fee_cents < 0 {
        return Err(invalid(format!(
            "tier {:?}: setup_fee_cents must not be negative, got {}",
            tier.slug, tier.setup_fee_cents
        )));
    }
    if tier.monthly_fee_cents < 0 {
        return Err(invalid(format!(
            "tier {:?}: monthly_fee_cents must not be negative, got {}",
            tier.slug, tier.monthly_fee_cents
        )));
    }
    for (field, id) in [
        ("stripe_setup_price_id", &tier.stripe_setup_price_id),
        ("stripe_monthly_price_id", &tier.stripe_monthly_price_id),
    ] {
        if id.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(invalid(format!(
                "tier {:?}: {field} is blank (leave it unset instead)",
                tier.slug
            )));
        }
    }
    Ok(())
}

async fn check_slug_free<S: Store + ?Sized>(
    store: &S,
    slug: &str,
    except: Option<TierId>,
) -> Result<Vec<Tier>, WizardError> {
    let tiers = store.tiers().await?;
    if tiers.iter().any(|t| t.slug == slug && Some(t.id) != except) {
        return Err(WizardError::DuplicateTierSlug(slug.to_string()));
    }
    Ok(tiers)
}

/// Create a tier (validated; the slug must be unused). Without a `sort_order` it goes last.
pub async fn create_tier<S: Store + ?Sized>(
    store: &S,
    input: TierInput,
) -> Result<Tier, WizardError> {
    let order = input.sort_order;
    let mut tier = input.into_tier(TierId::new(), order.unwrap_or(0));
    validate_tier(&tier)?;
    let tiers = check_slug_free(store, &tier.slug, None).await?;
    if order.is_none() {
        tier.sort_order = tiers
            .iter()
            .map(|t| t.sort_order)
            .max()
            .map_or(0, |m| m.saturating_add(1));
    }
    store.put_tier(&tier).await?;
    Ok(tier)
}

/// Replace the fields of tier `id` (validated; the slug must be unused by other tiers).
/// Without a `sort_order` the tier keeps its place.
pub async fn update_tier<S: Store + ?Sized>(
    store: &S,
    id: TierId,
    input: TierInput,
) -> Result<Tier, WizardError> {
    let current = store.tier(id).await?;
    let order = input.sort_order.unwrap_or(current.sort_order);
    let tier = input.into_tier(id, order);
    validate_tier(&tier)?;
    check_slug_free(store, &tier.slug, Some(id)).await?;
    store.put_tier(&tier).await?;
    Ok(tier)
}

/// Stop offering tier `id` to new customers (existing provisions keep their copy).
pub async fn deactivate_tier<S: Store + ?Sized>(
    store: &S,
    id: TierId,
) -> Result<Tier, WizardError> {
    let mut tier = store.tier(id).await?;
    tier.is_active = false;
    store.put_tier(&tier).await?;
    Ok(tier)
}

/// Put the tiers in this order: `order` must list every tier exactly once; they get
/// `sort_order` 0, 1, 2, … Returns the tiers in their new order.
pub async fn reorder_tiers<S: Store + ?Sized>(
    store: &S,
    order: &[TierId],
) -> Result<Vec<Tier>, WizardError> {
    let tiers = store.tiers().await?;
    for (i, id) in order.iter().enumerate() {
        if order[..i].contains(id) {
            return Err(invalid(format!(
                "tier {id} is listed twice in the new order"
            )));
        }
        if !tiers.iter().any(|t| t.id == *id) {
            return Err(WizardError::TierNotFound(id.to_string()));
        }
    }
    if let Some(missing) = tiers.iter().find(|t| !order.contains(&t.id)) {
        return Err(invalid(format!(
            "the new order leaves out tier {:?}; list every tier exactly once",
            missing.slug
        )));
    }
    let mut out = Vec::with_capacity(order.len());
    for (i, id) in order.iter().enumerate() {
        let mut tier = tiers
            .iter()
            .find(|t| t.id == *id)
            .cloned()
            .ok_or_else(|| WizardError::TierNotFound(id.to_string()))?;
        tier.sort_order = i32::try_from(i).map_err(|_| invalid("too many tiers"))?;
        store.put_tier(&tier).await?;
        out.push(tier);
    }
    Ok(out)
}

/// What the customer pays, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The tier's one-time setup fee.
    pub setup_fee_cents: i64,
    /// First-year registration of the chosen domains (Zapmail's prices).
    pub domain_registration_cents: i64,
    /// The first month's subscription, paid at checkout.
    pub first_month_cents: i64,
    /// The recurring monthly fee after that.
    pub monthly_cents: i64,
    /// `setup_fee_cents + domain_registration_cents + first_month_cents`.
    pub total_due_now_cents: i64,
}

fn quote_err(msg: impl Into<String>) -> WizardError {
    WizardError::Quote(msg.into())
}

/// The price of `tier` with the chosen domains (their availability answers): exactly
/// `tier.domain_count` distinct domains, each available with a known price.
pub fn quote(tier: &Tier, chosen: &[DomainCheck]) -> Result<Quote, WizardError> {
    validate_tier(tier)?;
    if !tier.is_active {
        return Err(quote_err(format!(
            "tier {:?} is no longer offered; choose another package",
            tier.slug
        )));
    }
    let expected = tier.domain_count as usize;
    if chosen.len() != expected {
        return Err(quote_err(format!(
            "the {} package needs exactly {expected} domains; {} chosen",
            tier.name,
            chosen.len()
        )));
    }
    let mut domains_cents: i64 = 0;
    for (i, c) in chosen.iter().enumerate() {
        if chosen[..i].iter().any(|o| o.name == c.name) {
            return Err(quote_err(format!("domain {:?} is chosen twice", c.name)));
        }
        let price = match (&c.availability, c.price_cents) {
            (super::Availability::Available, Some(p)) if p > 0 => p,
            (super::Availability::Available, _) => {
                return Err(quote_err(format!(
                    "domain {:?} has no known price; check it again",
                    c.name
                )));
            }
            (super::Availability::Unavailable, _) => {
                return Err(quote_err(format!(
                    "domain {:?} is not available; choose another",
                    c.name
                )));
            }
            (super::Availability::Invalid(reason), _) => {
                return Err(quote_err(format!(
                    "domain {:?} is invalid: {reason}",
                    c.name
                )));
            }
            (super::Availability::Unknown(reason), _) => {
                return Err(quote_err(format!(
                    "availability of {:?} is unknown ({reason}); check it again",
                    c.name
                )));
            }
        };
        domains_cents = domains_cents
            .checked_add(price)
            .ok_or_else(|| quote_err("the domain prices overflow"))?;
    }
    let total = tier
        .setup_fee_cents
        .checked_add(domains_cents)
        .and_then(|t| t.checked_add(tier.monthly_fee_cents))
        .ok_or_else(|| quote_err("the total overflows"))?;
    Ok(Quote {
        setup_fee_cents: tier.setup_fee_cents,
        domain_registration_cents: domains_cents,
        first_month_cents: tier.monthly_fee_cents,
        monthly_cents: tier.monthly_fee_cents,
        total_due_now_cents: total,
    })
}
