//! Third-party (sequencer) accounts and mailbox exports (§6.10, §6.11).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use vendor_http::{Request, Result};

use crate::client::resource;
use crate::types::{ExportId, MailboxId, TagId, ThirdPartyAccountId, open_enum};
use crate::{Ack, Error, MailboxStatus, VENDOR};

resource!(
    /// Third-party accounts and exports.
    Exports
);

open_enum!(
    /// A destination app of exports (§6.10). `PIPL` is PlusVibe; `MANUAL` is a CSV export.
    ExportApp {
        /// Reachinbox.
        Reachinbox => "REACHINBOX",
        /// Instantly.
        Instantly => "INSTANTLY",
        /// Smartlead.
        Smartlead => "SMARTLEAD",
        /// Reply.io.
        ReplyIo => "REPLY_IO",
        /// QuickMail.
        Quickmail => "QUICKMAIL",
        /// Emelia.
        Emelia => "EMELIA",
        /// EmailBison.
        Emailbison => "EMAILBISON",
        /// FirstQuadrant.
        Firstquadrant => "FIRSTQUADRANT",
        /// Warmy.
        Warmy => "WARMY",
        /// SuperAGI.
        Superagi => "SUPERAGI",
        /// lemlist.
        Lemlist => "LEMLIST",
        /// PlusVibe (formerly pipl.ai).
        Pipl => "PIPL",
        /// Luella.
        Luella => "LUELLA",
        /// Master Inbox.
        MasterInbox => "MASTER_INBOX",
        /// Saile.
        Saile => "SAILE",
        /// Snov.io.
        Snov => "SNOV",
        /// CSV export (no account needed).
        Manual => "MANUAL",
    }
);

/// Body of `POST`/`PUT /v2/exports/accounts/third-party`: the sequencer **login**
/// (e.g. a PlusVibe client login), checked live by Zapmail; invalid → 400, nothing stored
/// (§6.10). `Debug` redacts the password; serialization sends it.
#[derive(Clone)]
pub struct ThirdPartyAccountRequest {
    /// Login email at the app.
    pub email: String,
    /// Login password at the app.
    pub password: SecretString,
    /// The app.
    pub app: ExportApp,
    /// The account to update (update only).
    pub account_id: Option<ThirdPartyAccountId>,
}

impl ThirdPartyAccountRequest {
    /// Register `email`/`password` for `app`.
    pub fn new(
        app: ExportApp,
        email: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        ThirdPartyAccountRequest {
            email: email.into(),
            password: password.into(),
            app,
            account_id: None,
        }
    }
}

impl fmt::Debug for ThirdPartyAccountRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThirdPartyAccountRequest")
            .field("email", &self.email)
            .field("password", &"[REDACTED]")
            .field("app", &self.app)
            .field("account_id", &self.account_id)
            .finish()
    }
}

impl Serialize for ThirdPartyAccountRequest {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("email", &self.email)?;
        m.serialize_entry("password", self.password.expose_secret())?;
        m.serialize_entry("app", &self.app)?;
        if let Some(id) = &self.account_id {
            m.serialize_entry("accountId", id)?;
        }
        m.end()
    }
}

/// A registered third-party account (rows of `data.accounts[]`; the platform is in
/// `appName`, §6.10).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThirdPartyAccount {
    /// Id (pass as `thirdPartyAccountId` when several accounts exist for the app).
    pub id: ThirdPartyAccountId,
    /// The app.
    #[serde(default)]
    pub app_name: Option<ExportApp>,
    /// Login email.
    #[serde(default)]
    pub email: Option<String>,
    /// An error on the account (e.g. expired login; reconnect and re-export).
    #[serde(default)]
    pub error: Option<Value>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Deserialize)]
struct AccountsData {
    #[serde(default, deserialize_with = "crate::types::de_null_default")]
    accounts: Vec<ThirdPartyAccount>,
}

/// Body of `POST /v2/exports/mailboxes` (§6.11). Every selector is sent, empty when unused
/// (one client reports Zapmail wants them all present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    /// Destination apps (required).
    pub apps: Vec<ExportApp>,
    /// Mailboxes to export (empty = all matching the other selectors).
    pub ids: Vec<MailboxId>,
    /// Mailboxes to leave out.
    pub exclude_ids: Vec<MailboxId>,
    /// Tag filter.
    pub tag_ids: Vec<TagId>,
    /// Mailbox status filter; only `ACTIVE` mailboxes export anyway.
    pub status: String,
    /// Substring filter.
    pub contains: String,
    /// The account, required when the workspace holds several accounts for the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_party_account_id: Option<ThirdPartyAccountId>,
}

impl ExportRequest {
    /// Export the `ACTIVE` mailboxes `ids` to `app`.
    pub fn new<I, M>(app: ExportApp, ids: I) -> Self
    where
        I: IntoIterator<Item = M>,
        M: Into<MailboxId>,
    {
        ExportRequest {
            apps: vec![app],
            ids: ids.into_iter().map(Into::into).collect(),
            exclude_ids: Vec::new(),
            tag_ids: Vec::new(),
            status: MailboxStatus::Active.as_str().to_string(),
            contains: String::new(),
            third_party_account_id: None,
        }
    }

    /// Pin the third-party account.
    pub fn account(mut self, id: impl Into<ThirdPartyAccountId>) -> Self {
        self.third_party_account_id = Some(id.into());
        self
    }
}

/// An export that was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportStarted {
    /// The id to poll with [`Exports::status`].
    pub export_id: ExportId,
    /// Zapmail's message.
    pub message: Option<String>,
}

open_enum!(
    /// State of an export (the enum is undocumented; values seen in clients and webhooks).
    ExportState {
        /// Queued.
        Pending => "PENDING",
        /// Running.
        InProgress => "IN_PROGRESS",
        /// Running.
        Processing => "PROCESSING",
        /// Done.
        Completed => "COMPLETED",
        /// Done.
        Success => "SUCCESS",
        /// Failed (see `failure_reason`).
        Failed => "FAILED",
    }
);

impl ExportState {
    /// Whether the export finished (successfully or not).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ExportState::Completed | ExportState::Success | ExportState::Failed
        )
    }

    /// Whether the export finished successfully.
    pub fn is_success(&self) -> bool {
        matches!(self, ExportState::Completed | ExportState::Success)
    }
}

/// Answer of `GET /v2/exports/status` (`{export_id, status, failure_reason}`, camelCase
/// tolerated, §6.11).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExportStatus {
    /// The export.
    #[serde(default, alias = "exportId", alias = "id")]
    pub export_id: Option<ExportId>,
    /// Its state.
    pub status: ExportState,
    /// Why it failed.
    #[serde(default, alias = "failureReason", alias = "error")]
    pub failure_reason: Option<String>,
}

impl Exports<'_> {
    /// Register a sequencer login (`POST /v2/exports/accounts/third-party`). Zapmail
    /// checks the credentials live (400 when they are wrong). The response's account id is
    /// undocumented: find it with [`find_account`](Self::find_account) afterwards.
    pub async fn register_account(&self, req: &ThirdPartyAccountRequest) -> Result<Ack> {
        check_account(req)?;
        self.scope
            .ack(
                Request::post("/v2/exports/accounts/third-party")
                    .json(req)
                    .non_idempotent(),
            )
            .await
    }

    /// Update a registered login (`PUT /v2/exports/accounts/third-party`).
    pub async fn update_account(&self, req: &ThirdPartyAccountRequest) -> Result<Ack> {
        check_account(req)?;
        self.scope
            .ack(
                Request::put("/v2/exports/accounts/third-party")
                    .json(req)
                    .idempotent(),
            )
            .await
    }

    /// The accounts registered for `app` (`GET /v2/exports/accounts/third-party?app=`).
    pub async fn list_accounts(&self, app: &ExportApp) -> Result<Vec<ThirdPartyAccount>> {
        let req = Request::get("/v2/exports/accounts/third-party")
            .query("app", app)
            .idempotent();
        let data: AccountsData = self.scope.data(req).await?;
        Ok(data.accounts)
    }

    /// The account registered for `app` with login `email` (case-insensitive), if any.
    pub async fn find_account(
        &self,
        app: &ExportApp,
        email: &str,
    ) -> Result<Option<ThirdPartyAccount>> {
        let wanted = email.trim().to_ascii_lowercase();
        Ok(self.list_accounts(app).await?.into_iter().find(|a| {
            a.email
                .as_deref()
                .is_some_and(|e| e.trim().to_ascii_lowercase() == wanted)
        }))
    }

    /// Export mailboxes (`POST /v2/exports/mailboxes`): asynchronous; poll
    /// [`status`](Self::status). Only `ACTIVE` mailboxes export. Never retried once sent.
    pub async fn export_mailboxes(&self, req: &ExportRequest) -> Result<ExportStarted> {
        if req.apps.is_empty() {
            return Err(Error::invalid_input(
                VENDOR,
                "export needs at least one app",
            ));
        }
        let request = Request::post("/v2/exports/mailboxes")
            .json(req)
            .non_idempotent();
        let body: Value = self.scope.bare(request).await?;
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string);
        let data = crate::types::data_or_root(body);
        let id = ["exportId", "export_id", "id"]
            .iter()
            .find_map(|k| data.get(*k).filter(|v| !v.is_null()))
            .cloned();
        match id.map(serde_json::from_value::<ExportId>) {
            Some(Ok(export_id)) => Ok(ExportStarted { export_id, message }),
            _ => Err(Error::Decode {
                vendor: VENDOR,
                operation: "POST /v2/exports/mailboxes".into(),
                status: 200,
                path: "data.exportId".into(),
                message: "no export id in the response".into(),
                body: vendor_http::redact::redact_body(data.to_string().as_bytes()),
            }),
        }
    }

    /// The state of an export (`GET /v2/exports/status?exportId=`). Zapmail's docs list
    /// `x-workspace-key` as required here: use a workspace-scoped client.
    pub async fn status(&self, export_id: &ExportId) -> Result<ExportStatus> {
        let req = Request::get("/v2/exports/status")
            .query("exportId", export_id)
            .idempotent();
        self.scope.data_or_root(req).await
    }
}

fn check_account(req: &ThirdPartyAccountRequest) -> Result<()> {
    if req.email.trim().is_empty() || !req.email.contains('@') {
        return Err(Error::invalid_input(
            VENDOR,
            format!("third-party login {:?} is not an email address", req.email),
        ));
    }
    if req.password.expose_secret().is_empty() {
        return Err(Error::invalid_input(
            VENDOR,
            "third-party password is empty",
        ));
    }
    if req.app == ExportApp::Manual {
        return Err(Error::invalid_input(
            VENDOR,
            "MANUAL exports need no third-party account",
        ));
    }
    Ok(())
}
