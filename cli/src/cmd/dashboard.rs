//! `gtm-infra dashboard ID`: the customer's infrastructure at a glance: domains, each
//! mailbox's warmup health from PlusVibe, the HeyReach list with its lead count, and the
//! PlusVibe login email.

use provisioning::dashboard::{Dashboard, DashboardPart, MailboxCard};

use super::resolve_id;
use crate::config::Settings;
use crate::error::{CliError, CliResult};
use crate::output::{self, Table};

/// Show a provision's dashboard: domains and their status, each mailbox with its PlusVibe
/// warmup status and 7-day health, the HeyReach list with its lead count, and the PlusVibe
/// login email (never the password). PlusVibe and HeyReach are asked live (one read each).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  gtm-infra dashboard 3f2a9c1e
  gtm-infra dashboard 3f2a9c1e --json | jq '.domains[].mailboxes[].health.overall_7d'
  gtm-infra dashboard 3f2a9c1e --allow-partial   # exit 0 even if a vendor is down

Health figures are percentages over 7 days. \"no data\" (JSON null) means PlusVibe has no
figure yet, e.g. for a new account: it is not 0%.

A partial dashboard: when PlusVibe or HeyReach fails, everything else is still shown and
the missing part is marked \"unavailable\" with the vendor's reason (JSON: \"missing\").

Exit codes: 0 complete; 3 partial (a vendor failed), so that scripts do not take missing
figures for real ones (0 with --allow-partial; the dashboard is printed either way);
2 an unknown id.

JSON: {\"provision_id\", \"status\", \"tier\", \"domains\": [{\"name\", \"status\",
\"mailboxes\": [{\"email\", \"in_plusvibe\": bool|null (null: PlusVibe not asked or down),
\"warmup_status\": \"ACTIVE\"|\"INACTIVE\"|...|null, \"health\": {\"overall_7d\", \"google_7d\",
\"microsoft_7d\", \"other_7d\", \"reply_rate_7d\", \"email_sent_today\",
\"warmup_email_sent_today\"} (each number or null: no data)|null}]}],
\"plusvibe_login_email\", \"heyreach_list\": {\"id\", \"name\", \"lead_count\"}|null,
\"missing\": [{\"part\": \"plusvibe_warmup\"|\"heyreach_list\", \"reason\"}]} (empty: complete).")]
pub struct Args {
    /// The provision id (or a unique prefix).
    pub id: String,
    /// Exit 0 even when a vendor failed and part of the dashboard is missing.
    #[arg(long)]
    pub allow_partial: bool,
}

fn part_name(p: DashboardPart) -> &'static str {
    match p {
        DashboardPart::PlusvibeWarmup => "PlusVibe warmup",
        DashboardPart::HeyreachList => "HeyReach list",
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".into(), |v| format!("{v:.1}%"))
}

fn count(v: Option<u64>) -> String {
    v.map_or_else(|| "no data".into(), |v| v.to_string())
}

/// The mailbox's row cells after DOMAIN and STATUS.
fn mailbox_cells(m: &MailboxCard) -> [String; 7] {
    let warmup = match (m.in_plusvibe, &m.warmup_status) {
        (None, _) => "unavailable".to_string(),
        (Some(false), _) => "not in PlusVibe".to_string(),
        (Some(true), Some(w)) => w.clone(),
        (Some(true), None) => "-".to_string(),
    };
    let [overall, google, microsoft, reply, sent] = match &m.health {
        Some(h) => [
            pct(h.overall_7d),
            pct(h.google_7d),
            pct(h.microsoft_7d),
            pct(h.reply_rate_7d),
            count(h.warmup_email_sent_today),
        ],
        None => {
            let dash = if m.in_plusvibe.is_none() { "?" } else { "-" };
            std::array::from_fn(|_| dash.to_string())
        }
    };
    [
        m.email.clone(),
        warmup,
        overall,
        google,
        microsoft,
        reply,
        sent,
    ]
}

/// Print the dashboard for people.
fn print(d: &Dashboard) {
    println!(
        "Provision {}  {}  tier {}",
        d.provision_id, d.status, d.tier
    );
    println!(
        "PlusVibe login  {}",
        d.plusvibe_login_email.as_deref().unwrap_or("-")
    );
    let missing = |p: DashboardPart| d.missing.iter().find(|m| m.part == p);
    let list = match (&d.heyreach_list, missing(DashboardPart::HeyreachList)) {
        (_, Some(m)) => format!("unavailable ({})", m.reason),
        (Some(l), None) => format!("{} (id {}), {} leads", l.name, l.id, l.lead_count),
        (None, None) => "- (not created yet)".into(),
    };
    println!("HeyReach list   {list}");
    if let Some(m) = missing(DashboardPart::PlusvibeWarmup) {
        println!("PlusVibe warmup unavailable ({})", m.reason);
    }
    if d.domains.is_empty() {
        return;
    }
    println!();
    let mut t = Table::new([
        "DOMAIN",
        "STATUS",
        "MAILBOX",
        "WARMUP",
        "HEALTH 7D",
        "GOOGLE",
        "MICROSOFT",
        "REPLY 7D",
        "WARMUP TODAY",
    ]);
    for dom in &d.domains {
        if dom.mailboxes.is_empty() {
            t.row([dom.name.clone(), dom.status.as_str().to_string()]);
        }
        for (i, m) in dom.mailboxes.iter().enumerate() {
            let (name, status) = if i == 0 {
                (dom.name.clone(), dom.status.as_str().to_string())
            } else {
                (String::new(), String::new())
            };
            t.row([name, status].into_iter().chain(mailbox_cells(m)));
        }
    }
    t.print();
}

/// Run it. JSON: the dashboard (shape in `--help`).
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    // No preflight: a vendor that is down makes the dashboard partial, not refused.
    let engine = settings.engine(settings.engine_config(), vec![]).await?;
    let id = resolve_id(engine.store(), &args.id).await?;
    let d = engine.dashboard(id).await?;
    if settings.json {
        output::json(&d)?;
    } else {
        print(&d);
    }
    if d.is_complete() || args.allow_partial {
        return Ok(());
    }
    let parts: Vec<String> = d
        .missing
        .iter()
        .map(|m| format!("{} ({})", part_name(m.part), m.reason))
        .collect();
    Err(CliError::vendor(format!(
        "the dashboard is partial: could not load {}; run it again later, or pass \
         --allow-partial to exit 0",
        parts.join("; ")
    )))
}
