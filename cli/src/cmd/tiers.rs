//! `gtm-infra tiers [list|add|update|deactivate]`: the package catalog (`infra_tiers`).

use clap::Subcommand;
use provisioning::Tier;
use provisioning::wizard::{TierInput, create_tier, deactivate_tier, update_tier};

use crate::config::Settings;
use crate::error::CliResult;
use crate::output::{self, Table, money, parse_money};

/// List and edit the packages customers choose from (prices in dollars, stored in cents).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gtm-infra tiers\n  gtm-infra tiers add --name Agency --slug agency --domains 20 --setup 497 --monthly 247\n  gtm-infra tiers update agency --monthly 199.99\n  gtm-infra tiers deactivate agency\n\nJSON: list prints [tier], the others the tier written: {\"id\", \"name\", \"slug\", \"domain_count\", \"mailboxes_per_domain\", \"setup_fee_cents\", \"monthly_fee_cents\", \"stripe_setup_price_id\", \"stripe_monthly_price_id\", \"is_active\", \"sort_order\"}"
)]
pub struct Args {
    /// What to do (default: list).
    #[command(subcommand)]
    pub action: Option<Action>,
}

/// Tier actions.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Every tier, active or not, in display order.
    List,
    /// Create a tier.
    Add(AddArgs),
    /// Change some fields of a tier (the others are kept).
    Update(UpdateArgs),
    /// Stop offering a tier to new customers (existing provisions keep theirs).
    Deactivate {
        /// The tier's slug.
        slug: String,
    },
}

/// `tiers add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Display name, e.g. "Agency".
    #[arg(long)]
    pub name: String,
    /// Unique slug: lower-case letters, digits, single hyphens.
    #[arg(long)]
    pub slug: String,
    /// Domains bought for the customer.
    #[arg(long)]
    pub domains: u32,
    /// One-time setup fee in dollars, e.g. 497 or 497.00.
    #[arg(long, value_parser = parse_money)]
    pub setup: i64,
    /// Monthly fee in dollars.
    #[arg(long, value_parser = parse_money)]
    pub monthly: i64,
    /// Stripe price id of the setup fee.
    #[arg(long)]
    pub stripe_setup_price: Option<String>,
    /// Stripe price id of the monthly fee.
    #[arg(long)]
    pub stripe_monthly_price: Option<String>,
    /// Display order [default: last].
    #[arg(long)]
    pub sort_order: Option<i32>,
    /// Create it inactive (not offered yet).
    #[arg(long)]
    pub inactive: bool,
}

/// `tiers update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The tier's current slug.
    pub slug: String,
    /// New display name.
    #[arg(long)]
    pub name: Option<String>,
    /// New slug.
    #[arg(long)]
    pub new_slug: Option<String>,
    /// Domains bought for the customer.
    #[arg(long)]
    pub domains: Option<u32>,
    /// Setup fee in dollars.
    #[arg(long, value_parser = parse_money)]
    pub setup: Option<i64>,
    /// Monthly fee in dollars.
    #[arg(long, value_parser = parse_money)]
    pub monthly: Option<i64>,
    /// Stripe price id of the setup fee.
    #[arg(long)]
    pub stripe_setup_price: Option<String>,
    /// Stripe price id of the monthly fee.
    #[arg(long)]
    pub stripe_monthly_price: Option<String>,
    /// Display order.
    #[arg(long)]
    pub sort_order: Option<i32>,
    /// Offer it again (or stop offering it with `--active false`).
    #[arg(long)]
    pub active: Option<bool>,
}

fn print_tiers(tiers: &[Tier]) {
    let mut t = Table::new([
        "SLUG",
        "NAME",
        "DOMAINS",
        "MAILBOXES",
        "SETUP",
        "MONTHLY",
        "ACTIVE",
        "ORDER",
    ]);
    for x in tiers {
        t.row([
            x.slug.clone(),
            x.name.clone(),
            x.domain_count.to_string(),
            (x.domain_count * x.mailboxes_per_domain).to_string(),
            money(x.setup_fee_cents),
            money(x.monthly_fee_cents),
            if x.is_active { "yes" } else { "no" }.to_string(),
            x.sort_order.to_string(),
        ]);
    }
    t.print();
}

fn print_one(settings: &Settings, verb: &str, tier: &Tier) -> CliResult {
    if settings.json {
        return output::json(tier);
    }
    println!("{verb} tier {:?}", tier.slug);
    print_tiers(std::slice::from_ref(tier));
    Ok(())
}

/// Run it. JSON: `list` prints an array of tiers, the others the tier written:
/// `{"id", "name", "slug", "domain_count", "mailboxes_per_domain", "setup_fee_cents",
/// "monthly_fee_cents", "stripe_setup_price_id", "stripe_monthly_price_id", "is_active",
/// "sort_order"}`.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let store = settings.store().await?;
    match args.action.unwrap_or(Action::List) {
        Action::List => {
            let tiers = store.tiers().await?;
            if settings.json {
                return output::json(&tiers);
            }
            print_tiers(&tiers);
            Ok(())
        }
        Action::Add(a) => {
            let mut input = TierInput::new(a.name, a.slug, a.domains, a.setup, a.monthly);
            input.stripe_setup_price_id = a.stripe_setup_price;
            input.stripe_monthly_price_id = a.stripe_monthly_price;
            input.sort_order = a.sort_order;
            input.is_active = !a.inactive;
            let tier = create_tier(store.as_ref(), input).await?;
            print_one(settings, "created", &tier)
        }
        Action::Update(a) => {
            let cur = store.tier_by_slug(a.slug.trim()).await?;
            let input = TierInput {
                name: a.name.unwrap_or(cur.name),
                slug: a.new_slug.unwrap_or(cur.slug),
                domain_count: a.domains.unwrap_or(cur.domain_count),
                mailboxes_per_domain: cur.mailboxes_per_domain,
                setup_fee_cents: a.setup.unwrap_or(cur.setup_fee_cents),
                monthly_fee_cents: a.monthly.unwrap_or(cur.monthly_fee_cents),
                stripe_setup_price_id: a.stripe_setup_price.or(cur.stripe_setup_price_id),
                stripe_monthly_price_id: a.stripe_monthly_price.or(cur.stripe_monthly_price_id),
                is_active: a.active.unwrap_or(cur.is_active),
                sort_order: Some(a.sort_order.unwrap_or(cur.sort_order)),
            };
            let tier = update_tier(store.as_ref(), cur.id, input).await?;
            print_one(settings, "updated", &tier)
        }
        Action::Deactivate { slug } => {
            let cur = store.tier_by_slug(slug.trim()).await?;
            let tier = deactivate_tier(store.as_ref(), cur.id).await?;
            print_one(settings, "deactivated", &tier)
        }
    }
}
