//! `gtm-infra suggest BRAND`: the wizard's domain suggestions, optionally checked.

use provisioning::wizard::{AvailabilityChecker, suggest_domains};

use crate::config::Settings;
use crate::error::CliResult;
use crate::output;

/// Suggest domain names for a brand (the seed's algorithm, limited to TLDs Zapmail sells).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gtm-infra suggest \"Acme Outreach\"\n  gtm-infra suggest acme --check --json\n\nJSON: {\"brand\", \"suggestions\": [name]}; with --check the suggestions are `check` rows."
)]
pub struct Args {
    /// The company or brand name.
    pub brand: String,
    /// Also check availability and prices at Zapmail (needs ZAPMAIL_API_KEY).
    #[arg(long)]
    pub check: bool,
}

/// Run it. JSON: `{"brand": .., "suggestions": [names]}`, or with `--check`
/// `{"brand": .., "suggestions": [DomainCheck]}` (see `check`).
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let config = settings.engine_config();
    let names = suggest_domains(&args.brand, &config.supported_tlds)?;
    if !args.check {
        if settings.json {
            return output::json(&serde_json::json!({"brand": args.brand, "suggestions": names}));
        }
        for n in &names {
            println!("{n}");
        }
        return Ok(());
    }
    let checker = AvailabilityChecker::new(settings.zapmail()?).with_tlds(config.supported_tlds);
    let checks = checker.check(&names).await?;
    if settings.json {
        return output::json(&serde_json::json!({"brand": args.brand, "suggestions": checks}));
    }
    super::check::print_checks(&checks);
    Ok(())
}
