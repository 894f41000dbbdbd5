//! Steps 6 to 8: the PlusVibe workspace and client login, the export of the mailboxes
//! into it, and the warmup settings.

use async_trait::async_trait;
use plusvibe::accounts::{InlineSending, InlineWarmup, MailServers, RegularAccount};
use plusvibe::clients::{CreateClient, WorkspaceGrant};
use plusvibe::partner::PartnerUpload;
use plusvibe::{Permission, WarmupStatus, WorkspaceId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{Step, StepOutcome, StepResult};
use crate::engine::cx::Cx;
use crate::engine::driver::StepError;
use crate::engine::{Naming, PollKind};

/// The workspace PlusVibe authenticates workspace and client creation against: the
/// configured agency workspace, else the first one the key reaches.
pub(crate) async fn agency_workspace(cx: &Cx<'_>) -> Result<WorkspaceId, StepError> {
    if let Some(id) = &cx.engine.config.plusvibe_agency_workspace_id {
        return Ok(WorkspaceId::from(id.as_str()));
    }
    let all = cx.engine.clients.plusvibe.workspaces().list().await?;
    all.into_iter().next().map(|w| w.id).ok_or_else(|| {
        StepError::permanent(
            "the PlusVibe key reaches no workspace: set plusvibe_agency_workspace_id",
        )
    })
}

/// Step 6: the customer's PlusVibe workspace, then a client login to it (its password is
/// shown only once: it is sealed and saved at once).
pub(crate) struct WorkspaceAndClient;

#[async_trait]
impl Step for WorkspaceAndClient {
    fn number(&self) -> u32 {
        6
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let pv = cx.engine.clients.plusvibe.clone();
        let agency = agency_workspace(cx).await?;

        // The workspace, found by its deterministic name before creating it.
        let workspace = match cx.state.ledger.plusvibe_workspace_id.clone() {
            Some(id) => WorkspaceId::from(id),
            None => {
                let name = Naming::render(
                    &cx.engine.config.naming.plusvibe_workspace,
                    &cx.state.customer.name,
                    &cx.state.id,
                );
                let id = match pv.workspaces().find_by_name(&name).await? {
                    Some(w) => w.id,
                    None => match pv.workspaces().create(&agency, &name).await?.id {
                        Some(id) => id,
                        // Some answers carry no id: read it back by name.
                        None => pv
                            .workspaces()
                            .find_by_name(&name)
                            .await?
                            .map(|w| w.id)
                            .ok_or_else(|| {
                                StepError::transient(format!(
                                    "PlusVibe created workspace {name:?} but does not list it yet"
                                ))
                            })?,
                    },
                };
                cx.state.ledger.plusvibe_workspace_id = Some(id.to_string());
                cx.commit().await?;
                id
            }
        };

        // The client login.
        let email = cx.state.customer.email.clone();
        let have_password = cx.state.ledger.plusvibe_client_password.is_some();
        if cx.state.ledger.plusvibe_client_id.is_none() || !have_password {
            if let Some(existing) = pv.client_access().find_by_email(&agency, &email).await? {
                // A login exists whose password we never stored (its answer was lost or the
                // process died before saving it): the password cannot be read back, so the
                // login is replaced. Nothing is paid for here.
                tracing::warn!(
                    provision = %cx.state.id,
                    "PlusVibe client login exists without a stored password; replacing it"
                );
                match pv
                    .client_access()
                    .delete(&agency, &existing.client_id)
                    .await
                {
                    Ok(_) => {}
                    // Already gone (an earlier delete whose answer was lost).
                    Err(e) if e.kind() == plusvibe::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let req = CreateClient {
                client_email: email.clone(),
                client_first_name: cx.state.customer.first_name.clone(),
                client_last_name: cx.state.customer.last_name.clone(),
                client_business_name: Naming::render(
                    &cx.engine.config.naming.plusvibe_business,
                    &cx.state.customer.name,
                    &cx.state.id,
                ),
                workspaces: vec![WorkspaceGrant::new(
                    workspace.clone(),
                    Permission::all_known(),
                )],
                notify_pos_reply_email: None,
            };
            let created = match pv.client_access().create(&agency, &req).await {
                Ok(c) => c,
                // A creation whose answer was lost reached PlusVibe after our look: look
                // again (the login is replaced, as above), never give up on it.
                Err(e)
                    if e.kind() == plusvibe::ErrorKind::Validation
                        && e.to_string().contains("already exists") =>
                {
                    return Err(StepError::transient(e.to_string()));
                }
                Err(e) => return Err(e.into()),
            };
            let password: SecretString = created.password.ok_or_else(|| {
                StepError::permanent("PlusVibe created the client login but returned no password")
            })?;
            let sealed = cx.engine.key.seal(&password, &cx.state.id.to_string());
            let ledger = &mut cx.state.ledger;
            ledger.plusvibe_client_id = Some(created.client_id.to_string());
            ledger.plusvibe_client_email = Some(created.email.unwrap_or(email));
            ledger.plusvibe_client_password = Some(sealed);
            // A new login invalidates an earlier registration in Zapmail.
            ledger.pipl_registered = false;
            cx.commit().await?;
        }
        Ok(StepOutcome::done(
            "PlusVibe workspace and client login ready",
            json!({
                "workspace_id": cx.state.ledger.plusvibe_workspace_id,
                "client_email": cx.state.ledger.plusvibe_client_email,
            }),
        ))
    }
}

/// The stored client password, opened.
pub(crate) fn client_password(cx: &Cx<'_>) -> Result<SecretString, StepError> {
    let sealed = cx
        .state
        .ledger
        .plusvibe_client_password
        .as_ref()
        .ok_or_else(|| StepError::permanent("no PlusVibe client password stored"))?;
    let pw = cx
        .engine
        .key
        .open(sealed, &cx.state.id.to_string())
        .map_err(|e| StepError::permanent(e.to_string()))?;
    // Touch the secret only to check it is non-empty.
    if pw.expose_secret().is_empty() {
        return Err(StepError::permanent(
            "the stored PlusVibe client password is empty",
        ));
    }
    Ok(pw)
}

/// The customer's PlusVibe workspace and every mailbox address that must be in it.
fn workspace_and_expected_accounts(cx: &Cx<'_>) -> Result<(WorkspaceId, Vec<String>), StepError> {
    let workspace = cx
        .state
        .ledger
        .plusvibe_workspace_id
        .as_deref()
        .map(WorkspaceId::from)
        .ok_or_else(|| StepError::permanent("no PlusVibe workspace recorded"))?;
    let expected = cx
        .state
        .domains
        .iter()
        .flat_map(|d| d.mailboxes.iter().map(|m| m.email.clone()))
        .collect();
    Ok((workspace, expected))
}

/// Remember the PlusVibe id of every mailbox among `found`.
fn record_account_ids(cx: &mut Cx<'_>, found: &[plusvibe::accounts::EmailAccount]) {
    for acc in found {
        for d in &mut cx.state.domains {
            for m in &mut d.mailboxes {
                if m.email.eq_ignore_ascii_case(&acc.email) {
                    m.plusvibe_account_id = Some(acc.id.to_string());
                }
            }
        }
    }
}

/// Step 8: apply the warmup and sending settings to every account, then start warmup.
pub(crate) struct Warmup;

#[async_trait]
impl Step for Warmup {
    fn number(&self) -> u32 {
        8
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let pv = cx.engine.clients.plusvibe.clone();
        let (workspace, expected) = workspace_and_expected_accounts(cx)?;
        // Step 7 records every account's id when it sees them all; list again only when
        // some are unknown (call economy: one listing fewer per provision).
        let known: Vec<plusvibe::AccountId> = cx
            .state
            .domains
            .iter()
            .flat_map(|d| d.mailboxes.iter())
            .filter_map(|m| m.plusvibe_account_id.as_deref())
            .map(plusvibe::AccountId::from)
            .collect();
        let ids = if known.len() == expected.len() {
            known
        } else {
            let presence = pv.email_accounts().presence(&workspace, &expected).await?;
            if !presence.is_complete() {
                return Ok(StepOutcome::wait(
                    PollKind::Export,
                    format!(
                        "{}/{} accounts in PlusVibe",
                        presence.found.len(),
                        expected.len()
                    ),
                    json!({"present": presence.found.len(), "total": expected.len()}),
                ));
            }
            record_account_ids(cx, &presence.found);
            presence.found.iter().map(|a| a.id.clone()).collect()
        };
        let settings = cx.engine.config.warmup.clone().with_name(
            cx.state.customer.first_name.clone(),
            cx.state.customer.last_name.clone(),
        );
        // Both calls set a state, so repeating them after a crash is harmless.
        pv.email_accounts()
            .bulk_update(&workspace, &ids, &settings)
            .await?;
        pv.email_accounts()
            .bulk_update_warmup(&workspace, &ids, WarmupStatus::Active)
            .await?;
        // An upgrade sees only its new accounts: keep the earlier ones recorded.
        for e in &expected {
            if !cx.state.ledger.warmup_configured.contains(e) {
                cx.state.ledger.warmup_configured.push(e.clone());
            }
        }
        Ok(StepOutcome::done(
            format!("warmup active on {} accounts", ids.len()),
            json!({"accounts": ids.len()}),
        ))
    }
}

/// Step 7: register the client login in the customer's Zapmail workspace (app PIPL),
/// export the mailboxes, and wait until PlusVibe lists every account. If the registration
/// or the export fails for good, upload the accounts through PlusVibe's partner API
/// instead (the seed's fallback).
pub(crate) struct Export;

#[async_trait]
impl Step for Export {
    fn number(&self) -> u32 {
        7
    }

    async fn execute(&self, cx: &mut Cx<'_>) -> StepResult {
        let pv = cx.engine.clients.plusvibe.clone();
        let (workspace, expected) = workspace_and_expected_accounts(cx)?;
        // Observe: are the accounts there already?
        let presence = pv.email_accounts().presence(&workspace, &expected).await?;
        let details = json!({"present": presence.found.len(), "total": expected.len()});
        if presence.is_complete() {
            record_account_ids(cx, &presence.found);
            cx.state.ledger.export_id = None;
            return Ok(StepOutcome::done(
                format!("{} accounts in PlusVibe", expected.len()),
                details,
            ));
        }
        let waiting = StepOutcome::wait(
            PollKind::Export,
            format!(
                "{}/{} accounts in PlusVibe",
                presence.found.len(),
                expected.len()
            ),
            details,
        );
        if cx.state.ledger.used_partner_upload {
            return Ok(waiting);
        }
        match export_through_zapmail(cx, &presence.missing).await {
            Ok(()) => Ok(waiting),
            Err(StepError::Permanent { message }) if cx.engine.config.partner_upload_fallback => {
                tracing::warn!(
                    provision = %cx.state.id,
                    reason = %message,
                    "Zapmail export to PlusVibe failed; uploading through the partner API"
                );
                partner_upload(cx, &workspace, &presence.missing).await?;
                Ok(waiting)
            }
            Err(e) => Err(e),
        }
    }
}

async fn export_through_zapmail(cx: &mut Cx<'_>, missing: &[String]) -> Result<(), StepError> {
    let zm = super::zapmail_steps::workspace_client(cx)?;
    let app = zapmail::ExportApp::Pipl;
    let email = cx
        .state
        .ledger
        .plusvibe_client_email
        .clone()
        .ok_or_else(|| StepError::permanent("no PlusVibe client login recorded"))?;
    if !cx.state.ledger.pipl_registered {
        let existing = zm.exports().find_account(&app, &email).await?;
        if existing.is_none() {
            let password = client_password(cx)?;
            let req = zapmail::exports::ThirdPartyAccountRequest::new(
                app.clone(),
                email.clone(),
                password,
            );
            zm.exports().register_account(&req).await?;
        }
        cx.state.ledger.pipl_registered = true;
        cx.commit().await?;
    }
    // An export in progress: follow it.
    if let Some(id) = cx.state.ledger.export_id.clone() {
        let status = zm
            .exports()
            .status(&zapmail::ExportId::from(id.as_str()))
            .await?;
        if status.status.is_terminal() && !status.status.is_success() {
            cx.state.ledger.export_id = None;
            cx.state.ledger.exported_mailbox_ids.clear();
            cx.commit().await?;
            return Err(StepError::permanent(format!(
                "Zapmail's export to PlusVibe failed: {}",
                status
                    .failure_reason
                    .unwrap_or_else(|| "no reason given".into())
            )));
        }
        return Ok(());
    }
    // The worker that lost the answer exports again too once `lost_answer_grace` (opt-in)
    // has passed without the accounts showing up.
    if !super::is_poll(cx) || cx.lost_answer_grace_over() {
        // A fresh attempt with no export to follow (its answer was lost, or the worker died
        // before recording it) and accounts still missing in PlusVibe: that export did not
        // bring them, so export those mailboxes again. PlusVibe skips addresses it already
        // has; while polling, the worker that sent it keeps waiting instead.
        let again: Vec<String> = cx
            .state
            .domains
            .iter()
            .flat_map(|d| d.mailboxes.iter())
            .filter(|m| missing.iter().any(|e| e.eq_ignore_ascii_case(&m.email)))
            .filter_map(|m| m.zapmail_mailbox_id.clone())
            .collect();
        cx.state
            .ledger
            .exported_mailbox_ids
            .retain(|id| !again.contains(id));
    }
    let ids: Vec<String> = cx
        .state
        .domains
        .iter()
        .flat_map(|d| d.mailboxes.iter())
        .filter_map(|m| m.zapmail_mailbox_id.clone())
        .filter(|id| !cx.state.ledger.exported_mailbox_ids.contains(id))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    // Re-exports count against a weekly cap: record the intent first, and do not repeat an
    // export whose answer was lost (the accounts show up in PlusVibe if it happened).
    cx.state
        .ledger
        .exported_mailbox_ids
        .extend(ids.iter().cloned());
    cx.commit().await?;
    let req = zapmail::exports::ExportRequest::new(
        app,
        ids.iter().map(|i| zapmail::MailboxId::from(i.as_str())),
    );
    match zm.exports().export_mailboxes(&req).await {
        Ok(started) => {
            cx.state.ledger.export_id = Some(started.export_id.to_string());
            cx.commit().await?;
            Ok(())
        }
        Err(e) if e.may_have_taken_effect() => Ok(()),
        Err(e) => {
            cx.state
                .ledger
                .exported_mailbox_ids
                .retain(|x| !ids.contains(x));
            cx.commit().await?;
            Err(e.into())
        }
    }
}

/// The seed's fallback: upload the missing accounts with their SMTP/IMAP credentials
/// (read from Zapmail) and inline warmup settings through PlusVibe's partner API.
async fn partner_upload(
    cx: &mut Cx<'_>,
    workspace: &WorkspaceId,
    missing: &[String],
) -> Result<(), StepError> {
    let zm = super::zapmail_steps::workspace_client(cx)?;
    let listing = zm.mailboxes().list_all(None).await?;
    let (first, last) = (
        cx.state.customer.first_name.clone(),
        cx.state.customer.last_name.clone(),
    );
    let mut accounts = Vec::new();
    for email in missing {
        let m = listing
            .find_by_email(email)
            .ok_or_else(|| StepError::permanent(format!("mailbox {email} is not in Zapmail")))?;
        let password = m
            .password
            .clone()
            .or_else(|| m.app_password.clone())
            .ok_or_else(|| {
                StepError::permanent(format!("Zapmail gives no password for {email}"))
            })?;
        let servers = match m.service_provider {
            Some(zapmail::ServiceProvider::Microsoft) => MailServers {
                imap_host: "outlook.office365.com".into(),
                imap_port: 993,
                smtp_host: "smtp.office365.com".into(),
                smtp_port: 587,
            },
            _ => MailServers {
                imap_host: "imap.gmail.com".into(),
                imap_port: 993,
                smtp_host: "smtp.gmail.com".into(),
                smtp_port: 465,
            },
        };
        accounts.push(
            RegularAccount::new(
                email.clone(),
                first.clone(),
                last.clone(),
                servers,
                password,
            )
            .with_sending(InlineSending::recommended())
            .with_warmup(InlineWarmup::recommended()),
        );
    }
    let login = cx
        .state
        .ledger
        .plusvibe_client_email
        .clone()
        .ok_or_else(|| StepError::permanent("no PlusVibe client login recorded"))?;
    let creds = plusvibe::PartnerCredentials::new(login, client_password(cx)?);
    let upload = PartnerUpload {
        workspace_id: workspace.clone(),
        accounts,
        notification_email: cx.engine.config.operator_email.clone(),
        provider_id: cx.engine.config.partner_provider_id.clone(),
    };
    cx.state.ledger.used_partner_upload = true;
    cx.commit().await?;
    match cx
        .engine
        .clients
        .plusvibe
        .partner(creds)
        .upload_regular_accounts(&upload)
        .await
    {
        Ok(_) => Ok(()),
        // The upload may have happened: wait for the accounts.
        Err(e) if e.may_have_taken_effect() => Ok(()),
        Err(e) => {
            cx.state.ledger.used_partner_upload = false;
            cx.commit().await?;
            Err(e.into())
        }
    }
}
