//! A walk through every client's happy path against the three built-in simulators.
//!
//! ```sh
//! cargo run --example vendors_tour
//! ```
//!
//! No account, no key, no money: the simulators run on local ports and behave like the
//! vendors (state, validation, rate limits). Point the same calls at the real vendors by
//! building the clients with your keys and no `base_url`.

use std::time::Duration;

use gtm_examples::{heading, say};
use heyreach::mock::HeyReachSim;
use plusvibe::mock::PlusVibeSim;
use zapmail::mock::ZapmailSim;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = tour().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn tour() -> Result<(), AnyError> {
    heading("Starting the simulators");
    let zsim = ZapmailSim::start().await;
    let psim = PlusVibeSim::start().await;
    let hsim = HeyReachSim::start().await;
    // Zapmail's export to PlusVibe ("PIPL") lands in the PlusVibe simulator.
    zsim.link_exporter("PIPL", psim.importer());
    say(format!("Zapmail  at {}", zsim.base_url()));
    say(format!("PlusVibe at {}", psim.base_url()));
    say(format!("HeyReach at {}", hsim.base_url()));

    let (mailbox_ids, login_email, login_password, plusvibe_ws) =
        plusvibe_and_zapmail(&zsim, &psim).await?;
    exports(
        &zsim,
        &psim,
        &mailbox_ids,
        &login_email,
        login_password,
        &plusvibe_ws,
    )
    .await?;
    heyreach_tour(&hsim).await?;

    heading("Done");
    say(format!(
        "requests served: Zapmail {}, PlusVibe {}, HeyReach {}; rate-limited: {}",
        zsim.journal().len(),
        psim.journal().len(),
        hsim.journal().len(),
        zsim.journal().rate_limited()
            + psim.journal().rate_limited()
            + hsim.journal().rate_limited()
    ));
    Ok(())
}

/// Zapmail from workspace to mailboxes, and the PlusVibe side an export needs.
async fn plusvibe_and_zapmail(
    zsim: &ZapmailSim,
    psim: &PlusVibeSim,
) -> Result<
    (
        Vec<zapmail::MailboxId>,
        String,
        plusvibe::SecretString,
        plusvibe::WorkspaceId,
    ),
    AnyError,
> {
    heading("Zapmail");
    let zm = zsim.client();
    let me = zm.users().verify_key().await?;
    say(format!("key belongs to {}", me.email.unwrap_or_default()));
    let balance = zm.wallet().balance().await?;
    say(format!("wallet balance: {:?}", balance.wallet_balance));

    let ws = zm
        .workspaces()
        .create(&zapmail::workspaces::CreateWorkspaceRequest::named(
            "Tour Customer's Infrastructure",
        ))
        .await?;
    say(format!("created workspace {} ({})", ws.name, ws.id));
    let scoped = zm.in_workspace(&ws.id);
    scoped
        .billing()
        .add(&provisioning::sim::sample_billing())
        .await?;
    say("added billing details");

    let names = [
        "tourcustomer.com",
        "tourcustomerhq.net",
        "trytourcustomer.io",
    ];
    // Validate locally first: `.io` is not sold by Zapmail, so no request is spent on it.
    let tlds = zapmail::SupportedTlds::default();
    let sellable: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| tlds.check(n).is_ok())
        .collect();
    say(format!("sellable names: {sellable:?} (checked locally)"));
    let availability = scoped.domains().check_availability(&sellable).await?;
    for d in &availability.domains {
        say(format!(
            "{} available={} price={:?}",
            d.domain_name,
            d.is_available(),
            d.domain_price
        ));
    }
    let outcome = scoped
        .domains()
        .buy(&zapmail::domains::BuyDomainsRequest::with_wallet(&sellable))
        .await?;
    say(format!("purchase: {outcome:?}"));

    // Buying returns no ids: poll the domain list by name until the domains are ACTIVE.
    let domains = loop {
        let found = scoped.domains().find_by_names(&sellable).await?;
        if found.len() == sellable.len() && found.values().all(|d| d.is_active()) {
            break found;
        }
        say("waiting for DNS setup...");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for d in domains.values() {
        say(format!("{} is {:?} ({})", d.domain, d.status, d.id));
    }
    let ids: Vec<zapmail::DomainId> = domains.values().map(|d| d.id.clone()).collect();
    scoped
        .domains()
        .add_dmarc(&zapmail::domains::DmarcRequest::for_domains(
            ids.clone(),
            "reports@tourcustomer.com",
        ))
        .await?;
    say("DMARC set for every domain in one call");
    let records = scoped.dns().get(&ids[0]).await?;
    say(format!(
        "{} DNS records on the first domain",
        records.domain_dns_records.len()
    ));

    let mut req = zapmail::mailboxes::CreateMailboxesRequest::new();
    for d in domains.values() {
        for user in ["tim", "tim.keen"] {
            req = req.add(d.id.clone(), &d.domain, user, "Tim", "Keen");
        }
    }
    scoped.mailboxes().create(&req).await?;
    say(format!("asked for {} mailboxes in one request", req.len()));
    let listing = loop {
        let listing = scoped.mailboxes().list_all(None).await?;
        if listing.mailboxes().count() == req.len() && listing.mailboxes().all(|m| m.is_active()) {
            break listing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mailbox_ids: Vec<zapmail::MailboxId> = listing.mailboxes().map(|m| m.id.clone()).collect();
    for m in listing.mailboxes() {
        // Passwords come back in the listing; the client holds them as secrets.
        say(format!(
            "{} is {:?} (password {:?})",
            m.email, m.status, m.password
        ));
    }

    heading("PlusVibe");
    let pv = psim.client();
    let agency = pv.workspaces().list().await?;
    say(format!("the key reaches {} workspace(s)", agency.len()));
    let anchor = agency[0].id.clone();
    let created = pv
        .workspaces()
        .create(&anchor, "Tour Customer's Workspace")
        .await?;
    let ws_id = created.id.ok_or("PlusVibe returned no workspace id")?;
    say(format!("created workspace {ws_id}"));
    let client = pv
        .client_access()
        .create(
            &anchor,
            &plusvibe::clients::CreateClient {
                client_email: "tim@tourcustomer.com".into(),
                client_first_name: "Tim".into(),
                client_last_name: "Keen".into(),
                client_business_name: "Tour Customer's GTM".into(),
                workspaces: vec![plusvibe::clients::WorkspaceGrant::new(
                    ws_id.clone(),
                    plusvibe::Permission::all_known(),
                )],
                notify_pos_reply_email: None,
            },
        )
        .await?;
    say(format!(
        "created client login {client:?} (the password is shown once, and redacted here)"
    ));
    let clients = pv.client_access().list(&anchor).await?;
    say(format!("{} client login(s)", clients.len()));
    let password = client.password.ok_or("no password in the create answer")?;
    Ok((
        mailbox_ids,
        client.email.unwrap_or_default(),
        password,
        ws_id,
    ))
}

/// Register the PlusVibe login in Zapmail, export, and configure warmup in PlusVibe.
async fn exports(
    zsim: &ZapmailSim,
    psim: &PlusVibeSim,
    mailbox_ids: &[zapmail::MailboxId],
    login_email: &str,
    login_password: plusvibe::SecretString,
    ws: &plusvibe::WorkspaceId,
) -> Result<(), AnyError> {
    heading("Zapmail → PlusVibe export");
    let zm = zsim.client();
    let workspace = zm
        .workspaces()
        .find_by_name("Tour Customer's Infrastructure")
        .await?
        .ok_or("the tour's Zapmail workspace is gone")?;
    let scoped = zm.in_workspace(&workspace.id);
    scoped
        .exports()
        .register_account(&zapmail::exports::ThirdPartyAccountRequest::new(
            zapmail::ExportApp::Pipl,
            login_email,
            login_password,
        ))
        .await?;
    say("registered the PlusVibe login as a PIPL account in Zapmail");
    let started = scoped
        .exports()
        .export_mailboxes(&zapmail::exports::ExportRequest::new(
            zapmail::ExportApp::Pipl,
            mailbox_ids.iter().cloned(),
        ))
        .await?;
    say(format!("export {} started", started.export_id));

    let pv = psim.client();
    let expected: Vec<String> = scoped
        .mailboxes()
        .list_all(None)
        .await?
        .mailboxes()
        .map(|m| m.email.clone())
        .collect();
    let accounts = loop {
        let presence = pv.email_accounts().presence(ws, &expected).await?;
        if presence.is_complete() {
            break presence.found;
        }
        say(format!(
            "{}/{} accounts in PlusVibe...",
            presence.found.len(),
            expected.len()
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let status = scoped.exports().status(&started.export_id).await?;
    say(format!("export status: {:?}", status.status));

    let ids: Vec<plusvibe::AccountId> = accounts.iter().map(|a| a.id.clone()).collect();
    pv.email_accounts()
        .bulk_update(
            ws,
            &ids,
            &plusvibe::accounts::AccountSettings::recommended().with_name("Tim", "Keen"),
        )
        .await?;
    pv.email_accounts()
        .bulk_update_warmup(ws, &ids, plusvibe::WarmupStatus::Active)
        .await?;
    say(format!(
        "warmup ACTIVE on {} accounts with the recommended settings",
        ids.len()
    ));
    for a in pv
        .email_accounts()
        .list_all(ws, &Default::default())
        .await?
    {
        say(format!(
            "{} warmup={:?} health={:?}",
            a.email,
            a.warmup_status,
            a.warmup_health()
        ));
    }
    Ok(())
}

async fn heyreach_tour(hsim: &HeyReachSim) -> Result<(), AnyError> {
    heading("HeyReach");
    let hr = hsim.client();
    hr.check_api_key().await?;
    say("API key is valid");
    let list = hr
        .lists()
        .create(&heyreach::CreateListRequest::user_list(
            "Tour Customer's Prospects",
        ))
        .await?;
    say(format!("created list {} ({})", list.name, list.id));
    let found = hr.lists().find_by_name("Tour Customer's Prospects").await?;
    say(format!("found it again by name: {:?}", found.map(|l| l.id)));
    let leads: Vec<heyreach::Lead> = (0..150)
        .map(|i| {
            heyreach::Lead::new(
                "Lead",
                format!("Number{i}"),
                format!("https://www.linkedin.com/in/lead-{i}"),
            )
        })
        .collect();
    let summary = hr.lists().add_leads(list.id, &leads).await?;
    say(format!(
        "added 150 leads in batches of at most 100: {summary:?}"
    ));
    say(format!(
        "the list holds {} leads",
        hr.lists().lead_count(list.id).await?
    ));
    let removed = hr
        .lists()
        .delete_leads_by_profile_url(
            list.id,
            &[
                "https://www.linkedin.com/in/lead-0",
                "https://www.linkedin.com/in/nobody",
            ],
        )
        .await?;
    say(format!("deleted by profile URL: {removed:?}"));
    let senders = hr
        .linkedin_accounts()
        .get_all_pages(&Default::default())
        .await?;
    say(format!("{} LinkedIn sender account(s)", senders.len()));
    let campaigns = hr.campaigns().get_all_pages(&Default::default()).await?;
    say(format!("{} campaign(s)", campaigns.len()));
    Ok(())
}
