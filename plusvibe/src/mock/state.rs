//! The simulator's state, routes and handlers.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use serde_json::{Map, Value, json};
use vendor_http::sim::{
    ExportedMailbox, MailboxImporter, Route, RouteMatch, SimRequest, SimResponse, SimVendor,
};

use super::{PlusVibeSimConfig, routes};
use crate::ids::is_object_id;
use crate::{AccountId, ClientId, WorkspaceId};

// ---------------------------------------------------------------------------------------
// Public inspection types
// ---------------------------------------------------------------------------------------

/// A workspace in the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimWorkspace {
    /// Its id.
    pub id: WorkspaceId,
    /// Its name.
    pub name: String,
    /// The owner login of the account it belongs to.
    pub owner_email: String,
}

/// One workspace granted to a simulated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimGrant {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// Permissions, as sent.
    pub permissions: Vec<String>,
    /// Hidden labels, as sent.
    pub hide_labels: Vec<String>,
}

/// A client login in the simulator. `Debug` redacts the password.
#[derive(Clone)]
pub struct SimClient {
    /// Its id.
    pub id: ClientId,
    /// Login email.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Business name.
    pub business_name: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// Granted workspaces.
    pub grants: Vec<SimGrant>,
    /// The generated password (shown to the API caller only in the create answer).
    pub password: SecretString,
    /// The owner login of the account it belongs to.
    pub owner_email: String,
}

impl fmt::Debug for SimClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimClient")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("status", &self.status)
            .field("grants", &self.grants)
            .field("password", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// How an email account got into the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountSource {
    /// `POST /account/bulk-add-regular-accounts`.
    BulkAdd,
    /// The partner upload.
    PartnerUpload,
    /// A Zapmail export through [`MailboxImporter`].
    Import,
    /// [`PlusVibeState::seed_account`].
    Seeded,
}

/// Health data of a simulated account; `None` is served as the vendor's `-1`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SimHealth {
    /// `7d_overall_warmup_health`.
    pub overall_7d: Option<f64>,
    /// `7d_google_warmup_health`.
    pub google_7d: Option<f64>,
    /// `7d_microsoft_warmup_health`.
    pub microsoft_7d: Option<f64>,
    /// `7d_other_warmup_health`.
    pub other_7d: Option<f64>,
    /// `1d_miss_warmup_rate`.
    pub miss_warmup_rate_1d: Option<f64>,
    /// `3d_bounce_rate`.
    pub bounce_rate_3d: Option<f64>,
    /// `7d_replyrate`.
    pub reply_rate_7d: Option<f64>,
    /// `7d_ooo_replyrate`.
    pub ooo_reply_rate_7d: Option<f64>,
    /// `email_sent_today`.
    pub email_sent_today: Option<u64>,
    /// `warmup_email_sent_today`.
    pub warmup_email_sent_today: Option<u64>,
}

impl SimHealth {
    /// A new account's analytics: every score and rate at "no data", counters at 0 (§8).
    pub fn new_account() -> Self {
        SimHealth {
            email_sent_today: Some(0),
            warmup_email_sent_today: Some(0),
            ..SimHealth::default()
        }
    }
}

/// An email account in the simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct SimAccount {
    /// Its id.
    pub id: AccountId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// The address.
    pub email: String,
    /// Sender first name.
    pub first_name: String,
    /// Sender last name.
    pub last_name: String,
    /// `REGULAR_ACCOUNT`, `GOOGLE_WORKSPACE`, `MICROSOFT365`.
    pub provider: String,
    /// `ACTIVE`, `INACTIVE`, `ERROR`.
    pub status: String,
    /// `ACTIVE` or `INACTIVE`.
    pub warmup_status: String,
    /// When warmup was last turned on.
    pub warmup_enb_dt: Option<String>,
    /// How it was added.
    pub source: AccountSource,
    /// Whether `/account/list` shows it yet.
    pub visible: bool,
    /// `payload.daily_limit`.
    pub daily_limit: i64,
    /// `payload.sending_gap` (minutes).
    pub sending_gap: i64,
    /// `payload.signature`.
    pub signature: String,
    /// `payload.warmup.limit`.
    pub warmup_limit: i64,
    /// `payload.warmup.increment`.
    pub warmup_increment: i64,
    /// `payload.warmup.reply_rate` (percent).
    pub warmup_reply_rate: f64,
    /// Every setting written at add time or by bulk updates, as sent (passwords excluded).
    pub settings: BTreeMap<String, Value>,
    /// Analytics.
    pub health: SimHealth,
}

/// An account added to the simulator (journal helper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedAccount {
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// Its id.
    pub id: AccountId,
    /// The address.
    pub email: String,
    /// How it was added.
    pub source: AccountSource,
}

/// One applied `PATCH /account/bulk-update-warmup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmupUpdateRecord {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The ids sent.
    pub ids: Vec<AccountId>,
    /// The status set.
    pub warmup_status: String,
    /// The ids that existed and were updated.
    pub updated_ids: Vec<AccountId>,
}

/// One applied `PUT /account/bulk-update`.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkUpdateRecord {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The ids sent.
    pub ids: Vec<AccountId>,
    /// The settings sent (without `workspace_id` and `ids`).
    pub settings: Map<String, Value>,
    /// The ids that existed and were updated.
    pub updated_ids: Vec<AccountId>,
}

/// One accepted partner upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerUploadRecord {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The login used.
    pub username: String,
    /// Every address in the upload.
    pub emails: Vec<String>,
    /// The provider id sent.
    pub provider_id: Option<String>,
    /// The notification email sent.
    pub notification_email: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------------------

struct Owner {
    email: String,
    password: String,
    first_workspace: String,
}

struct WsRec {
    id: String,
    name: String,
    owner: usize,
}

struct ClientRec {
    id: String,
    owner: usize,
    email: String,
    first_name: String,
    last_name: String,
    business_name: String,
    status: String,
    grants: Vec<SimGrant>,
    password: String,
}

struct AccountRec {
    data: SimAccount,
    visible_at: Instant,
    created: String,
    updated: String,
}

struct Behaviour {
    account_add_delay: Duration,
    partner_prefix: String,
    partner_accepts_client_logins: bool,
    partner_upload_requires_provider_id: bool,
    partner_provider_ids: Vec<String>,
    reject_duplicate_workspace_names: bool,
    reject_duplicate_client_emails: bool,
    reject_warmup_business_type: bool,
}

#[derive(Default)]
struct Events {
    workspaces_created: Vec<String>,
    clients_created: Vec<String>,
    accounts_added: Vec<AddedAccount>,
    accounts_deleted: Vec<(WorkspaceId, String)>,
    warmup_updates: Vec<WarmupUpdateRecord>,
    bulk_updates: Vec<BulkUpdateRecord>,
    partner_uploads: Vec<PartnerUploadRecord>,
}

struct Inner {
    cfg: Behaviour,
    owners: Vec<Owner>,
    keys: BTreeMap<String, usize>,
    workspaces: Vec<WsRec>,
    clients: Vec<ClientRec>,
    accounts: Vec<AccountRec>,
    events: Events,
    rng: fastrand::Rng,
}

#[derive(Clone, Copy)]
enum Login {
    Owner(usize),
    Client(usize),
}

/// The simulator's state: accounts, workspaces, clients and email accounts behind one
/// mutex. Reach it through [`PlusVibeSim`](super::PlusVibeSim) (which dereferences to it).
pub struct PlusVibeState {
    inner: Mutex<Inner>,
}

impl fmt::Debug for PlusVibeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.lock();
        f.debug_struct("PlusVibeState")
            .field("workspaces", &g.workspaces.len())
            .field("clients", &g.clients.len())
            .field("accounts", &g.accounts.len())
            .finish_non_exhaustive()
    }
}

type Reply = Result<SimResponse, SimResponse>;

fn err(status: u16, message: impl Into<String>) -> SimResponse {
    SimResponse::json(
        status,
        json!({"status": "error", "message": message.into()}),
    )
}

fn partner_err(status: u16, message: impl Into<String>) -> SimResponse {
    SimResponse::json(status, json!({"code": 0, "message": message.into()}))
}

fn success() -> SimResponse {
    SimResponse::ok(json!({"status": "success"}))
}

impl PlusVibeState {
    pub(crate) fn new(config: &PlusVibeSimConfig) -> Self {
        let mut inner = Inner {
            cfg: Behaviour {
                account_add_delay: config.account_add_delay,
                partner_prefix: config.partner_path_prefix.trim_end_matches('/').to_string(),
                partner_accepts_client_logins: config.partner_accepts_client_logins,
                partner_upload_requires_provider_id: config.partner_upload_requires_provider_id,
                partner_provider_ids: config.partner_provider_ids.clone(),
                reject_duplicate_workspace_names: config.reject_duplicate_workspace_names,
                reject_duplicate_client_emails: config.reject_duplicate_client_emails,
                reject_warmup_business_type: config.reject_warmup_business_type,
            },
            owners: Vec::new(),
            keys: BTreeMap::new(),
            workspaces: Vec::new(),
            clients: Vec::new(),
            accounts: Vec::new(),
            events: Events::default(),
            rng: fastrand::Rng::new(),
        };
        for seed in &config.accounts {
            let owner = inner.owners.len();
            let ws = inner.new_id();
            inner.workspaces.push(WsRec {
                id: ws.clone(),
                name: seed.workspace_name.clone(),
                owner,
            });
            inner.owners.push(Owner {
                email: seed.owner_email.clone(),
                password: seed.owner_password.clone(),
                first_workspace: ws,
            });
            inner.keys.insert(seed.api_key.clone(), owner);
        }
        PlusVibeState {
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn owner_login(&self, owner: usize) -> (String, String) {
        let g = self.lock();
        (
            g.owners[owner].email.clone(),
            g.owners[owner].password.clone(),
        )
    }

    pub(crate) fn owner_workspace(&self, owner: usize) -> WorkspaceId {
        WorkspaceId::from(self.lock().owners[owner].first_workspace.clone())
    }

    // ---- state inspection -----------------------------------------------------------

    /// Every workspace, in creation order.
    pub fn workspaces(&self) -> Vec<SimWorkspace> {
        let g = self.lock();
        g.workspaces.iter().map(|w| g.sim_workspace(w)).collect()
    }

    /// The first workspace named `name`.
    pub fn workspace_by_name(&self, name: &str) -> Option<SimWorkspace> {
        self.workspaces().into_iter().find(|w| w.name == name)
    }

    /// Every (not deleted) client login.
    pub fn clients(&self) -> Vec<SimClient> {
        let g = self.lock();
        g.clients.iter().map(|c| g.sim_client(c)).collect()
    }

    /// The client login with this email (case-insensitive).
    pub fn client_by_email(&self, email: &str) -> Option<SimClient> {
        self.clients()
            .into_iter()
            .find(|c| c.email.eq_ignore_ascii_case(email))
    }

    /// Every email account of `workspace`, including accepted ones not visible yet (see
    /// [`SimAccount::visible`]).
    pub fn accounts(&self, workspace: &WorkspaceId) -> Vec<SimAccount> {
        let now = Instant::now();
        self.lock()
            .accounts
            .iter()
            .filter(|a| a.data.workspace_id == *workspace)
            .map(|a| a.snapshot(now))
            .collect()
    }

    /// Every email account of every workspace.
    pub fn all_accounts(&self) -> Vec<SimAccount> {
        let now = Instant::now();
        self.lock()
            .accounts
            .iter()
            .map(|a| a.snapshot(now))
            .collect()
    }

    /// The (first) account with this address, in any workspace.
    pub fn account_by_email(&self, email: &str) -> Option<SimAccount> {
        let now = Instant::now();
        self.lock()
            .accounts
            .iter()
            .find(|a| a.data.email.eq_ignore_ascii_case(email))
            .map(|a| a.snapshot(now))
    }

    // ---- journal helpers ------------------------------------------------------------

    /// Workspaces created through the API, in order.
    pub fn workspaces_created(&self) -> Vec<SimWorkspace> {
        let g = self.lock();
        g.events
            .workspaces_created
            .iter()
            .filter_map(|id| g.workspaces.iter().find(|w| w.id == *id))
            .map(|w| g.sim_workspace(w))
            .collect()
    }

    /// Ids of the client logins created through the API, in order (deleted ones included).
    pub fn clients_created(&self) -> Vec<ClientId> {
        self.lock()
            .events
            .clients_created
            .iter()
            .map(|s| ClientId::from(s.as_str()))
            .collect()
    }

    /// Every account added (bulk add, partner upload, import, seed), in order.
    pub fn accounts_added(&self) -> Vec<AddedAccount> {
        self.lock().events.accounts_added.clone()
    }

    /// Every account deleted through `POST /account/delete`: (workspace, email).
    pub fn accounts_deleted(&self) -> Vec<(WorkspaceId, String)> {
        self.lock().events.accounts_deleted.clone()
    }

    /// Every applied warmup-status update.
    pub fn warmup_updates(&self) -> Vec<WarmupUpdateRecord> {
        self.lock().events.warmup_updates.clone()
    }

    /// Every applied bulk update.
    pub fn bulk_updates(&self) -> Vec<BulkUpdateRecord> {
        self.lock().events.bulk_updates.clone()
    }

    /// Every accepted partner upload.
    pub fn partner_uploads(&self) -> Vec<PartnerUploadRecord> {
        self.lock().events.partner_uploads.clone()
    }

    // ---- test hooks -----------------------------------------------------------------

    /// Set an account's analytics (by address, any workspace). Returns whether it exists.
    pub fn set_health(&self, email: &str, health: SimHealth) -> bool {
        let mut g = self.lock();
        match g
            .accounts
            .iter_mut()
            .find(|a| a.data.email.eq_ignore_ascii_case(email))
        {
            Some(a) => {
                a.data.health = health;
                true
            }
            None => false,
        }
    }

    /// Set an account's connection status (e.g. `"ERROR"`). Returns whether it exists.
    pub fn set_account_status(&self, email: &str, status: &str) -> bool {
        let mut g = self.lock();
        match g
            .accounts
            .iter_mut()
            .find(|a| a.data.email.eq_ignore_ascii_case(email))
        {
            Some(a) => {
                a.data.status = status.to_string();
                true
            }
            None => false,
        }
    }

    /// Make every accepted account visible now.
    pub fn make_all_visible(&self) {
        let now = Instant::now();
        for a in &mut self.lock().accounts {
            a.visible_at = a.visible_at.min(now);
        }
    }

    /// Change how long accepted accounts take to appear.
    pub fn set_account_add_delay(&self, delay: Duration) {
        self.lock().cfg.account_add_delay = delay;
    }

    /// Require (or not) a known `provider_id` on partner uploads.
    pub fn set_partner_upload_requires_provider_id(&self, required: bool) {
        self.lock().cfg.partner_upload_requires_provider_id = required;
    }

    /// Reject (or not) `warmup_business_type` in bulk updates.
    pub fn set_reject_warmup_business_type(&self, reject: bool) {
        self.lock().cfg.reject_warmup_business_type = reject;
    }

    /// Add a visible `REGULAR_ACCOUNT` email account to `workspace` directly (no request).
    /// Returns `None` when the workspace does not exist or the address is already there.
    pub fn seed_account(
        &self,
        workspace: &WorkspaceId,
        email: &str,
        first_name: &str,
        last_name: &str,
    ) -> Option<AccountId> {
        let mut g = self.lock();
        g.workspaces.iter().find(|w| w.id == workspace.as_str())?;
        let fields = Map::from_iter([
            ("email".to_string(), json!(email)),
            ("first_name".to_string(), json!(first_name)),
            ("last_name".to_string(), json!(last_name)),
        ]);
        g.add_account(
            workspace.as_str(),
            &fields,
            "REGULAR_ACCOUNT",
            AccountSource::Seeded,
            Duration::ZERO,
        )
    }

    fn is_partner_route(&self, method: &str, path: &str) -> bool {
        matches!(
            self.route(method, path),
            RouteMatch::Found(r) if r.key.starts_with("POST /webhook/")
                || r.key.starts_with("GET /webhook/")
                || r.key == routes::PARTNER_UPLOAD
        )
    }

    fn partner_relative<'p>(&self, path: &'p str) -> Option<&'p str> {
        let prefix = self.lock().cfg.partner_prefix.clone();
        // Requests under the standard base path arrive with it stripped.
        let base = <Self as SimVendor>::BASE_PATH;
        let rel = match prefix.strip_prefix(base) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_string(),
            _ => prefix,
        };
        path.strip_prefix(rel.as_str())
            .filter(|p| p.starts_with('/'))
    }
}

impl Inner {
    fn new_id(&mut self) -> String {
        format!("{:08x}{:016x}", self.rng.u32(..), self.rng.u64(..))
    }

    fn new_password(&mut self) -> String {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let mut p: String = (0..14)
            .map(|_| CHARS[self.rng.usize(..CHARS.len())] as char)
            .collect();
        p.push('!');
        p
    }

    fn sim_workspace(&self, w: &WsRec) -> SimWorkspace {
        SimWorkspace {
            id: WorkspaceId::from(w.id.as_str()),
            name: w.name.clone(),
            owner_email: self.owners[w.owner].email.clone(),
        }
    }

    fn sim_client(&self, c: &ClientRec) -> SimClient {
        SimClient {
            id: ClientId::from(c.id.as_str()),
            email: c.email.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            business_name: c.business_name.clone(),
            status: c.status.clone(),
            grants: c.grants.clone(),
            password: SecretString::from(c.password.clone()),
            owner_email: self.owners[c.owner].email.clone(),
        }
    }

    fn owner_of_key(&self, req: &SimRequest) -> Option<usize> {
        req.api_key
            .as_deref()
            .and_then(|k| self.keys.get(k).copied())
    }

    fn owns_workspace(&self, owner: usize, ws: &str) -> bool {
        self.workspaces
            .iter()
            .any(|w| w.id == ws && w.owner == owner)
    }

    /// `workspace_id` from the query (GET) or the body (others), checked against `owner`.
    fn require_workspace(&self, owner: usize, req: &SimRequest) -> Result<String, SimResponse> {
        let ws = if req.method == "GET" {
            req.query_param("workspace_id")
        } else {
            req.body_str("workspace_id")
        };
        let ws = ws
            .filter(|s| !s.is_empty())
            .ok_or_else(|| err(400, "workspace_id: required"))?;
        if !self.owns_workspace(owner, ws) {
            return Err(err(
                400,
                format!("workspace_id: workspace {ws} not found or not accessible"),
            ));
        }
        Ok(ws.to_string())
    }

    fn login(&self, email: &str, password: &str) -> Option<(usize, Login)> {
        if let Some(i) = self
            .owners
            .iter()
            .position(|o| o.email.eq_ignore_ascii_case(email) && o.password == password)
        {
            return Some((i, Login::Owner(i)));
        }
        self.clients
            .iter()
            .position(|c| {
                c.email.eq_ignore_ascii_case(email)
                    && c.password == password
                    && c.status == "ACTIVE"
            })
            .map(|i| (self.clients[i].owner, Login::Client(i)))
    }

    fn login_workspaces(&self, owner: usize, login: Login) -> Vec<String> {
        match login {
            Login::Owner(_) => self
                .workspaces
                .iter()
                .filter(|w| w.owner == owner)
                .map(|w| w.id.clone())
                .collect(),
            Login::Client(i) => self.clients[i]
                .grants
                .iter()
                .map(|g| g.workspace_id.as_str().to_string())
                .collect(),
        }
    }

    fn add_account(
        &mut self,
        workspace: &str,
        fields: &Map<String, Value>,
        provider: &str,
        source: AccountSource,
        delay: Duration,
    ) -> Option<AccountId> {
        let email = fields.get("email")?.as_str()?.trim().to_string();
        if self
            .accounts
            .iter()
            .any(|a| a.data.workspace_id == workspace && a.data.email.eq_ignore_ascii_case(&email))
        {
            return None;
        }
        let s = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let n = |k: &str, default: i64| fields.get(k).and_then(Value::as_i64).unwrap_or(default);
        let warmup_on = fields.get("enable_warmup").and_then(Value::as_str) == Some("yes");
        let now = now_iso();
        let id = self.new_id();
        let settings: BTreeMap<String, Value> = fields
            .iter()
            .filter(|(k, _)| !vendor_http::redact::is_secret_key(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // [U] defaults for values the add request does not set.
        let data = SimAccount {
            id: AccountId::from(id.as_str()),
            workspace_id: WorkspaceId::from(workspace),
            email: email.clone(),
            first_name: s("first_name"),
            last_name: s("last_name"),
            provider: provider.to_string(),
            status: "ACTIVE".into(),
            warmup_status: if warmup_on { "ACTIVE" } else { "INACTIVE" }.into(),
            warmup_enb_dt: warmup_on.then(|| now.clone()),
            source,
            visible: delay.is_zero(),
            daily_limit: n("daily_limit", 30),
            sending_gap: n("min_interval", 10),
            signature: String::new(),
            warmup_limit: n("warmup_daily_limit", 20),
            warmup_increment: n("warmup_rampup_increment", 2),
            warmup_reply_rate: 30.0,
            settings,
            health: SimHealth::new_account(),
        };
        self.accounts.push(AccountRec {
            data,
            visible_at: Instant::now() + delay,
            created: now.clone(),
            updated: now,
        });
        let added = AddedAccount {
            workspace_id: WorkspaceId::from(workspace),
            id: AccountId::from(id.as_str()),
            email,
            source,
        };
        self.events.accounts_added.push(added);
        Some(AccountId::from(id))
    }

    fn visible_accounts<'a>(
        &'a self,
        workspace: &'a str,
        now: Instant,
    ) -> impl Iterator<Item = &'a AccountRec> + 'a {
        self.accounts
            .iter()
            .filter(move |a| a.data.workspace_id == workspace && a.visible_at <= now)
    }
}

impl AccountRec {
    fn snapshot(&self, now: Instant) -> SimAccount {
        let mut d = self.data.clone();
        d.visible = self.visible_at <= now;
        d
    }

    fn to_json(&self) -> Value {
        let d = &self.data;
        let m = |v: Option<f64>| v.map_or(json!(-1), |f| json!(f));
        let c = |v: Option<u64>| v.map_or(json!(-1), |n| json!(n));
        let advanced_type = d
            .settings
            .get("warmup_business_type")
            .cloned()
            .unwrap_or(json!(""));
        let s = |k: &str| d.settings.get(k).cloned();
        json!({
            "id": d.id,
            "email": d.email,
            "status": d.status,
            "warmup_status": d.warmup_status,
            "provider": d.provider,
            "warmup_enb_dt": d.warmup_enb_dt,
            "timestamp_created": self.created,
            "timestamp_updated": self.updated,
            "payload": {
                "name": {"first_name": d.first_name, "last_name": d.last_name},
                "warmup": {
                    "limit": d.warmup_limit,
                    "increment": d.warmup_increment,
                    "reply_rate": d.warmup_reply_rate,
                    "warmup_custom_words": s("warmup_custom_words").unwrap_or(json!("")),
                    "warmup_signature": i64::from(s("warmup_signature") == Some(json!("yes"))),
                    "advanced": {"warm_ctd": false, "weekday_only": false, "warmup_business_type": advanced_type},
                },
                "imap_host": s("imap_host").unwrap_or(json!("")),
                "imap_port": s("imap_port").unwrap_or(json!(993)),
                "smtp_host": s("smtp_host").unwrap_or(json!("")),
                "smtp_port": s("smtp_port").unwrap_or(json!(465)),
                "daily_limit": d.daily_limit,
                "sending_gap": d.sending_gap,
                "reply_to": "",
                "custom_domain": "",
                "signature": d.signature,
                "tags": [],
                "cmps": [],
                "sending_rampup": {},
                "warmup_rampup": {},
                "analytics": {
                    "health_scores": {
                        "7d_overall_warmup_health": m(d.health.overall_7d),
                        "7d_google_warmup_health": m(d.health.google_7d),
                        "7d_microsoft_warmup_health": m(d.health.microsoft_7d),
                        "7d_other_warmup_health": m(d.health.other_7d),
                        "1d_miss_warmup_rate": m(d.health.miss_warmup_rate_1d),
                        "3d_bounce_rate": m(d.health.bounce_rate_3d),
                    },
                    "reply_rates": {
                        "7d_replyrate": m(d.health.reply_rate_7d),
                        "7d_ooo_replyrate": m(d.health.ooo_reply_rate_7d),
                    },
                    "daily_counters": {
                        "email_sent_today": c(d.health.email_sent_today),
                        "warmup_email_sent_today": c(d.health.warmup_email_sent_today),
                    },
                },
            },
        })
    }
}

// ---------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------

const YES_NO_UPDATE: &[&str] = &[
    "warmup_randomize",
    "bulk_warmup_is_slow_rampup",
    "warmup_signature",
    "bulk_is_slow_rampup",
    "bulk_is_auto_pause",
];

const INT_UPDATE: &[(&str, i64, i64)] = &[
    ("daily_limit", 0, 10_000),
    ("interval_limit_in_min", 0, 1_440),
    ("warmup_max_daily_limit", 0, 10_000),
    ("warmup_initial_daily_limit", 0, 10_000),
    ("warmup_pace_increment", 0, 10_000),
    ("warmup_randomize_num", 0, 100),
    ("bulk_limit_rand_pct", 0, 50),
    ("bulk_auto_pause_send_days", 0, 365),
    ("bulk_auto_pause_days", 0, 365),
];

const YES_NO_ADD: &[&str] = &[
    "enable_camp_rampup",
    "enable_warmup",
    "enable_warmup_rampup",
];

const INT_ADD: &[(&str, i64, i64)] = &[
    ("daily_limit", 0, 10_000),
    ("min_interval", 0, 1_440),
    ("camp_rampup_start", 0, 10_000),
    ("camp_rampup_increment", 0, 10_000),
    ("warmup_daily_limit", 0, 10_000),
    ("warmup_rampup_start", 0, 10_000),
    ("warmup_rampup_increment", 0, 10_000),
    ("imap_port", 1, 65_535),
    ("smtp_port", 1, 65_535),
];

fn check_yes_no(
    obj: &Map<String, Value>,
    prefix: &str,
    fields: &[&str],
) -> Result<(), SimResponse> {
    for f in fields {
        if let Some(v) = obj.get(*f)
            && !matches!(v.as_str(), Some("yes" | "no"))
        {
            return Err(err(400, format!("{prefix}{f}: must be one of [yes, no]")));
        }
    }
    Ok(())
}

fn check_ints(
    obj: &Map<String, Value>,
    prefix: &str,
    fields: &[(&str, i64, i64)],
) -> Result<(), SimResponse> {
    for (f, min, max) in fields {
        if let Some(v) = obj.get(*f) {
            match v.as_i64() {
                Some(n) if (*min..=*max).contains(&n) => {}
                Some(_) => {
                    return Err(err(
                        400,
                        format!("{prefix}{f}: must be between {min} and {max}"),
                    ));
                }
                None => return Err(err(400, format!("{prefix}{f}: must be an integer"))),
            }
        }
    }
    Ok(())
}

fn parse_ids(body: &Value) -> Result<Vec<String>, SimResponse> {
    let arr = body
        .get("ids")
        .ok_or_else(|| err(400, "ids: required"))?
        .as_array()
        .ok_or_else(|| err(400, "ids: must be an array"))?;
    if arr.is_empty() {
        return Err(err(400, "ids: must contain at least 1 items"));
    }
    arr.iter()
        .enumerate()
        .map(|(i, v)| match v.as_str() {
            Some(s) if is_object_id(s) => Ok(s.to_string()),
            _ => Err(err(
                400,
                format!("ids[{i}]: must match pattern \"^[a-f0-9]{{24}}$\""),
            )),
        })
        .collect()
}

fn valid_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !s.contains(' '),
        None => false,
    }
}

/// Validate the `accounts` array of a bulk add or partner upload.
fn check_new_accounts(body: &Value) -> Result<Vec<Map<String, Value>>, SimResponse> {
    let arr = body
        .get("accounts")
        .and_then(Value::as_array)
        .ok_or_else(|| err(400, "accounts: required"))?;
    if arr.is_empty() {
        return Err(err(400, "accounts: must contain at least 1 items"));
    }
    let mut out = Vec::new();
    for (i, item) in arr.iter().enumerate() {
        let prefix = format!("accounts[{i}].");
        let obj = item
            .as_object()
            .ok_or_else(|| err(400, format!("accounts[{i}]: must be an object")))?;
        match obj.get("email").and_then(Value::as_str) {
            Some(e) if valid_email(e) => {}
            Some(_) => return Err(err(400, format!("{prefix}email: must be a valid email"))),
            None => return Err(err(400, format!("{prefix}email: required"))),
        }
        check_yes_no(obj, &prefix, YES_NO_ADD)?;
        check_ints(obj, &prefix, INT_ADD)?;
        out.push(obj.clone());
    }
    Ok(out)
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Routes and handlers
// ---------------------------------------------------------------------------------------

impl SimVendor for PlusVibeState {
    const NAME: &'static str = "plusvibe";
    const BASE_PATH: &'static str = "/api/v1";
    const KEY_HEADER: &'static str = "x-api-key";

    fn route(&self, method: &str, path: &str) -> RouteMatch {
        use routes::*;
        if let Some(rel) = self.partner_relative(path) {
            let found = match rel.trim_end_matches('/') {
                "/webhook/partner-list-workspace" => Some(("POST", PARTNER_LIST_WORKSPACES)),
                "/webhook/partner-list-email-accounts" => Some(("GET", PARTNER_LIST_ACCOUNTS)),
                "/partner-upload-regular-accounts" => Some(("POST", PARTNER_UPLOAD)),
                "/webhook/partner-google-oauth-url" => Some(("POST", PARTNER_GOOGLE_OAUTH)),
                _ => None,
            };
            if let Some((m, key)) = found {
                return if m == method {
                    RouteMatch::Found(Route::new(key))
                } else {
                    RouteMatch::WrongMethod
                };
            }
        }
        // The documented trailing slashes (`/workspaces/add/`, `/client/`) are optional.
        let p = path.trim_end_matches('/');
        let key = match (method, p) {
            ("GET", "/authenticate") => AUTHENTICATE,
            ("POST", "/workspaces/add") => CREATE_WORKSPACE,
            ("POST", "/client") => CREATE_CLIENT,
            ("GET", "/client") => LIST_CLIENTS,
            ("DELETE", "/client") => DELETE_CLIENT,
            ("GET", "/account/list") => LIST_ACCOUNTS,
            ("PUT", "/account/bulk-update") => BULK_UPDATE,
            ("PATCH", "/account/bulk-update-warmup") => BULK_UPDATE_WARMUP,
            ("POST", "/account/bulk-add-regular-accounts") => BULK_ADD,
            ("POST", "/account/delete") => DELETE_ACCOUNT,
            (
                _,
                "/authenticate"
                | "/workspaces/add"
                | "/client"
                | "/account/list"
                | "/account/bulk-update"
                | "/account/bulk-update-warmup"
                | "/account/bulk-add-regular-accounts"
                | "/account/delete",
            ) => return RouteMatch::WrongMethod,
            _ => return RouteMatch::NotFound,
        };
        RouteMatch::Found(Route::new(key))
    }

    fn authenticate(&self, req: &SimRequest) -> Option<SimResponse> {
        // Partner endpoints authenticate with pipl_username/pipl_password (in the handler).
        if self.is_partner_route(&req.method, &req.path) {
            return None;
        }
        match req.api_key.as_deref() {
            None | Some("") => Some(err(401, "API key is required (x-api-key header)")),
            Some(k) if self.lock().keys.contains_key(k) => None,
            Some(_) => Some(err(401, "Invalid API key")),
        }
    }

    fn handle(&self, route: Route, req: &SimRequest) -> SimResponse {
        use routes::*;
        let mut g = self.lock();
        let reply = match route.key {
            PARTNER_LIST_WORKSPACES
            | PARTNER_LIST_ACCOUNTS
            | PARTNER_UPLOAD
            | PARTNER_GOOGLE_OAUTH => g.partner(route.key, req),
            key => match g.owner_of_key(req) {
                Some(owner) => match key {
                    AUTHENTICATE => Ok(g.authenticate(owner)),
                    CREATE_WORKSPACE => g.create_workspace(owner, req),
                    CREATE_CLIENT => g.create_client(owner, req),
                    LIST_CLIENTS => g.list_clients(owner, req),
                    DELETE_CLIENT => g.delete_client(owner, req),
                    LIST_ACCOUNTS => g
                        .list_accounts(owner, req)
                        .map(|a| SimResponse::ok(json!({"accounts": a}))),
                    BULK_UPDATE => g.bulk_update(owner, req),
                    BULK_UPDATE_WARMUP => g.bulk_update_warmup(owner, req),
                    BULK_ADD => g.bulk_add(owner, req),
                    DELETE_ACCOUNT => g.delete_account(owner, req),
                    _ => Err(err(404, "Endpoint not found")),
                },
                None => Err(err(401, "Invalid API key")),
            },
        };
        reply.unwrap_or_else(|e| e)
    }

    fn error_body(&self, _status: u16, message: &str) -> Value {
        json!({"status": "error", "message": message})
    }
}

impl Inner {
    fn authenticate(&self, owner: usize) -> SimResponse {
        let ws: Vec<Value> = self
            .workspaces
            .iter()
            .filter(|w| w.owner == owner)
            .map(|w| json!({"_id": w.id, "name": w.name}))
            .collect();
        SimResponse::ok(json!({"status": "success", "workspaces": ws}))
    }

    fn create_workspace(&mut self, owner: usize, req: &SimRequest) -> Reply {
        self.require_workspace(owner, req)?;
        let name = match req.body.get("workspace_name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::String(_)) => return Err(err(400, "workspace_name: must not be empty")),
            Some(_) => return Err(err(400, "workspace_name: must be a string")),
            None => return Err(err(400, "workspace_name: required")),
        };
        if self.cfg.reject_duplicate_workspace_names
            && self
                .workspaces
                .iter()
                .any(|w| w.owner == owner && w.name.eq_ignore_ascii_case(&name))
        {
            return Err(err(
                400,
                format!("workspace_name: a workspace named {name:?} already exists"),
            ));
        }
        let id = self.new_id();
        self.workspaces.push(WsRec {
            id: id.clone(),
            name,
            owner,
        });
        self.events.workspaces_created.push(id.clone());
        Ok(SimResponse::ok(json!({"status": "success", "_id": id})))
    }

    fn create_client(&mut self, owner: usize, req: &SimRequest) -> Reply {
        self.require_workspace(owner, req)?;
        let b = &req.body;
        let text = |field: &str, may_be_empty: bool| -> Result<String, SimResponse> {
            match b.get(field) {
                Some(Value::String(s)) if may_be_empty || !s.trim().is_empty() => {
                    Ok(s.trim().to_string())
                }
                Some(Value::String(_)) => Err(err(400, format!("{field}: must not be empty"))),
                Some(_) => Err(err(400, format!("{field}: must be a string"))),
                None => Err(err(400, format!("{field}: required"))),
            }
        };
        let email = text("client_email", false)?;
        if !valid_email(&email) {
            return Err(err(400, "client_email: must be a valid email"));
        }
        let first_name = text("client_first_name", false)?;
        let last_name = text("client_last_name", true)?;
        let business_name = text("client_business_name", true)?;
        let items = b
            .get("workspaces")
            .and_then(Value::as_array)
            .ok_or_else(|| err(400, "workspaces: required"))?;
        if items.is_empty() {
            return Err(err(400, "workspaces: must contain at least 1 items"));
        }
        let mut grants = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| err(400, format!("workspaces[{i}].id: required")))?;
            if !self.owns_workspace(owner, id) {
                return Err(err(
                    400,
                    format!("workspaces[{i}].id: workspace {id} not found or not accessible"),
                ));
            }
            let permissions = match item.get("permissions") {
                None | Some(Value::Null) => Vec::new(),
                v => string_list(v).ok_or_else(|| {
                    err(
                        400,
                        format!("workspaces[{i}].permissions: must be an array of strings"),
                    )
                })?,
            };
            let hide_labels = match item.get("hide_labels") {
                None => return Err(err(400, format!("workspaces[{i}].hide_labels: required"))),
                v => string_list(v).ok_or_else(|| {
                    err(
                        400,
                        format!("workspaces[{i}].hide_labels: must be an array of strings"),
                    )
                })?,
            };
            grants.push(SimGrant {
                workspace_id: WorkspaceId::from(id),
                permissions,
                hide_labels,
            });
        }
        if self.cfg.reject_duplicate_client_emails
            && self
                .clients
                .iter()
                .any(|c| c.owner == owner && c.email.eq_ignore_ascii_case(&email))
        {
            return Err(err(
                400,
                format!("client_email: a client with email {email} already exists"),
            ));
        }
        let id = self.new_id();
        let password = self.new_password();
        self.clients.push(ClientRec {
            id: id.clone(),
            owner,
            email: email.clone(),
            first_name,
            last_name,
            business_name,
            status: "ACTIVE".into(),
            grants,
            password: password.clone(),
        });
        self.events.clients_created.push(id.clone());
        Ok(SimResponse::ok(
            json!({"client_id": id, "email": email, "password": password}),
        ))
    }

    fn list_clients(&self, owner: usize, req: &SimRequest) -> Reply {
        self.require_workspace(owner, req)?;
        let clients: Vec<Value> = self
            .clients
            .iter()
            .filter(|c| c.owner == owner)
            .map(|c| {
                json!({
                    "client_id": c.id,
                    "first_name": c.first_name,
                    "last_name": c.last_name,
                    "business_name": c.business_name,
                    "email": c.email,
                    "status": c.status,
                    "client_permissions": c.grants.iter().map(|g| json!({
                        "workspace_id": g.workspace_id,
                        "permissions": g.permissions,
                        "hide_labels": g.hide_labels,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(SimResponse::ok(json!({"clients": clients})))
    }

    fn delete_client(&mut self, owner: usize, req: &SimRequest) -> Reply {
        self.require_workspace(owner, req)?;
        let id = req
            .body_str("client_id")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| err(400, "client_id: required"))?;
        let pos = self
            .clients
            .iter()
            .position(|c| c.owner == owner && c.id == id)
            .ok_or_else(|| err(404, format!("client {id} not found")))?;
        self.clients.remove(pos);
        Ok(success())
    }

    fn list_accounts(&self, owner: usize, req: &SimRequest) -> Result<Vec<Value>, SimResponse> {
        let ws = self.require_workspace(owner, req)?;
        self.account_page(&ws, req)
    }

    /// One page of visible accounts with the `/account/list` query filters.
    fn account_page(&self, ws: &str, req: &SimRequest) -> Result<Vec<Value>, SimResponse> {
        let int = |k: &str, min: i64, default: i64| -> Result<i64, SimResponse> {
            match req.query_param(k) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<i64>() {
                    Ok(n) if n >= min => Ok(n),
                    Ok(_) => Err(err(
                        400,
                        format!("{k}: must be greater than or equal to {min}"),
                    )),
                    Err(_) => Err(err(400, format!("{k}: must be a number"))),
                },
            }
        };
        let skip = int("skip", 0, 0)?;
        // [U] default page size when `limit` is omitted.
        let limit = int("limit", 1, 100)?;
        let email = req.query_param("email").filter(|e| !e.is_empty());
        let tags: Vec<&str> = req
            .query_param("tags")
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let now = Instant::now();
        Ok(self
            .visible_accounts(ws, now)
            .filter(|a| email.is_none_or(|e| a.data.email.eq_ignore_ascii_case(e)))
            // Simulated accounts carry no tags, so any tag filter matches nothing.
            .filter(|_| tags.is_empty())
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(AccountRec::to_json)
            .collect())
    }

    fn bulk_update(&mut self, owner: usize, req: &SimRequest) -> Reply {
        let ws = self.require_workspace(owner, req)?;
        let ids = parse_ids(&req.body)?;
        let mut settings = req.body.as_object().cloned().unwrap_or_default();
        settings.remove("workspace_id");
        settings.remove("ids");
        check_yes_no(&settings, "", YES_NO_UPDATE)?;
        check_ints(&settings, "", INT_UPDATE)?;
        for f in [
            "first_name",
            "last_name",
            "signature",
            "warmup_business_type",
        ] {
            if let Some(v) = settings.get(f)
                && !v.is_string()
            {
                return Err(err(400, format!("{f}: must be a string")));
            }
        }
        let reply_rate = match settings.get("warmup_reply_rate") {
            None => None,
            Some(v) => match v.as_f64() {
                Some(f) if (0.0..=1.0).contains(&f) => Some(f),
                _ => {
                    return Err(err(
                        400,
                        "warmup_reply_rate: must be a number between 0 and 1",
                    ));
                }
            },
        };
        if settings.contains_key("bulk_is_slow_rampup") && !settings.contains_key("daily_limit") {
            return Err(err(
                400,
                "daily_limit: required when bulk_is_slow_rampup is provided",
            ));
        }
        if let Some(s) = settings.get("warmup_schedule") {
            let ok = s.get("tz").is_some_and(Value::is_string)
                && s.get("from_time").is_some_and(Value::is_string)
                && s.get("to_time").is_some_and(Value::is_string)
                && string_list(s.get("days")).is_some();
            if !ok {
                return Err(err(
                    400,
                    "warmup_schedule: must have tz, from_time, to_time and days",
                ));
            }
        }
        if self.cfg.reject_warmup_business_type && settings.contains_key("warmup_business_type") {
            return Err(err(400, "warmup_business_type: is not allowed"));
        }
        let now = Instant::now();
        let stamp = now_iso();
        let mut updated = Vec::new();
        for a in self
            .accounts
            .iter_mut()
            .filter(|a| a.data.workspace_id == ws && a.visible_at <= now)
            .filter(|a| ids.iter().any(|i| a.data.id == i.as_str()))
        {
            let d = &mut a.data;
            let str_of = |k: &str| settings.get(k).and_then(Value::as_str).map(str::to_string);
            let int_of = |k: &str| settings.get(k).and_then(Value::as_i64);
            if let Some(v) = str_of("first_name") {
                d.first_name = v;
            }
            if let Some(v) = str_of("last_name") {
                d.last_name = v;
            }
            if let Some(v) = str_of("signature") {
                d.signature = v;
            }
            if let Some(v) = int_of("daily_limit") {
                d.daily_limit = v;
            }
            if let Some(v) = int_of("interval_limit_in_min") {
                d.sending_gap = v;
            }
            if let Some(v) = int_of("warmup_max_daily_limit") {
                d.warmup_limit = v;
            }
            if let Some(v) = int_of("warmup_pace_increment") {
                d.warmup_increment = v;
            }
            if let Some(f) = reply_rate {
                // Written as a 0-1 fraction, read back as a whole percent (§4.1).
                d.warmup_reply_rate = (f * 100.0).round();
            }
            for (k, v) in &settings {
                d.settings.insert(k.clone(), v.clone());
            }
            a.updated = stamp.clone();
            updated.push(d.id.clone());
        }
        self.events.bulk_updates.push(BulkUpdateRecord {
            workspace_id: WorkspaceId::from(ws),
            ids: ids.into_iter().map(AccountId::from).collect(),
            settings,
            updated_ids: updated,
        });
        Ok(success())
    }

    fn bulk_update_warmup(&mut self, owner: usize, req: &SimRequest) -> Reply {
        let ws = self.require_workspace(owner, req)?;
        let ids = parse_ids(&req.body)?;
        let status = match req.body.get("warmup_status") {
            None => return Err(err(400, "warmup_status: required")),
            Some(v) => match v.as_str() {
                Some(s @ ("ACTIVE" | "INACTIVE")) => s.to_string(),
                _ => {
                    return Err(err(400, "warmup_status: must be one of [ACTIVE, INACTIVE]"));
                }
            },
        };
        let now = Instant::now();
        let stamp = now_iso();
        let mut updated = Vec::new();
        for a in self
            .accounts
            .iter_mut()
            .filter(|a| a.data.workspace_id == ws && a.visible_at <= now)
            .filter(|a| ids.iter().any(|i| a.data.id == i.as_str()))
        {
            if status == "ACTIVE" && a.data.warmup_status != "ACTIVE" {
                a.data.warmup_enb_dt = Some(stamp.clone());
            }
            a.data.warmup_status = status.clone();
            a.updated = stamp.clone();
            updated.push(a.data.id.clone());
        }
        self.events.warmup_updates.push(WarmupUpdateRecord {
            workspace_id: WorkspaceId::from(ws),
            ids: ids.into_iter().map(AccountId::from).collect(),
            warmup_status: status,
            updated_ids: updated.clone(),
        });
        Ok(SimResponse::ok(
            json!({"updated_count": updated.len(), "updated_ids": updated}),
        ))
    }

    fn bulk_add(&mut self, owner: usize, req: &SimRequest) -> Reply {
        let ws = self.require_workspace(owner, req)?;
        let items = check_new_accounts(&req.body)?;
        let delay = self.cfg.account_add_delay;
        for item in &items {
            // Existing addresses are skipped (the real service reports them by email).
            self.add_account(&ws, item, "REGULAR_ACCOUNT", AccountSource::BulkAdd, delay);
        }
        Ok(SimResponse::ok(json!({
            "status": "success",
            "message": "Accounts are being added; the results will be emailed to you.",
        })))
    }

    fn delete_account(&mut self, owner: usize, req: &SimRequest) -> Reply {
        let ws = self.require_workspace(owner, req)?;
        let email = req
            .body_str("email")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| err(400, "email: required"))?
            .to_string();
        let now = Instant::now();
        let pos = self
            .accounts
            .iter()
            .position(|a| {
                a.data.workspace_id == ws
                    && a.visible_at <= now
                    && a.data.email.eq_ignore_ascii_case(&email)
            })
            .ok_or_else(|| err(404, format!("email account {email} not found")))?;
        self.accounts.remove(pos);
        self.events
            .accounts_deleted
            .push((WorkspaceId::from(ws), email));
        Ok(success())
    }

    // ---- partner --------------------------------------------------------------------

    fn partner(&mut self, key: &str, req: &SimRequest) -> Reply {
        let (user, pass) = if req.method == "GET" {
            (
                req.query_param("pipl_username"),
                req.query_param("pipl_password"),
            )
        } else {
            (req.body_str("pipl_username"), req.body_str("pipl_password"))
        };
        let (Some(user), Some(pass)) = (
            user.filter(|s| !s.is_empty()),
            pass.filter(|s| !s.is_empty()),
        ) else {
            return Err(partner_err(
                400,
                "pipl_username and pipl_password are required",
            ));
        };
        let (owner, login) = match self.login(user, pass) {
            Some((_, Login::Client(_))) if !self.cfg.partner_accepts_client_logins => None,
            other => other,
        }
        .ok_or_else(|| partner_err(401, "Invalid pipl_username or pipl_password"))?;
        let user = user.to_string();
        let reachable = self.login_workspaces(owner, login);
        let workspace = |req: &SimRequest| -> Result<String, SimResponse> {
            let ws = if req.method == "GET" {
                req.query_param("workspace_id")
            } else {
                req.body_str("workspace_id")
            }
            .filter(|s| !s.is_empty())
            .ok_or_else(|| partner_err(400, "workspace_id: required"))?;
            if reachable.iter().any(|w| w == ws) {
                Ok(ws.to_string())
            } else {
                Err(partner_err(
                    400,
                    format!("workspace_id: workspace {ws} not found or not accessible"),
                ))
            }
        };
        let flow_ok = |req: &SimRequest, required: bool| -> Result<(), SimResponse> {
            match req.body_str("flow") {
                Some("app_user") => Ok(()),
                None if !required => Ok(()),
                None => Err(partner_err(400, "flow: required")),
                Some(_) => Err(partner_err(400, "flow: only app_user is supported")),
            }
        };
        match key {
            routes::PARTNER_LIST_WORKSPACES => {
                flow_ok(req, true)?;
                let data: Vec<Value> = self
                    .workspaces
                    .iter()
                    .filter(|w| reachable.contains(&w.id))
                    .map(|w| json!({"_id": w.id, "name": w.name}))
                    .collect();
                Ok(SimResponse::ok(
                    json!({"code": 1, "message": "success", "data": data}),
                ))
            }
            routes::PARTNER_LIST_ACCOUNTS => {
                let ws = workspace(req)?;
                let accounts = self.account_page(&ws, req).map_err(|e| {
                    let msg = e
                        .body
                        .as_ref()
                        .and_then(|b| b.get("message"))
                        .and_then(Value::as_str)
                        .unwrap_or("invalid request")
                        .to_string();
                    partner_err(e.status, msg)
                })?;
                Ok(SimResponse::ok(
                    json!({"code": 1, "message": "success", "accounts": accounts}),
                ))
            }
            routes::PARTNER_UPLOAD => {
                let ws = workspace(req)?;
                let provider_id = req.body_str("provider_id").map(str::to_string);
                if self.cfg.partner_upload_requires_provider_id {
                    match &provider_id {
                        None => return Err(partner_err(400, "provider_id: required")),
                        Some(p) if !self.cfg.partner_provider_ids.contains(p) => {
                            return Err(partner_err(
                                400,
                                format!("provider_id: unknown provider {p}"),
                            ));
                        }
                        Some(_) => {}
                    }
                }
                let items = check_new_accounts(&req.body).map_err(|e| {
                    let msg = e
                        .body
                        .as_ref()
                        .and_then(|b| b.get("message"))
                        .and_then(Value::as_str)
                        .unwrap_or("invalid accounts")
                        .to_string();
                    partner_err(e.status, msg)
                })?;
                let delay = self.cfg.account_add_delay;
                for item in &items {
                    self.add_account(
                        &ws,
                        item,
                        "REGULAR_ACCOUNT",
                        AccountSource::PartnerUpload,
                        delay,
                    );
                }
                self.events.partner_uploads.push(PartnerUploadRecord {
                    workspace_id: WorkspaceId::from(ws),
                    username: user,
                    emails: items
                        .iter()
                        .filter_map(|i| i.get("email").and_then(Value::as_str).map(str::to_string))
                        .collect(),
                    provider_id,
                    notification_email: req.body_str("notification_email").map(str::to_string),
                });
                Ok(SimResponse::ok(json!({
                    "code": 1,
                    "message": "Accounts received; the results will be emailed.",
                })))
            }
            routes::PARTNER_GOOGLE_OAUTH => {
                flow_ok(req, false)?;
                let ws = workspace(req)?;
                let state = self.new_id();
                Ok(SimResponse::ok(json!({
                    "code": 1,
                    "message": "success",
                    "url": format!(
                        "https://accounts.google.com/o/oauth2/v2/auth?client_id=plusvibe-sim&scope=https%3A%2F%2Fmail.google.com%2F&state={ws}.{state}"
                    ),
                })))
            }
            _ => Err(partner_err(404, "Endpoint not found")),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Zapmail link
// ---------------------------------------------------------------------------------------

fn provider_for(exported: &str) -> &'static str {
    let p = exported.to_ascii_uppercase();
    if p.contains("GOOGLE") || p.contains("GMAIL") {
        "GOOGLE_WORKSPACE"
    } else if p.contains("MICROSOFT") || p.contains("OUTLOOK") || p.contains("365") {
        "MICROSOFT365"
    } else {
        "REGULAR_ACCOUNT"
    }
}

impl MailboxImporter for PlusVibeState {
    /// A client login made by `POST /client` (email + its one-time password), or an
    /// account owner's login.
    fn verify_login(&self, email: &str, password: &str) -> bool {
        self.lock().login(email, password).is_some()
    }

    /// Adds the mailboxes to the login's workspace (a client login: its first granted
    /// workspace; an owner login: the account's first workspace), visible after `delay`.
    /// Addresses already in that workspace are skipped; returns how many mailboxes were
    /// accepted (all of them, duplicates included, as the export succeeded).
    fn import_mailboxes(
        &self,
        login_email: &str,
        login_password: &str,
        mailboxes: Vec<ExportedMailbox>,
        delay: Duration,
    ) -> Result<usize, String> {
        let mut g = self.lock();
        let (_, login) = g
            .login(login_email, login_password)
            .ok_or_else(|| "invalid PlusVibe login (email or password)".to_string())?;
        let ws = match login {
            Login::Owner(o) => g.owners[o].first_workspace.clone(),
            Login::Client(c) => g.clients[c]
                .grants
                .first()
                .map(|gr| gr.workspace_id.as_str().to_string())
                .ok_or_else(|| "the PlusVibe client login has no workspace".to_string())?,
        };
        let n = mailboxes.len();
        for m in mailboxes {
            let fields = Map::from_iter([
                ("email".to_string(), json!(m.email)),
                ("first_name".to_string(), json!(m.first_name)),
                ("last_name".to_string(), json!(m.last_name)),
            ]);
            g.add_account(
                &ws,
                &fields,
                provider_for(&m.provider),
                AccountSource::Import,
                delay,
            );
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

/// Now as ISO-8601 UTC with milliseconds (`2026-08-24T10:00:00.000Z`).
fn now_iso() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_689), (2026, 8, 24));
        assert!(now_iso().ends_with('Z'));
    }
}
