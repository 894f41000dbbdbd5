//! `gtm-infra quote --tier SLUG DOMAIN...`: what the customer pays, in exact cents.

use provisioning::wizard::{AvailabilityChecker, quote};

use crate::config::Settings;
use crate::error::CliResult;
use crate::output::{self, money};

/// Price a package with chosen domains: setup fee + first-year domain registrations +
/// first month (checks the domains at Zapmail).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  gtm-infra quote --tier starter acmeoutreach.com getacmeoutreach.net tryacmeoutreach.org\n\nJSON: {\"tier\": tier, \"domains\": [check row], \"quote\": {\"setup_fee_cents\", \"domain_registration_cents\", \"first_month_cents\", \"monthly_cents\", \"total_due_now_cents\"}}"
)]
pub struct Args {
    /// The tier slug (see `gtm-infra tiers`).
    #[arg(long, default_value = "starter")]
    pub tier: String,
    /// The chosen domains (as many as the tier has).
    #[arg(required = true, value_name = "DOMAIN")]
    pub domains: Vec<String>,
}

/// Run it. JSON: `{"tier": Tier, "domains": [DomainCheck], "quote": {"setup_fee_cents",
/// "domain_registration_cents", "first_month_cents", "monthly_cents",
/// "total_due_now_cents"}}`.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let store = settings.store().await?;
    let tier = store.tier_by_slug(args.tier.trim()).await?;
    let checker = AvailabilityChecker::new(settings.zapmail()?)
        .with_tlds(settings.engine_config().supported_tlds);
    let checks = checker.check(&args.domains).await?;
    let q = quote(&tier, &checks)?;
    if settings.json {
        return output::json(&serde_json::json!({"tier": tier, "domains": checks, "quote": q}));
    }
    println!("{} package ({} domains)", tier.name, tier.domain_count);
    for c in &checks {
        println!(
            "  {:<40} {:>10}",
            c.name,
            c.price_cents.map_or("-".into(), money)
        );
    }
    println!("Setup fee              {:>10}", money(q.setup_fee_cents));
    println!(
        "Domain registrations   {:>10}",
        money(q.domain_registration_cents)
    );
    println!("First month            {:>10}", money(q.first_month_cents));
    println!(
        "Total due now          {:>10}",
        money(q.total_due_now_cents)
    );
    println!("Then monthly           {:>10}", money(q.monthly_cents));
    Ok(())
}
