//! `gtm-infra check DOMAIN...`: availability and prices at Zapmail.

use provisioning::wizard::{Availability, AvailabilityChecker, DomainCheck};

use crate::config::Settings;
use crate::error::CliResult;
use crate::output::{self, Table, money};

/// Check whether domains can be bought, and their prices (invalid names are answered
/// locally; the rest in bulk calls of up to 20 names).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gtm-infra check acmeoutreach.com getacme.net\n  gtm-infra check acme.com --json | jq '.[] | select(.availability.kind == \"available\")'\n\nJSON: [{\"name\", \"availability\": {\"kind\": available|unavailable|invalid|unknown, \"reason\"?}, \"price_cents\", \"renew_price_cents\", \"premium\"}]"
)]
pub struct Args {
    /// Domain names.
    #[arg(required = true, value_name = "DOMAIN")]
    pub domains: Vec<String>,
}

/// A table of availability answers.
pub fn print_checks(checks: &[DomainCheck]) {
    let mut t = Table::new(["DOMAIN", "AVAILABILITY", "PRICE", "RENEWAL", "NOTE"]);
    for c in checks {
        let (avail, note) = match &c.availability {
            Availability::Available => ("available", String::new()),
            Availability::Unavailable => ("taken", String::new()),
            Availability::Invalid(r) => ("invalid", r.clone()),
            Availability::Unknown(r) => ("unknown", r.clone()),
        };
        let note = if c.premium {
            format!("premium {note}").trim().to_string()
        } else {
            note
        };
        t.row([
            c.name.clone(),
            avail.to_string(),
            c.price_cents.map_or("-".into(), money),
            c.renew_price_cents.map_or("-".into(), money),
            note,
        ]);
    }
    t.print();
}

/// Run it. JSON: an array of `{"name", "availability": {"kind": "available" | "unavailable"
/// | "invalid" | "unknown", "reason"?}, "price_cents", "renew_price_cents", "premium"}`.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let checker = AvailabilityChecker::new(settings.zapmail()?)
        .with_tlds(settings.engine_config().supported_tlds);
    let checks = checker.check(&args.domains).await?;
    if settings.json {
        return output::json(&checks);
    }
    print_checks(&checks);
    Ok(())
}
