//! The setup wizard before the pipeline, against the Zapmail simulator: suggest domains
//! for a brand, check their availability and prices, preview the mailboxes, quote a tier.
//!
//! ```sh
//! cargo run --example wizard                 # brand "Acme Labs"
//! cargo run --example wizard -- "Ada & Co"   # any brand
//! ```

use gtm_examples::{heading, say};
use provisioning::Tier;
use provisioning::sim::Simulators;
use provisioning::wizard::{self, Availability, AvailabilityChecker};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn dollars(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

async fn run() -> Result<(), AnyError> {
    let brand = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Acme Labs".to_string());
    let sims = Simulators::start().await;
    // Two suggestions are taken already, as in real life.
    sims.zapmail.mark_taken(["getacmelabs.com", "acmelabs.com"]);
    let zapmail = sims.clients().zapmail;

    heading(&format!("1. Domain suggestions for {brand:?}"));
    let tlds = zapmail::SupportedTlds::default();
    let suggestions = wizard::suggest_domains(&brand, &tlds)?;
    say(format!(
        "{} suggestions (the seed's algorithm, only TLDs Zapmail sells)",
        suggestions.len()
    ));
    for s in suggestions.iter().take(8) {
        say(s);
    }

    heading("2. Availability and prices (batched, cached, within the query budget)");
    let checker = AvailabilityChecker::new(zapmail);
    let mut names: Vec<String> = suggestions.iter().take(8).cloned().collect();
    names.push("typed-by-hand.io".into()); // .io is not sold: answered locally
    let checks = checker.check(&names).await?;
    for c in &checks {
        let what = match &c.availability {
            Availability::Available => format!(
                "available, {} first year",
                dollars(c.price_cents.unwrap_or_default())
            ),
            Availability::Unavailable => "taken".to_string(),
            Availability::Invalid(why) => format!("refused locally: {why}"),
            other => format!("{other:?}"),
        };
        say(format!("{:<28} {what}", c.name));
    }
    let again = checker.check(&names).await?;
    say(format!(
        "checked again: {} answers from the cache; availability queries spent in all: {}",
        again.len(),
        sims.zapmail.availability_queries()
    ));

    let tier = Tier::seed_defaults()
        .into_iter()
        .find(|t| t.slug == "starter")
        .expect("the seed's Starter tier");
    let chosen: Vec<_> = checks
        .iter()
        .filter(|c| c.is_available())
        .take(tier.domain_count as usize)
        .cloned()
        .collect();

    heading("3. Mailbox patterns and preview");
    let (first, last) = wizard::sender_names("Ada Lovelace")?;
    let patterns = wizard::validate_patterns(["ada", "ada.lovelace"])?;
    say(format!("sender name: {first} {last}"));
    if let Err(e) = wizard::validate_patterns(["ada", "-ada"]) {
        say(format!("a bad pattern is refused: {e}"));
    }
    let domains: Vec<&str> = chosen.iter().map(|c| c.name.as_str()).collect();
    for row in wizard::preview(&domains, &patterns) {
        say(row.email);
    }

    heading(&format!("4. Quote for {}", tier.name));
    let q = wizard::quote(&tier, &chosen)?;
    say(format!(
        "setup fee            {}",
        dollars(q.setup_fee_cents)
    ));
    say(format!(
        "domain registration  {}",
        dollars(q.domain_registration_cents)
    ));
    say(format!(
        "first month          {}",
        dollars(q.first_month_cents)
    ));
    say(format!(
        "due now              {}",
        dollars(q.total_due_now_cents)
    ));
    say(format!("then monthly         {}", dollars(q.monthly_cents)));
    Ok(())
}
