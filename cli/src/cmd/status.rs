//! `gtm-infra status [ID]`: one provision in detail, or every provision.

use provisioning::Snapshot;

use super::{failed_run, print_snapshot, resolve_id};
use crate::config::Settings;
use crate::error::CliResult;
use crate::output::{self, Table};

/// Show one provision (steps, domains, mailboxes, vendor ids), or list them all.
/// Reads the database only (no vendor keys needed).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gtm-infra status\n  gtm-infra status 3f2a9c1e\n  gtm-infra status 3f2a9c1e --json | jq .status\n\nWith an ID, the exit code is 4 when its last run failed (provisioning, upgrade or teardown).

JSON with an ID, the snapshot: {\"id\", \"status\", \"customer\": {\"id\", \"name\", \"email\", \"first_name\", \"last_name\"}, \"tier\", \"provisioning_log\": [{\"step\", \"name\", \"status\", \"startedAt\"?, \"completedAt\"?, \"error\"?, \"details\"?}], \"domains\": [{\"name\", \"status\", \"zapmail_domain_id\", \"mailboxes\": [{\"username\", \"email\", \"zapmail_mailbox_id\", \"plusvibe_account_id\"}], ...}], \"zapmail_workspace_id\", \"plusvibe_workspace_id\", \"plusvibe_login_email\", \"heyreach_list_id\", \"run\": [kind, status], \"error\", \"flags\"}. Without: [{\"id\", \"customer_id\", \"customer_name\", \"tier_slug\", \"status\", \"updated_at\"}], newest first."
)]
pub struct Args {
    /// The provision id (or a unique prefix); none lists every provision.
    pub id: Option<String>,
}

/// Run it. JSON: with an ID the snapshot `{"id", "status", "customer", "tier",
/// "provisioning_log", "domains", "zapmail_workspace_id", "plusvibe_workspace_id",
/// "plusvibe_login_email", "heyreach_list_id", "run": [kind, status], "error", "flags"}`;
/// without, an array of `{"id", "customer_id", "customer_name", "tier_slug", "status",
/// "updated_at"}`, newest first.
pub async fn run(settings: &Settings, args: Args) -> CliResult {
    let store = settings.store().await?;
    let Some(text) = args.id else {
        let list = store.list_provisions().await?;
        if settings.json {
            return output::json(&list);
        }
        if list.is_empty() {
            eprintln!("no provisions yet (create one with `gtm-infra provision`)");
            return Ok(());
        }
        let mut t = Table::new(["ID", "CUSTOMER", "TIER", "STATUS", "UPDATED"]);
        for p in &list {
            t.row([
                p.id.to_string(),
                p.customer_name.clone(),
                p.tier_slug.clone(),
                p.status.to_string(),
                p.updated_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            ]);
        }
        t.print();
        return Ok(());
    };
    let id = resolve_id(&store, &text).await?;
    let snap = Snapshot::of(&store.load(id).await?.value);
    if settings.json {
        output::json(&snap)?;
    } else {
        print_snapshot(&snap);
    }
    failed_run(&snap)
}
