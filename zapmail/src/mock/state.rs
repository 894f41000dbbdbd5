//! The simulator's state, routes and handlers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use vendor_http::GENERAL;
use vendor_http::sim::{
    ExportedMailbox, MailboxImporter, Route, RouteMatch, SimRequest, SimResponse, SimVendor,
};

use super::{
    SimDomain, SimExport, SimMailbox, SimThirdPartyAccount, SimWorkspace, TldPrice, Transition,
    ZapmailSimConfig, routes,
};
use crate::exports::ExportApp;
use crate::validate::{
    normalize_domain_name, tld_of, validate_domain_name, validate_mailbox_username,
};
use crate::{AVAILABILITY_BUCKET, DomainId, DomainStatus, MailboxId, MailboxStatus, WorkspaceId};

const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

type Reply = Result<SimResponse, SimResponse>;

/// First name, last name, username of a mailbox to create.
type NewBox = (String, String, String);

/// The Zapmail simulator's state (implements [`SimVendor`]).
pub struct ZapmailState {
    config: ZapmailSimConfig,
    inner: Mutex<Inner>,
    importers: Mutex<BTreeMap<String, Arc<dyn MailboxImporter>>>,
    error_seq: AtomicU64,
}

impl std::fmt::Debug for ZapmailState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZapmailState").finish_non_exhaustive()
    }
}

struct Account {
    email: String,
    wallet: Decimal,
    slots: u32,
    primary: String,
}

struct Ws {
    id: String,
    name: String,
    key: String,
    billing: Option<Value>,
    created: SystemTime,
}

struct Dom {
    id: String,
    name: String,
    workspace: String,
    status: DomainStatus,
    created: Instant,
    created_at: SystemTime,
    polls: u32,
    activation: Transition,
    dmarc_email: Option<String>,
    dns: Vec<Rec>,
}

struct Rec {
    id: String,
    kind: String,
    host: String,
    value: String,
    priority: Option<u32>,
}

struct Mbx {
    id: String,
    domain_id: String,
    domain: String,
    workspace: String,
    username: String,
    first_name: String,
    last_name: String,
    password: String,
    totp: String,
    status: MailboxStatus,
    target: MailboxStatus,
    created: Instant,
    created_at: SystemTime,
    polls: u32,
    activation: Transition,
    scheduled_removal: bool,
    exports: Vec<(String, Instant)>,
}

struct TpAccount {
    id: String,
    app: String,
    email: String,
    password: String,
    workspace: String,
    created_at: SystemTime,
}

struct Exp {
    id: u64,
    workspace: String,
    apps: Vec<String>,
    mailbox_ids: Vec<String>,
    emails: Vec<String>,
    created: Instant,
    polls: u32,
    completion: Transition,
    outcome: Option<Result<usize, String>>,
}

struct ConnReq {
    id: String,
    domain: String,
    workspace: String,
    status: String,
    created_at: SystemTime,
}

struct Inner {
    accounts: BTreeMap<String, Account>,
    workspaces: Vec<Ws>,
    domains: Vec<Dom>,
    mailboxes: Vec<Mbx>,
    tp_accounts: Vec<TpAccount>,
    exports: Vec<Exp>,
    connection_requests: Vec<ConnReq>,
    taken: BTreeSet<String>,
    prices: BTreeMap<String, TldPrice>,
    failing_mailboxes: BTreeSet<String>,
    bought: BTreeMap<String, usize>,
    mailboxes_created: BTreeMap<String, usize>,
    workspaces_created: usize,
    seq: u64,
    next_export: u64,
}

impl Inner {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn uuid(&mut self) -> String {
        let n = self.next();
        let h = mix(n);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (h >> 32) as u32,
            (h >> 16) as u16,
            (h >> 4) & 0xfff,
            h & 0xfff,
            n
        )
    }

    fn ws(&self, id: &str) -> Option<&Ws> {
        self.workspaces.iter().find(|w| w.id == id)
    }

    fn new_workspace(&mut self, key: &str, name: &str, billing: Option<Value>) -> String {
        let id = self.uuid();
        self.workspaces.push(Ws {
            id: id.clone(),
            name: name.to_string(),
            key: key.to_string(),
            billing,
            created: SystemTime::now(),
        });
        id
    }

    fn add_account(&mut self, key: &str, config: &ZapmailSimConfig) -> String {
        if let Some(a) = self.accounts.get(key) {
            return a.primary.clone();
        }
        let billing = config.primary_workspace_has_billing.then(sample_billing);
        let primary = self.new_workspace(key, "My Workspace", billing);
        let n = self.accounts.len() + 1;
        self.accounts.insert(
            key.to_string(),
            Account {
                email: format!("owner{n}@sim.zapmail.test"),
                wallet: config.wallet_balance,
                slots: config.mailbox_slots,
                primary: primary.clone(),
            },
        );
        primary
    }

    fn account_of_ws(&self, ws: &str) -> Option<&str> {
        self.ws(ws).map(|w| w.key.as_str())
    }

    /// The ids of `key`'s workspaces: a filter over every mailbox or domain of the
    /// simulator looks its workspace up here (one `account_of_ws` per row scans every
    /// workspace, thousands of times per call with a thousand customers).
    fn workspaces_of(&self, key: &str) -> BTreeSet<&str> {
        self.workspaces
            .iter()
            .filter(|w| w.key == key)
            .map(|w| w.id.as_str())
            .collect()
    }

    fn mailboxes_on(&self, domain_id: &str) -> usize {
        self.mailboxes
            .iter()
            .filter(|m| m.domain_id == domain_id)
            .count()
    }
}

fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn sample_billing() -> Value {
    json!({"firstName": "Sim", "lastName": "Owner", "addressLineOne": "1 Main St",
           "city": "Austin", "country": "US", "postalCode": "73301"})
}

/// Whether a transition is due.
fn due(t: &Transition, created: Instant, polls: u32, now: Instant) -> bool {
    t.after_polls.is_some_and(|n| polls >= n)
        || t.after.is_some_and(|d| now.duration_since(created) >= d)
}

impl Dom {
    /// The status now; `observe` counts this read as a poll.
    fn resolve(&mut self, now: Instant, observe: bool) -> DomainStatus {
        if self.status == DomainStatus::Pending {
            if due(&self.activation, self.created, self.polls, now) {
                self.activate();
            } else if observe {
                self.polls += 1;
            }
        }
        self.status.clone()
    }

    fn peek(&self, now: Instant) -> DomainStatus {
        if self.status == DomainStatus::Pending
            && due(&self.activation, self.created, self.polls, now)
        {
            DomainStatus::Active
        } else {
            self.status.clone()
        }
    }

    fn activate(&mut self) {
        self.status = DomainStatus::Active;
        if self.dns.is_empty() {
            self.dns = default_records(&self.name, &self.id);
        }
    }
}

fn default_records(name: &str, id: &str) -> Vec<Rec> {
    let h = mix(id.len() as u64 + name.len() as u64);
    vec![
        Rec {
            id: format!("{id}-mx"),
            kind: "MX".into(),
            host: "@".into(),
            value: "smtp.google.com".into(),
            priority: Some(1),
        },
        Rec {
            id: format!("{id}-spf"),
            kind: "TXT".into(),
            host: "@".into(),
            value: "v=spf1 include:_spf.google.com ~all".into(),
            priority: None,
        },
        Rec {
            id: format!("{id}-dkim"),
            kind: "TXT".into(),
            host: "google._domainkey".into(),
            value: format!("v=DKIM1; k=rsa; p=MIIBIjSIM{h:016x}"),
            priority: None,
        },
    ]
}

impl Mbx {
    fn resolve(&mut self, now: Instant, observe: bool) -> MailboxStatus {
        if self.status == MailboxStatus::InProgress {
            if due(&self.activation, self.created, self.polls, now) {
                self.status = self.target.clone();
            } else if observe {
                self.polls += 1;
            }
        }
        self.status.clone()
    }

    fn peek(&self, now: Instant) -> MailboxStatus {
        if self.status == MailboxStatus::InProgress
            && due(&self.activation, self.created, self.polls, now)
        {
            self.target.clone()
        } else {
            self.status.clone()
        }
    }

    fn email(&self) -> String {
        format!("{}@{}", self.username, self.domain)
    }
}

impl Exp {
    fn resolve(&mut self, now: Instant, observe: bool) -> (String, Option<String>) {
        let finished =
            self.outcome.is_some() && due(&self.completion, self.created, self.polls, now);
        if !finished {
            if observe {
                self.polls += 1;
            }
            return ("PENDING".into(), None);
        }
        match &self.outcome {
            Some(Ok(_)) => ("COMPLETED".into(), None),
            Some(Err(reason)) => ("FAILED".into(), Some(reason.clone())),
            None => ("PENDING".into(), None),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Time formatting

fn iso(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn price_str(p: Decimal) -> String {
    format!("{:.2}", p.round_dp(2))
}

fn dec_json(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------
// Construction, inspection and seeding

impl ZapmailState {
    /// State for `config`, with one account per configured key.
    pub fn new(config: ZapmailSimConfig) -> Self {
        let mut inner = Inner {
            accounts: BTreeMap::new(),
            workspaces: Vec::new(),
            domains: Vec::new(),
            mailboxes: Vec::new(),
            tp_accounts: Vec::new(),
            exports: Vec::new(),
            connection_requests: Vec::new(),
            taken: config
                .taken_domains
                .iter()
                .map(|d| normalize_domain_name(d))
                .collect(),
            prices: config.tld_prices.clone(),
            failing_mailboxes: BTreeSet::new(),
            bought: BTreeMap::new(),
            mailboxes_created: BTreeMap::new(),
            workspaces_created: 0,
            seq: 0,
            next_export: 1000,
        };
        for key in &config.api_keys {
            inner.add_account(key, &config);
        }
        ZapmailState {
            config,
            inner: Mutex::new(inner),
            importers: Mutex::new(BTreeMap::new()),
            error_seq: AtomicU64::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration.
    pub fn config(&self) -> &ZapmailSimConfig {
        &self.config
    }

    pub(crate) fn first_key(&self) -> String {
        self.config.api_keys.first().cloned().unwrap_or_default()
    }

    /// Link an importer for exports to `app`.
    pub fn link_exporter(&self, app: &str, importer: Arc<dyn MailboxImporter>) {
        self.importers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(app.to_ascii_uppercase(), importer);
    }

    fn importer(&self, app: &str) -> Option<Arc<dyn MailboxImporter>> {
        self.importers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(app)
            .cloned()
    }

    /// Times `domain` was bought (paid and created).
    pub fn domains_bought(&self, domain: &str) -> usize {
        *self
            .lock()
            .bought
            .get(&normalize_domain_name(domain))
            .unwrap_or(&0)
    }

    /// Mailboxes created on `domain` through the API.
    pub fn mailboxes_created_for(&self, domain: &str) -> usize {
        *self
            .lock()
            .mailboxes_created
            .get(&normalize_domain_name(domain))
            .unwrap_or(&0)
    }

    /// Workspaces created through the API.
    pub fn workspaces_created(&self) -> usize {
        self.lock().workspaces_created
    }

    /// Every domain (status with time-based transitions applied, no poll counted).
    pub fn domains(&self) -> Vec<SimDomain> {
        let now = Instant::now();
        self.lock()
            .domains
            .iter()
            .map(|d| SimDomain {
                id: DomainId::from(d.id.as_str()),
                name: d.name.clone(),
                status: d.peek(now),
                workspace_id: WorkspaceId::from(d.workspace.as_str()),
                dmarc_email: d.dmarc_email.clone(),
            })
            .collect()
    }

    /// Every mailbox.
    pub fn mailboxes(&self) -> Vec<SimMailbox> {
        let now = Instant::now();
        self.lock()
            .mailboxes
            .iter()
            .map(|m| SimMailbox {
                id: MailboxId::from(m.id.as_str()),
                email: m.email(),
                username: m.username.clone(),
                domain_id: DomainId::from(m.domain_id.as_str()),
                status: m.peek(now),
                scheduled_removal: m.scheduled_removal,
            })
            .collect()
    }

    /// Every workspace.
    pub fn workspaces(&self) -> Vec<SimWorkspace> {
        self.lock()
            .workspaces
            .iter()
            .map(|w| SimWorkspace {
                id: WorkspaceId::from(w.id.as_str()),
                name: w.name.clone(),
                api_key: w.key.clone(),
                has_billing_details: w.billing.is_some(),
            })
            .collect()
    }

    /// The primary workspace of `key` (empty id for an unknown key).
    pub fn primary_workspace(&self, key: &str) -> WorkspaceId {
        WorkspaceId::from(
            self.lock()
                .accounts
                .get(key)
                .map(|a| a.primary.clone())
                .unwrap_or_default(),
        )
    }

    /// Wallet balance of `key`'s account.
    pub fn wallet_balance(&self, key: &str) -> Decimal {
        self.lock()
            .accounts
            .get(key)
            .map(|a| a.wallet)
            .unwrap_or_default()
    }

    /// Set the wallet balance of `key`'s account.
    pub fn set_wallet_balance(&self, key: &str, balance: Decimal) {
        if let Some(a) = self.lock().accounts.get_mut(key) {
            a.wallet = balance;
        }
    }

    /// Third-party accounts.
    pub fn third_party_accounts(&self) -> Vec<SimThirdPartyAccount> {
        self.lock()
            .tp_accounts
            .iter()
            .map(|a| SimThirdPartyAccount {
                id: a.id.clone(),
                app: a.app.clone(),
                email: a.email.clone(),
                workspace_id: WorkspaceId::from(a.workspace.as_str()),
            })
            .collect()
    }

    /// Exports.
    pub fn exports(&self) -> Vec<SimExport> {
        self.lock()
            .exports
            .iter()
            .map(|e| SimExport {
                id: e.id,
                apps: e.apps.clone(),
                emails: e.emails.clone(),
                outcome: e.outcome.clone(),
            })
            .collect()
    }

    /// Mark names as registered elsewhere.
    pub fn mark_taken<I, S>(&self, names: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut g = self.lock();
        for n in names {
            g.taken.insert(normalize_domain_name(n.as_ref()));
        }
    }

    /// Set a TLD price.
    pub fn set_tld_price(&self, tld: &str, price: TldPrice) {
        self.lock()
            .prices
            .insert(tld.trim_start_matches('.').to_ascii_lowercase(), price);
    }

    /// Add an account for `key`; returns its primary workspace.
    pub fn add_account(&self, key: &str) -> WorkspaceId {
        WorkspaceId::from(self.lock().add_account(key, &self.config))
    }

    /// Create a workspace for `key`.
    pub fn seed_workspace(&self, key: &str, name: &str, with_billing: bool) -> WorkspaceId {
        WorkspaceId::from(
            self.lock()
                .new_workspace(key, name, with_billing.then(sample_billing)),
        )
    }

    /// Add an owned domain.
    pub fn seed_domain(
        &self,
        name: &str,
        workspace: &WorkspaceId,
        status: DomainStatus,
    ) -> DomainId {
        let mut g = self.lock();
        let id = g.uuid();
        let name = normalize_domain_name(name);
        let mut d = Dom {
            id: id.clone(),
            name,
            workspace: workspace.to_string(),
            status: status.clone(),
            created: Instant::now(),
            created_at: SystemTime::now(),
            polls: 0,
            activation: self.config.domain_activation,
            dmarc_email: None,
            dns: Vec::new(),
        };
        if status == DomainStatus::Active {
            d.activate();
        }
        g.domains.push(d);
        DomainId::from(id)
    }

    /// Add a mailbox on an existing domain.
    ///
    /// # Panics
    /// When the domain does not exist.
    pub fn seed_mailbox(&self, domain: &str, username: &str, status: MailboxStatus) -> MailboxId {
        let mut g = self.lock();
        let name = normalize_domain_name(domain);
        let (domain_id, ws) = g
            .domains
            .iter()
            .find(|d| d.name == name)
            .map(|d| (d.id.clone(), d.workspace.clone()))
            .expect("seed_mailbox: seed the domain first");
        let id = g.uuid();
        let n = g.next();
        let target = if status == MailboxStatus::InProgress {
            MailboxStatus::Active
        } else {
            status.clone()
        };
        g.mailboxes.push(Mbx {
            id: id.clone(),
            domain_id,
            domain: name,
            workspace: ws,
            username: username.to_string(),
            first_name: "Sim".into(),
            last_name: "User".into(),
            password: format!("Sim-{:x}-Pw!", mix(n)),
            totp: totp_secret(n),
            status,
            target,
            created: Instant::now(),
            created_at: SystemTime::now(),
            polls: 0,
            activation: self.config.mailbox_activation,
            scheduled_removal: false,
            exports: Vec::new(),
        });
        MailboxId::from(id)
    }

    /// Add a connection request.
    pub fn seed_connection_request(&self, domain: &str, ws: &WorkspaceId, status: &str) {
        let mut g = self.lock();
        let id = g.uuid();
        g.connection_requests.push(ConnReq {
            id,
            domain: normalize_domain_name(domain),
            workspace: ws.to_string(),
            status: status.to_string(),
            created_at: SystemTime::now(),
        });
    }

    /// Mailboxes with these addresses end `FAILED`.
    pub fn fail_mailboxes<I, S>(&self, emails: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut g = self.lock();
        for e in emails {
            g.failing_mailboxes
                .insert(e.as_ref().trim().to_ascii_lowercase());
        }
    }

    /// Finish every pending transition now.
    pub fn complete_transitions(&self) {
        let mut g = self.lock();
        for d in &mut g.domains {
            if d.status == DomainStatus::Pending {
                d.activate();
            }
        }
        for m in &mut g.mailboxes {
            if m.status == MailboxStatus::InProgress {
                m.status = m.target.clone();
            }
        }
        for e in &mut g.exports {
            e.completion = Transition::immediate();
        }
    }

    // -----------------------------------------------------------------------------------
    // Responses

    fn error_id(&self) -> String {
        // Not under `inner`: handlers build errors while holding that lock.
        let n = self.error_seq.fetch_add(1, Ordering::Relaxed);
        format!("{:08x}", mix(n) as u32)
    }

    fn err(&self, status: u16, message: &str) -> SimResponse {
        let body = self.error_body(status, message);
        if self.config.errors_in_200 {
            SimResponse::ok(body)
        } else {
            SimResponse::json(status, body)
        }
    }

    fn envelope(status: u16, message: &str, data: Value) -> SimResponse {
        SimResponse::json(
            status,
            json!({"status": status, "message": message, "data": data}),
        )
    }

    fn ok(message: &str, data: Value) -> SimResponse {
        Self::envelope(200, message, data)
    }

    /// The workspace a request runs in: `x-workspace-key`, else the key's primary one.
    fn workspace_of(&self, g: &Inner, req: &SimRequest) -> Result<String, SimResponse> {
        let key = req.api_key.as_deref().unwrap_or_default();
        match req
            .header("x-workspace-key")
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => g
                .accounts
                .get(key)
                .map(|a| a.primary.clone())
                .ok_or_else(|| self.err(401, "Invalid API key")),
            Some(ws) => match g.ws(ws) {
                None => Err(self.err(404, "Workspace not found")),
                Some(w) if w.key != key => Err(self.err(
                    403,
                    "You must be the owner or admin of this workspace to access this API",
                )),
                Some(w) => Ok(w.id.clone()),
            },
        }
    }

    fn pagination(
        &self,
        req: &SimRequest,
        body: Option<&Value>,
        default_limit: usize,
    ) -> Result<(usize, usize), SimResponse> {
        let raw = |k: &str| -> Option<String> {
            req.query_param(k).map(str::to_string).or_else(|| {
                body.and_then(|b| b.get(k)).and_then(|v| match v {
                    Value::Number(n) => Some(n.to_string()),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
            })
        };
        let bad = || self.err(400, "Invalid pagination parameters");
        let page = match raw("page") {
            None => 1,
            Some(p) => match p.trim().parse::<i64>() {
                Ok(n) if n >= 1 => n as usize,
                _ => return Err(bad()),
            },
        };
        let limit = match raw("limit") {
            None => default_limit,
            Some(l) => match l.trim().parse::<i64>() {
                Ok(0) => default_limit,
                Ok(n) if n > 0 => n as usize,
                _ => return Err(bad()),
            },
        };
        Ok((page, limit))
    }
}

fn totp_secret(n: u64) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h = mix(n ^ 0x5eed);
    (0..16)
        .map(|_| {
            let c = B32[(h & 31) as usize] as char;
            h = h.rotate_right(5) ^ 0x9e37;
            c
        })
        .collect()
}

fn page_meta(total: usize, page: usize, limit: usize) -> Map<String, Value> {
    let total_pages = total.div_ceil(limit.max(1));
    let mut m = Map::new();
    m.insert("totalSearchedCount".into(), json!(total));
    m.insert("currentPage".into(), json!(page));
    // The documented quirk: nextPage is page + 1 even on (and past) the last page.
    m.insert("nextPage".into(), json!(page + 1));
    m.insert("totalPages".into(), json!(total_pages));
    m
}

fn slice<T>(items: Vec<T>, page: usize, limit: usize) -> Vec<T> {
    items
        .into_iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .collect()
}

fn has_null(body: &Value, keys: &[&str]) -> bool {
    keys.iter()
        .any(|k| body.get(*k).is_some_and(Value::is_null))
}

fn str_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        None => Some(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if s.is_empty() => Some(Vec::new()),
        Some(Value::String(s)) => Some(vec![s.clone()]),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// SimVendor

impl SimVendor for ZapmailState {
    const NAME: &'static str = "zapmail";
    const BASE_PATH: &'static str = "/api";
    const KEY_HEADER: &'static str = "x-auth-zapmail";

    fn route(&self, method: &str, path: &str) -> RouteMatch {
        let path = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        let table: &[(&str, &str, &'static str, &'static str)] = &[
            ("GET", "/v2/users", routes::USERS, GENERAL),
            ("GET", "/v2/wallet/balance", routes::WALLET_BALANCE, GENERAL),
            ("GET", "/v2/workspaces", routes::LIST_WORKSPACES, GENERAL),
            ("POST", "/v2/workspaces", routes::CREATE_WORKSPACE, GENERAL),
            ("POST", "/v2/billing", routes::ADD_BILLING, GENERAL),
            ("PUT", "/v2/billing", routes::UPDATE_BILLING, GENERAL),
            (
                "POST",
                "/v2/domains/available",
                routes::AVAILABLE,
                AVAILABILITY_BUCKET,
            ),
            (
                "POST",
                "/v2/domains/available-bulk",
                routes::AVAILABLE_BULK,
                AVAILABILITY_BUCKET,
            ),
            ("POST", "/v2/domains/buy", routes::BUY, GENERAL),
            ("GET", "/v2/domains", routes::LIST_DOMAINS, GENERAL),
            ("POST", "/v2/domains", routes::FILTER_DOMAINS, GENERAL),
            ("GET", "/v2/domains/assignable", routes::ASSIGNABLE, GENERAL),
            (
                "GET",
                "/v2/domains/connection-requests",
                routes::CONNECTION_REQUESTS,
                GENERAL,
            ),
            ("POST", "/v2/domains/dmarc", routes::DMARC, GENERAL),
            ("POST", "/v2/mailboxes", routes::CREATE_MAILBOXES, GENERAL),
            ("PUT", "/v2/mailboxes", routes::UPDATE_MAILBOXES, GENERAL),
            ("GET", "/v2/mailboxes", routes::GET_MAILBOX, GENERAL),
            ("GET", "/v2/mailboxes/list", routes::LIST_MAILBOXES, GENERAL),
            (
                "PUT",
                "/v2/mailboxes/scheduled-removal",
                routes::SCHEDULED_REMOVAL,
                GENERAL,
            ),
            (
                "POST",
                "/v2/exports/accounts/third-party",
                routes::ADD_ACCOUNT,
                GENERAL,
            ),
            (
                "PUT",
                "/v2/exports/accounts/third-party",
                routes::UPDATE_ACCOUNT,
                GENERAL,
            ),
            (
                "GET",
                "/v2/exports/accounts/third-party",
                routes::LIST_ACCOUNTS,
                GENERAL,
            ),
            ("POST", "/v2/exports/mailboxes", routes::EXPORT, GENERAL),
            ("GET", "/v2/exports/status", routes::EXPORT_STATUS, GENERAL),
            ("GET", "/v2/dns", routes::GET_DNS, GENERAL),
            ("POST", "/v2/dns", routes::ADD_DNS, GENERAL),
        ];
        let mut path_known = false;
        for (m, p, key, bucket) in table {
            if *p == path {
                path_known = true;
                if *m == method {
                    return RouteMatch::Found(Route::in_bucket(key, bucket));
                }
            }
        }
        if path_known {
            RouteMatch::WrongMethod
        } else {
            RouteMatch::NotFound
        }
    }

    fn authenticate(&self, req: &SimRequest) -> Option<SimResponse> {
        match req.api_key.as_deref().map(str::trim) {
            None | Some("") => Some(SimResponse::json(
                401,
                self.error_body(401, "Unauthorized: x-auth-zapmail header is missing"),
            )),
            Some(k) if self.lock().accounts.contains_key(k) => None,
            Some(_) => Some(SimResponse::json(
                401,
                self.error_body(401, "Invalid API key"),
            )),
        }
    }

    fn handle(&self, route: Route, req: &SimRequest) -> SimResponse {
        let reply = match route.key {
            routes::USERS => self.users(req),
            routes::WALLET_BALANCE => self.wallet(req),
            routes::LIST_WORKSPACES => self.list_workspaces(req),
            routes::CREATE_WORKSPACE => self.create_workspace(req),
            routes::ADD_BILLING => self.billing(req, false),
            routes::UPDATE_BILLING => self.billing(req, true),
            routes::AVAILABLE => self.available(req),
            routes::AVAILABLE_BULK => self.available_bulk(req),
            routes::BUY => self.buy(req),
            routes::LIST_DOMAINS => self.list_domains(req, false, false),
            routes::FILTER_DOMAINS => self.list_domains(req, true, false),
            routes::ASSIGNABLE => self.list_domains(req, false, true),
            routes::CONNECTION_REQUESTS => self.connection_requests(req),
            routes::DMARC => self.dmarc(req),
            routes::CREATE_MAILBOXES => self.create_mailboxes(req),
            routes::UPDATE_MAILBOXES => self.update_mailboxes(req),
            routes::GET_MAILBOX => self.get_mailbox(req),
            routes::LIST_MAILBOXES => self.list_mailboxes(req),
            routes::SCHEDULED_REMOVAL => self.scheduled_removal(req),
            routes::ADD_ACCOUNT => self.add_account_3p(req, false),
            routes::UPDATE_ACCOUNT => self.add_account_3p(req, true),
            routes::LIST_ACCOUNTS => self.list_accounts_3p(req),
            routes::EXPORT => self.export(req),
            routes::EXPORT_STATUS => self.export_status(req),
            routes::GET_DNS => self.get_dns(req),
            routes::ADD_DNS => self.add_dns(req),
            _ => Err(self.err(404, "Endpoint not found")),
        };
        reply.unwrap_or_else(|e| e)
    }

    fn error_body(&self, status: u16, message: &str) -> Value {
        json!({"status": status, "message": message, "errorId": self.error_id()})
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

impl ZapmailState {
    fn users(&self, req: &SimRequest) -> Reply {
        let g = self.lock();
        let key = req.api_key.as_deref().unwrap_or_default();
        let a = g
            .accounts
            .get(key)
            .ok_or_else(|| self.err(401, "Invalid API key"))?;
        let key_workspaces = g.workspaces_of(key);
        let assigned = g
            .mailboxes
            .iter()
            .filter(|m| key_workspaces.contains(m.workspace.as_str()))
            .count();
        Ok(Self::ok(
            "User fetched successfully",
            json!({"email": a.email, "firstName": "Sim", "lastName": "Owner", "activePlan": "Growth",
                   "planEndsOn": "2027-12-31T00:00:00.000Z", "purchasedMailboxes": a.slots,
                   "assignedMailboxes": assigned, "userCreatedAt": "2026-01-01T00:00:00.000Z",
                   "walletBalance": dec_json(a.wallet)}),
        ))
    }

    fn wallet(&self, req: &SimRequest) -> Reply {
        let g = self.lock();
        let key = req.api_key.as_deref().unwrap_or_default();
        let a = g
            .accounts
            .get(key)
            .ok_or_else(|| self.err(401, "Invalid API key"))?;
        // Bare body (§6.13).
        Ok(SimResponse::ok(json!({
            "message": "Wallet balance fetched successfully",
            "walletBalance": dec_json(a.wallet),
            "autoRechargeEnabled": false,
            "autoRechargeDetails": {"amount": 50, "threshold": 25}
        })))
    }

    fn ws_json(g: &Inner, w: &Ws) -> Value {
        let domains = g.domains.iter().filter(|d| d.workspace == w.id).count();
        let mailboxes = g.mailboxes.iter().filter(|m| m.workspace == w.id).count();
        // Per-workspace counts are strings, as live (§6.2).
        json!({"id": w.id, "name": w.name, "domainCountGoogle": domains.to_string(),
               "domainCountMicrosoft": "0", "totalMailboxesPurchasedGoogle": mailboxes.to_string(),
               "totalMailboxesPurchasedMicrosoft": "0", "createdAt": iso(w.created)})
    }

    fn list_workspaces(&self, req: &SimRequest) -> Reply {
        let g = self.lock();
        let current = self.workspace_of(&g, req)?;
        let (page, limit) = self.pagination(req, None, 10)?;
        let key = req.api_key.as_deref().unwrap_or_default();
        let contains = req
            .query_param("contains")
            .unwrap_or("")
            .to_ascii_lowercase();
        let others: Vec<&Ws> = g
            .workspaces
            .iter()
            .filter(|w| w.key == key && w.id != current)
            .filter(|w| w.name.to_ascii_lowercase().contains(&contains))
            .collect();
        let total = others.len();
        let rows: Vec<Value> = slice(others, page, limit)
            .into_iter()
            .map(|w| Self::ws_json(&g, w))
            .collect();
        let cur = g.ws(&current).map(|w| Self::ws_json(&g, w));
        let all = g.workspaces.iter().filter(|w| w.key == key).count();
        let key_workspaces = g.workspaces_of(key);
        let domains = g
            .domains
            .iter()
            .filter(|d| key_workspaces.contains(d.workspace.as_str()))
            .count();
        let mut data = page_meta(total, page, limit);
        data.insert("currentWorkspace".into(), cur.unwrap_or(Value::Null));
        data.insert("workspaces".into(), Value::Array(rows));
        data.insert("totalWorkspacesCount".into(), json!(all));
        data.insert("totalDomainsCountGoogle".into(), json!(domains));
        data.insert("totalDomainsCountMicrosoft".into(), json!(0));
        Ok(Self::ok(
            "Workspaces fetched successfully",
            Value::Object(data),
        ))
    }

    fn create_workspace(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let key = req.api_key.clone().unwrap_or_default();
        let name = match req.body.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            _ => return Err(self.err(400, "\"name\" is required")),
        };
        let billing = match req.body.get("billingDetails") {
            None | Some(Value::Null) => None,
            Some(b @ Value::Object(_)) => Some(b.clone()),
            Some(_) => return Err(self.err(400, "\"billingDetails\" must be an object")),
        };
        if g.workspaces
            .iter()
            .any(|w| w.key == key && w.name.eq_ignore_ascii_case(&name))
        {
            // Duplicate names: the status is unknown (§6.2); 400 chosen.
            return Err(self.err(400, "A workspace with this name already exists"));
        }
        let id = g.new_workspace(&key, &name, billing);
        g.workspaces_created += 1;
        let w = g
            .ws(&id)
            .map(|w| Self::ws_json(&g, w))
            .unwrap_or(Value::Null);
        Ok(Self::ok("Workspace created successfully", w))
    }

    fn billing(&self, req: &SimRequest, update: bool) -> Reply {
        let mut g = self.lock();
        let key = req.api_key.clone().unwrap_or_default();
        let Value::Object(body) = &req.body else {
            return Err(self.err(400, "Billing details are required"));
        };
        for field in ["firstName", "lastName", "addressLineOne", "city", "country"] {
            match body.get(field) {
                Some(Value::String(s)) if !s.trim().is_empty() => {}
                _ => return Err(self.err(400, &format!("\"{field}\" is required"))),
            }
        }
        let target = match body.get("workspaceId").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => match g.ws(id) {
                None => return Err(self.err(404, "Workspace not found")),
                Some(w) if w.key != key => {
                    return Err(self.err(
                        403,
                        "You must be the owner or admin of this workspace to access this API",
                    ));
                }
                Some(w) => w.id.clone(),
            },
            _ => self.workspace_of(&g, req)?,
        };
        let ws = g
            .workspaces
            .iter_mut()
            .find(|w| w.id == target)
            .ok_or_else(|| self.err(404, "Workspace not found"))?;
        if update && ws.billing.is_none() {
            return Err(self.err(404, "Billing details not found; add them first"));
        }
        // POST on a workspace that already has details overwrites them (unknown, §6.3).
        ws.billing = Some(req.body.clone());
        let msg = if update {
            "Billing details updated successfully"
        } else {
            "Billing details added successfully"
        };
        Ok(Self::ok(msg, Value::Null))
    }

    /// Availability of one normalized name: (status, price, renew) as the vendor shows it.
    fn availability_of(&self, g: &Inner, name: &str) -> (&'static str, String, String) {
        if validate_domain_name(name).is_err() {
            return ("UNAVAILABLE", "NaN".into(), "NaN".into());
        }
        let tld = tld_of(name).unwrap_or_default();
        let price = g.prices.get(&tld);
        match price {
            Some(p) if self.config.supported_tlds.contains(&tld) => {
                if g.taken.contains(name) || g.domains.iter().any(|d| d.name == name) {
                    ("UNAVAILABLE", "0.00".into(), "0.00".into())
                } else {
                    ("AVAILABLE", price_str(p.register), price_str(p.renew))
                }
            }
            // Unsupported TLDs come back UNAVAILABLE with "NaN" prices (§6.4).
            _ => ("UNAVAILABLE", "NaN".into(), "NaN".into()),
        }
    }

    fn available_bulk(&self, req: &SimRequest) -> Reply {
        let names = match req.body.get("domainNames") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(normalize_domain_name))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| self.err(400, "\"domainNames\" must be an array of strings"))?,
            Some(Value::String(_)) => {
                return Err(self.err(400, "\"domainNames\" must be an array"));
            }
            _ => return Err(self.err(400, "\"domainNames\" is required")),
        };
        if names.is_empty() {
            return Err(self.err(400, "\"domainNames\" must contain at least 1 domain"));
        }
        if names.len() > self.config.max_bulk_names {
            return Err(self.err(
                400,
                &format!(
                    "You can check up to {} domains at a time",
                    self.config.max_bulk_names
                ),
            ));
        }
        let g = self.lock();
        let rows: Vec<Value> = names
            .iter()
            .map(|n| {
                let (status, price, renew) = self.availability_of(&g, n);
                json!({"domainName": n, "status": status, "isPremiumDomain": false,
                       "domainPrice": price, "renewPrice": renew})
            })
            .collect();
        let available = rows.iter().filter(|r| r["status"] == "AVAILABLE").count();
        Ok(Self::ok(
            "Domain availability fetched successfully",
            json!({"total": rows.len(), "available": available,
                   "unavailable": rows.len() - available, "domains": rows}),
        ))
    }

    fn available(&self, req: &SimRequest) -> Reply {
        let query = match req.body.get("domainName") {
            Some(Value::String(s)) if !s.trim().is_empty() => normalize_domain_name(s),
            _ => return Err(self.err(400, "\"domainName\" is required")),
        };
        let tlds = str_list(req.body.get("tlds"))
            .ok_or_else(|| self.err(400, "\"tlds\" must be an array of strings"))?;
        let g = self.lock();
        let (keyword, exact) = match query.rsplit_once('.') {
            Some((kw, _)) => (kw.to_string(), Some(query.clone())),
            None => (query.clone(), None),
        };
        let tlds: Vec<String> = if tlds.is_empty() {
            self.config
                .supported_tlds
                .iter()
                .map(str::to_string)
                .collect()
        } else {
            tlds.iter()
                .map(|t| t.trim_start_matches('.').to_ascii_lowercase())
                .collect()
        };
        let row = |name: &str| {
            let (status, price, renew) = self.availability_of(&g, name);
            (
                status,
                json!({"domainName": name, "domainPrice": price, "renewPrice": renew}),
            )
        };
        let mut suggestions = Vec::new();
        for prefix in ["", "get", "try", "use", "hello", "team"] {
            for suffix in ["", "hq", "mail", "app"] {
                for tld in &tlds {
                    let name = format!("{prefix}{keyword}{suffix}.{tld}");
                    let (status, r) = row(&name);
                    if status == "AVAILABLE" && suggestions.len() < 50 {
                        suggestions.push(r);
                    }
                }
            }
        }
        // The exact match is often null live (§6.4); here it is set when the full name
        // was asked for and is available.
        let exact_match = exact
            .map(|n| row(&n))
            .filter(|(s, _)| *s == "AVAILABLE")
            .map(|(_, r)| r)
            .unwrap_or(Value::Null);
        Ok(Self::ok(
            "Available domains fetched successfully",
            json!({"availableDomains": suggestions, "exactMatch": exact_match}),
        ))
    }

    fn buy(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let key = req.api_key.clone().unwrap_or_default();
        let items = match req.body.get("domains") {
            Some(Value::Array(items)) if !items.is_empty() => items.clone(),
            _ => return Err(self.err(400, "\"domains\" must be a non-empty array")),
        };
        let use_wallet = match req.body.get("useWallet") {
            Some(Value::Bool(b)) => *b,
            _ => return Err(self.err(400, "\"useWallet\" must be a boolean")),
        };
        if self.config.require_billing_details && g.ws(&ws).is_some_and(|w| w.billing.is_none()) {
            return Err(self.err(400, "Please add billing details before purchasing domains"));
        }
        let mut cart: Vec<(String, Decimal)> = Vec::new();
        for item in &items {
            let name = match item.get("domainName") {
                Some(Value::String(s)) => normalize_domain_name(s),
                _ => return Err(self.err(400, "\"domainName\" is required for every domain")),
            };
            let years = match item.get("years") {
                None | Some(Value::Null) => 1,
                Some(v) => match v.as_u64() {
                    Some(y) if (1..=10).contains(&y) => y,
                    _ => return Err(self.err(400, &format!("Invalid years for {name}"))),
                },
            };
            if validate_domain_name(&name).is_err() {
                return Err(self.err(400, &format!("Invalid domain name: {name}")));
            }
            let tld = tld_of(&name).unwrap_or_default();
            let price = match g.prices.get(&tld) {
                Some(p) if self.config.supported_tlds.contains(&tld) => p.register,
                _ => return Err(self.err(400, &format!("TLD .{tld} is not supported"))),
            };
            if let Some(existing) = g.domains.iter().find(|d| d.name == name) {
                let msg = if g.account_of_ws(&existing.workspace) == Some(key.as_str()) {
                    format!("Domain {name} already exists in your account")
                } else {
                    format!("Domain {name} is not available")
                };
                return Err(self.err(400, &msg));
            }
            if cart.iter().any(|(n, _)| *n == name) {
                return Err(self.err(400, &format!("Domain {name} is listed twice")));
            }
            cart.push((name, price * Decimal::from(years)));
        }
        let total: Decimal = cart.iter().map(|(_, p)| *p).sum();
        let n = g.next();
        if !use_wallet {
            return Ok(SimResponse::ok(json!({
                "paymentLink": format!("https://checkout.stripe.com/c/pay/cs_sim_{:016x}", mix(n))
            })));
        }
        let invoice = format!("https://invoice.stripe.com/i/acct_sim/in_{:016x}", mix(n));
        let account = g
            .accounts
            .get_mut(&key)
            .ok_or_else(|| self.err(401, "Invalid API key"))?;
        if account.wallet < total {
            // A short wallet is not an error: an invoice for the remainder, nothing bought
            // until it is paid (§6.5). The order is dropped (not modelled further).
            let due = total - account.wallet;
            return Ok(SimResponse::ok(json!({
                "message": format!(
                    "Insufficient wallet balance. An invoice for the remaining ${} was created; domains will be registered once it is paid",
                    price_str(due)
                ),
                "invoiceLink": invoice,
            })));
        }
        account.wallet -= total;
        for (name, price) in cart {
            if g.taken.contains(&name) {
                // /buy does not check the registry: registration fails and the price is
                // refunded to the wallet; the domain never appears (§6.5).
                if let Some(a) = g.accounts.get_mut(&key) {
                    a.wallet += price;
                }
                continue;
            }
            let id = g.uuid();
            g.domains.push(Dom {
                id,
                name: name.clone(),
                workspace: ws.clone(),
                status: DomainStatus::Pending,
                created: Instant::now(),
                created_at: SystemTime::now(),
                polls: 0,
                activation: self.config.domain_activation,
                dmarc_email: None,
                dns: Vec::new(),
            });
            *g.bought.entry(name).or_default() += 1;
        }
        Ok(SimResponse::ok(
            json!({"message": "Domains purchased", "invoiceLink": invoice}),
        ))
    }

    fn domain_json(g: &Inner, d: &Dom, status: &DomainStatus) -> Value {
        let mbx: Vec<Value> = g
            .mailboxes
            .iter()
            .filter(|m| m.domain_id == d.id)
            .map(|m| {
                json!({"id": m.id, "username": m.username, "email": m.email(),
                            "status": m.status, "password": m.password})
            })
            .collect();
        let provider = if mbx.is_empty() {
            Value::Null
        } else {
            json!("GOOGLE")
        };
        let dns_ready = *status == DomainStatus::Active;
        json!({
            "id": d.id, "domain": d.name, "status": status, "workspaceId": d.workspace,
            "serviceProvider": provider,
            "createdAt": iso(d.created_at), "updatedAt": iso(d.created_at),
            "registeredOn": if dns_ready { json!(iso(d.created_at)) } else { Value::Null },
            "expireOn": if dns_ready { json!(iso(d.created_at + Duration::from_secs(365 * 86_400))) } else { Value::Null },
            "autoRenew": false, "forwardTo": null, "forwardToAddedOnReseller": false, "maskForwarding": false,
            "dmarcEmail": d.dmarc_email, "dmarcEmailAddedToReseller": d.dmarc_email.is_some(),
            "forwardingEmail": null, "catchAllEmail": null,
            "nameServers": if dns_ready { json!(["pns61.cloudns.net", "pns62.cloudns.com"]) } else { json!([]) },
            "expectedNameServers": null, "dnsBoxInvalidNameServers": false, "dnsAuthenticationInProgress": !dns_ready,
            "dnsShieldEnabled": false, "isCloudflareConnected": false, "isWarmedUp": false, "tags": [],
            "assignedMailboxesCount": mbx.len().to_string(),
            "mailboxes": mbx,
        })
    }

    fn list_domains(&self, req: &SimRequest, filtered: bool, assignable: bool) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let body = filtered.then_some(&req.body).filter(|b| b.is_object());
        if let Some(b) = body
            && has_null(b, &["status", "contains", "tagIds", "sortBy"])
        {
            return Err(self.err(422, "Invalid value"));
        }
        let (page, limit) = self.pagination(req, body, 10)?;
        let contains = req
            .query_param("contains")
            .map(str::to_string)
            .or_else(|| {
                body.and_then(|b| b.get("contains"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default()
            .to_ascii_lowercase();
        let statuses = match body {
            Some(b) => str_list(b.get("status")).ok_or_else(|| self.err(422, "Invalid value"))?,
            None => Vec::new(),
        };
        let desc = body
            .and_then(|b| b.get("sortBy"))
            .and_then(Value::as_str)
            .is_some_and(|s| s == "DESC");
        let now = Instant::now();
        let cap = self.config.max_mailboxes_per_domain;
        // Mailboxes per domain, for the assignable filter only, in one pass over the
        // mailboxes (a pass per domain, of every workspace, made each listing take
        // domains × mailboxes steps: 18 million with a thousand Starter customers).
        let mut counts = BTreeMap::<String, usize>::new();
        if assignable {
            for m in &g.mailboxes {
                *counts.entry(m.domain_id.clone()).or_default() += 1;
            }
        }
        let mut rows: Vec<(usize, DomainStatus)> = Vec::new();
        for (i, d) in g.domains.iter_mut().enumerate() {
            if d.workspace != ws || !d.name.contains(&contains) {
                continue;
            }
            let status = d.resolve(now, true);
            if !statuses.is_empty() && !statuses.iter().any(|s| s == status.as_str()) {
                continue;
            }
            if assignable
                && (status != DomainStatus::Active
                    || counts.get(&d.id).copied().unwrap_or(0) >= cap)
            {
                continue;
            }
            rows.push((i, status));
        }
        if desc {
            rows.reverse();
        }
        let total = rows.len();
        let page_rows: Vec<Value> = slice(rows, page, limit)
            .into_iter()
            .map(|(i, s)| Self::domain_json(&g, &g.domains[i], &s))
            .collect();
        let mut data = page_meta(total, page, limit);
        data.insert("domains".into(), Value::Array(page_rows));
        Ok(Self::ok(
            "Domains fetched successfully",
            Value::Object(data),
        ))
    }

    fn connection_requests(&self, req: &SimRequest) -> Reply {
        let g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let (page, limit) = self.pagination(req, None, 10)?;
        let status = req.query_param("status").filter(|s| !s.is_empty());
        let contains = req
            .query_param("contains")
            .unwrap_or("")
            .to_ascii_lowercase();
        let rows: Vec<Value> = g
            .connection_requests
            .iter()
            .filter(|c| c.workspace == ws && c.domain.contains(&contains))
            .filter(|c| status.is_none_or(|s| s == c.status))
            .map(|c| {
                json!({"id": c.id, "domainName": c.domain, "status": c.status,
                            "nameServers": ["pns61.cloudns.net", "pns62.cloudns.com"],
                            "createdAt": iso(c.created_at), "updatedAt": iso(c.created_at)})
            })
            .collect();
        let total = rows.len();
        let mut data = page_meta(total, page, limit);
        data.insert("totalCount".into(), json!(total));
        data.insert("data".into(), Value::Array(slice(rows, page, limit)));
        Ok(Self::ok(
            "Connection requests fetched successfully",
            Value::Object(data),
        ))
    }

    fn dmarc(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let b = &req.body;
        if has_null(b, &["domainIds", "contains", "status", "tagIds", "email"]) {
            return Err(self.err(422, "Invalid value"));
        }
        let email = match b.get("email") {
            Some(Value::String(s)) if s.contains('@') && !s.trim().is_empty() => {
                s.trim().to_string()
            }
            _ => return Err(self.err(400, "A valid \"email\" is required")),
        };
        let ids = str_list(b.get("domainIds"))
            .ok_or_else(|| self.err(400, "\"domainIds\" must be an array of strings"))?;
        let statuses = str_list(b.get("status")).ok_or_else(|| self.err(422, "Invalid value"))?;
        let contains = b
            .get("contains")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let now = Instant::now();
        let targets: Vec<usize> = if ids.is_empty() {
            g.domains
                .iter()
                .enumerate()
                .filter(|(_, d)| d.workspace == ws && d.name.contains(&contains))
                .filter(|(_, d)| {
                    statuses.is_empty() || statuses.iter().any(|s| s == d.peek(now).as_str())
                })
                // With filters only, domains still being set up are skipped.
                .filter(|(_, d)| d.peek(now) == DomainStatus::Active)
                .map(|(i, _)| i)
                .collect()
        } else {
            let mut out = Vec::new();
            for id in &ids {
                let i = g
                    .domains
                    .iter()
                    .position(|d| d.id == *id && d.workspace == ws)
                    .ok_or_else(|| self.err(404, &format!("Domain not found: {id}")))?;
                if g.domains[i].peek(now) != DomainStatus::Active {
                    // Inferred: the DNS zone must exist first.
                    return Err(self.err(
                        400,
                        &format!(
                            "Domain {} is not active yet; add DMARC once it is ACTIVE",
                            g.domains[i].name
                        ),
                    ));
                }
                out.push(i);
            }
            out
        };
        if targets.is_empty() {
            return Err(self.err(400, "No domains matched"));
        }
        for i in targets {
            let n = g.next();
            let d = &mut g.domains[i];
            d.resolve(now, false);
            d.dmarc_email = Some(email.clone());
            d.dns.retain(|r| r.host != "_dmarc");
            d.dns.push(Rec {
                id: format!("{}-dmarc-{n}", d.id),
                kind: "TXT".into(),
                host: "_dmarc".into(),
                value: format!("v=DMARC1; p=none; rua=mailto:{email}"),
                priority: None,
            });
        }
        Ok(Self::ok("DMARC record added successfully", Value::Null))
    }

    fn create_mailboxes(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let key = req.api_key.clone().unwrap_or_default();
        let Value::Object(body) = &req.body else {
            return Err(self.err(400, "Request body must be an object keyed by domain id"));
        };
        if body.is_empty() {
            return Err(self.err(400, "Request body must be an object keyed by domain id"));
        }
        if self.config.require_billing_details && g.ws(&ws).is_some_and(|w| w.billing.is_none()) {
            return Err(self.err(400, "Please add billing details before assigning mailboxes"));
        }
        let now = Instant::now();
        // (domain index, [(first name, last name, username)])
        let mut plan: Vec<(usize, Vec<NewBox>)> = Vec::new();
        let mut new_total = 0usize;
        for (domain_id, items) in body {
            let di = g
                .domains
                .iter()
                .position(|d| d.id == *domain_id && d.workspace == ws)
                .ok_or_else(|| self.err(400, &format!("Invalid domain id: {domain_id}")))?;
            let Some(items) = items.as_array().filter(|a| !a.is_empty()) else {
                return Err(self.err(
                    400,
                    &format!("Mailboxes for domain {domain_id} must be a non-empty array"),
                ));
            };
            let d = &g.domains[di];
            if d.peek(now) != DomainStatus::Active {
                return Err(self.err(400, &format!("Domain {} is not active yet", d.name)));
            }
            let mut boxes = Vec::new();
            for item in items {
                let field = |k: &str| -> Result<String, SimResponse> {
                    match item.get(k) {
                        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                        _ => Err(self.err(400, &format!("\"{k}\" is required for every mailbox"))),
                    }
                };
                let (first, last, user, dname) = (
                    field("firstName")?,
                    field("lastName")?,
                    field("mailboxUsername")?,
                    field("domainName")?,
                );
                if normalize_domain_name(&dname) != d.name {
                    return Err(self.err(
                        400,
                        &format!("domainName {dname} does not match domain id {domain_id}"),
                    ));
                }
                if let Err(e) = validate_mailbox_username(&user) {
                    return Err(self.err(400, &format!("Invalid mailboxUsername \"{user}\": {e}")));
                }
                let taken = g
                    .mailboxes
                    .iter()
                    .any(|m| m.domain_id == d.id && m.username.eq_ignore_ascii_case(&user))
                    || boxes
                        .iter()
                        .any(|(_, _, u): &NewBox| u.eq_ignore_ascii_case(&user));
                if taken {
                    return Err(self.err(400, &format!("Mailbox {user}@{} already exists", d.name)));
                }
                boxes.push((first, last, user));
            }
            let existing = g.mailboxes_on(&d.id);
            let cap = self.config.max_mailboxes_per_domain;
            if existing + boxes.len() > cap {
                return Err(self.err(
                    400,
                    &format!(
                        "A domain can have at most {cap} mailboxes. {} already has {existing} and {} more were requested",
                        d.name,
                        boxes.len()
                    ),
                ));
            }
            new_total += boxes.len();
            plan.push((di, boxes));
        }
        let key_workspaces = g.workspaces_of(&key);
        let assigned = g
            .mailboxes
            .iter()
            .filter(|m| key_workspaces.contains(m.workspace.as_str()))
            .count();
        let slots = g.accounts.get(&key).map(|a| a.slots as usize).unwrap_or(0);
        if assigned + new_total > slots {
            return Err(self.err(
                400,
                &format!(
                    "Not enough mailboxes available: {} requested, {} free. Purchase more mailbox slots",
                    new_total,
                    slots.saturating_sub(assigned)
                ),
            ));
        }
        for (di, boxes) in plan {
            let (domain_id, domain) = (g.domains[di].id.clone(), g.domains[di].name.clone());
            for (first, last, user) in boxes {
                let id = g.uuid();
                let n = g.next();
                let email = format!("{user}@{domain}").to_ascii_lowercase();
                let target = if g.failing_mailboxes.contains(&email) {
                    MailboxStatus::Failed
                } else {
                    MailboxStatus::Active
                };
                g.mailboxes.push(Mbx {
                    id,
                    domain_id: domain_id.clone(),
                    domain: domain.clone(),
                    workspace: ws.clone(),
                    username: user,
                    first_name: first,
                    last_name: last,
                    password: format!("Sim-{:x}-Pw!", mix(n)),
                    totp: totp_secret(n),
                    status: MailboxStatus::InProgress,
                    target,
                    created: Instant::now(),
                    created_at: SystemTime::now(),
                    polls: 0,
                    activation: self.config.mailbox_activation,
                    scheduled_removal: false,
                    exports: Vec::new(),
                });
                *g.mailboxes_created.entry(domain.clone()).or_default() += 1;
            }
        }
        Ok(Self::envelope(
            202,
            "Mailboxes are being assigned",
            Value::Null,
        ))
    }

    fn mailbox_json(m: &Mbx, status: &MailboxStatus) -> Value {
        json!({
            "id": m.id, "username": m.username, "email": m.email(), "firstName": m.first_name,
            "lastName": m.last_name, "password": m.password, "appPassword": null, "secret": m.totp,
            "recoveryEmail": format!("recovery+{}@sim.zapmail.test", m.username), "status": status,
            "profilePicture": null, "domain": m.domain, "domainId": m.domain_id,
            "assignedOn": iso(m.created_at), "expireOn": iso(m.created_at + Duration::from_secs(30 * 86_400)),
            "createdAt": iso(m.created_at), "isWarmedUp": false, "serviceProvider": "GOOGLE",
            "scheduledForRemoval": m.scheduled_removal,
        })
    }

    fn list_mailboxes(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let key = req.api_key.clone().unwrap_or_default();
        let (page, limit) = self.pagination(req, None, 10)?;
        let contains = req
            .query_param("contains")
            .unwrap_or("")
            .to_ascii_lowercase();
        let now = Instant::now();
        let domain_rows: Vec<usize> = g
            .domains
            .iter()
            .enumerate()
            .filter(|(_, d)| d.workspace == ws)
            .filter(|(_, d)| g.mailboxes.iter().any(|m| m.domain_id == d.id))
            .filter(|(_, d)| {
                d.name.contains(&contains)
                    || g.mailboxes
                        .iter()
                        .any(|m| m.domain_id == d.id && m.email().contains(&contains))
            })
            .map(|(i, _)| i)
            .collect();
        let total = domain_rows.len();
        let page_rows = slice(domain_rows, page, limit);
        let mut rows = Vec::new();
        for di in page_rows {
            let did = g.domains[di].id.clone();
            let dstatus = g.domains[di].resolve(now, false);
            let mut boxes = Vec::new();
            for m in g.mailboxes.iter_mut().filter(|m| m.domain_id == did) {
                let s = m.resolve(now, true);
                boxes.push(Self::mailbox_json(m, &s));
            }
            let d = &g.domains[di];
            rows.push(json!({
                "id": d.id, "domain": d.name, "status": dstatus,
                "adminDetails": {"domainId": d.id, "email": format!("admin@{}", d.name),
                                 "newPassword": format!("Adm-{:x}!", mix(d.id.len() as u64 + 7)),
                                 "secret": totp_secret(d.name.len() as u64),
                                 "recoveryEmail": "recovery-admin@sim.zapmail.test"},
                "mailboxes": boxes,
            }));
        }
        let key_workspaces = g.workspaces_of(&key);
        let mine: Vec<&Mbx> = g
            .mailboxes
            .iter()
            .filter(|m| key_workspaces.contains(m.workspace.as_str()))
            .collect();
        let slots = g.accounts.get(&key).map(|a| a.slots as usize).unwrap_or(0);
        let mut data = page_meta(total, page, limit);
        data.insert("purchasedMailboxes".into(), json!(slots));
        data.insert("totalAssignedMailboxes".into(), json!(mine.len()));
        data.insert("totalAssignedPreWarmedUpMailboxes".into(), json!(0));
        data.insert(
            "totalActiveMailboxes".into(),
            json!(
                mine.iter()
                    .filter(|m| m.status == MailboxStatus::Active)
                    .count()
            ),
        );
        data.insert("totalActivePreWarmedUpMailboxes".into(), json!(0));
        data.insert(
            "availableMailboxes".into(),
            json!(slots.saturating_sub(mine.len())),
        );
        data.insert(
            "scheduledMailboxes".into(),
            json!(mine.iter().filter(|m| m.scheduled_removal).count()),
        );
        data.insert("domains".into(), Value::Array(rows));
        Ok(Self::ok(
            "Mailboxes fetched successfully",
            Value::Object(data),
        ))
    }

    fn get_mailbox(&self, req: &SimRequest) -> Reply {
        let Some(id) = req.query_param("id").filter(|s| !s.is_empty()) else {
            // The list form without an id returned 500 "for months" (§6.9).
            return Err(SimResponse::json(
                500,
                self.error_body(500, "Internal server error"),
            ));
        };
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let now = Instant::now();
        match g
            .mailboxes
            .iter_mut()
            .find(|m| m.id == id && m.workspace == ws)
        {
            Some(m) => {
                let s = m.resolve(now, true);
                Ok(Self::ok(
                    "Mailbox fetched successfully",
                    json!({"mailbox": Self::mailbox_json(m, &s)}),
                ))
            }
            // Reported inside HTTP 200 (§6.9, GO-MV tests).
            None => Err(SimResponse::ok(self.error_body(404, "Mailbox not found"))),
        }
    }

    fn update_mailboxes(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let items = match req.body.get("mailboxData") {
            Some(Value::Array(a)) if !a.is_empty() => a.clone(),
            _ => return Err(self.err(400, "\"mailboxData\" must be a non-empty array")),
        };
        let mut results = Vec::new();
        for item in &items {
            let field = |k: &str| -> Result<String, SimResponse> {
                match item.get(k) {
                    Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    _ => Err(self.err(400, &format!("\"{k}\" is required"))),
                }
            };
            let (id, first, last, user) = (
                field("mailboxId")?,
                field("firstName")?,
                field("lastName")?,
                field("username")?,
            );
            if let Err(e) = validate_mailbox_username(&user) {
                return Err(self.err(400, &format!("Invalid username \"{user}\": {e}")));
            }
            match g.mailboxes.iter_mut().find(|m| m.id == id && m.workspace == ws) {
                None => results.push(json!({"mailboxId": id, "profileUrl": null, "failureDetails": ["Mailbox not found"]})),
                Some(m) => {
                    m.first_name = first;
                    m.last_name = last;
                    m.username = user;
                    let pic = item.get("profilePicture").and_then(Value::as_str).filter(|s| !s.is_empty());
                    results.push(json!({"mailboxId": id, "profileUrl": pic, "failureDetails": []}));
                }
            }
        }
        Ok(Self::ok("Mailboxes update queued", Value::Array(results)))
    }

    fn scheduled_removal(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let remove = match req.body.get("remove") {
            Some(Value::Bool(b)) => *b,
            _ => return Err(self.err(400, "\"remove\" must be a boolean")),
        };
        let ids = str_list(req.body.get("domainIds"))
            .ok_or_else(|| self.err(400, "\"domainIds\" must be an array of strings"))?;
        if ids.is_empty() {
            return Err(self.err(400, "\"domainIds\" must not be empty"));
        }
        for id in &ids {
            if !g.domains.iter().any(|d| d.id == *id && d.workspace == ws) {
                return Err(self.err(404, &format!("Domain not found: {id}")));
            }
        }
        let status = req
            .body
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_string);
        let contains = req
            .body
            .get("contains")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let now = Instant::now();
        let mut changed = 0;
        for m in g.mailboxes.iter_mut() {
            if ids.contains(&m.domain_id)
                && m.email().contains(&contains)
                && status
                    .as_deref()
                    .is_none_or(|s| s.is_empty() || s == m.peek(now).as_str())
            {
                m.scheduled_removal = remove;
                changed += 1;
            }
        }
        Ok(Self::ok(
            &format!("{changed} mailboxes updated"),
            Value::Null,
        ))
    }

    fn add_account_3p(&self, req: &SimRequest, update: bool) -> Reply {
        let (ws, email, password, app) = {
            let g = self.lock();
            let ws = self.workspace_of(&g, req)?;
            let field = |k: &str| -> Result<String, SimResponse> {
                match req.body.get(k) {
                    Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    _ => Err(self.err(400, &format!("\"{k}\" is required"))),
                }
            };
            let (email, password, app) = (field("email")?, field("password")?, field("app")?);
            if !ExportApp::KNOWN.contains(&app.as_str()) || app == "MANUAL" {
                return Err(self.err(400, &format!("Invalid app: {app}")));
            }
            (ws, email, password, app)
        };
        // Credentials are checked live (§6.10): invalid → 400, nothing stored.
        let valid = match self.importer(&app) {
            Some(imp) => imp.verify_login(&email, &password),
            None => self.config.accept_unlinked_export_apps,
        };
        if !valid {
            return Err(self.err(
                400,
                &format!("Invalid credentials for {app}. Please check the email and password"),
            ));
        }
        let mut g = self.lock();
        let account_id = req
            .body
            .get("accountId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let existing = g.tp_accounts.iter().position(|a| {
            a.workspace == ws
                && a.app == app
                && match &account_id {
                    Some(id) => a.id == *id,
                    None => a.email.eq_ignore_ascii_case(&email),
                }
        });
        match (existing, update) {
            (Some(i), _) => {
                // Re-registering the same login updates it rather than duplicating it
                // (unknown live; chosen).
                let a = &mut g.tp_accounts[i];
                a.email = email;
                a.password = password;
                Ok(Self::ok("Account updated successfully", Value::Null))
            }
            (None, true) => Err(self.err(404, "Account not found")),
            (None, false) => {
                let id = g.uuid();
                g.tp_accounts.push(TpAccount {
                    id,
                    app,
                    email,
                    password,
                    workspace: ws,
                    created_at: SystemTime::now(),
                });
                // The account id is not returned (undocumented, §6.10): list to find it.
                Ok(Self::ok("Account added successfully", Value::Null))
            }
        }
    }

    fn list_accounts_3p(&self, req: &SimRequest) -> Reply {
        let g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let app = match req.query_param("app").filter(|s| !s.is_empty()) {
            None => return Err(self.err(400, "\"app\" is required")),
            Some(a) if !ExportApp::KNOWN.contains(&a) => {
                return Err(self.err(400, &format!("Invalid app: {a}")));
            }
            Some(a) => a,
        };
        let rows: Vec<Value> = g
            .tp_accounts
            .iter()
            .filter(|a| a.workspace == ws && a.app == app)
            .map(|a| {
                json!({"id": a.id, "appName": a.app, "email": a.email, "error": null,
                            "createdAt": iso(a.created_at)})
            })
            .collect();
        Ok(Self::ok(
            "Accounts fetched successfully",
            json!({"accounts": rows}),
        ))
    }

    fn export(&self, req: &SimRequest) -> Reply {
        type Handoff = (
            Arc<dyn MailboxImporter>,
            String,
            String,
            Vec<ExportedMailbox>,
        );
        let (export_id, handoffs, unlinked_ok) = {
            let mut g = self.lock();
            let ws = self.workspace_of(&g, req)?;
            let b = &req.body;
            let apps = match str_list(b.get("apps")) {
                Some(a) if !a.is_empty() && b.get("apps").is_some_and(Value::is_array) => a,
                _ => return Err(self.err(400, "\"apps\" must be a non-empty array")),
            };
            for app in &apps {
                if !ExportApp::KNOWN.contains(&app.as_str()) {
                    return Err(self.err(400, &format!("Invalid app: {app}")));
                }
            }
            if has_null(b, &["ids", "excludeIds", "tagIds", "contains", "status"]) {
                return Err(self.err(422, "Invalid value"));
            }
            let ids =
                str_list(b.get("ids")).ok_or_else(|| self.err(400, "\"ids\" must be an array"))?;
            let exclude = str_list(b.get("excludeIds"))
                .ok_or_else(|| self.err(400, "\"excludeIds\" must be an array"))?;
            let contains = b
                .get("contains")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            let status = b
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let pinned = b
                .get("thirdPartyAccountId")
                .and_then(Value::as_str)
                .map(str::to_string);
            // Which account per app.
            let mut accounts: Vec<(String, Option<(String, String)>)> = Vec::new();
            for app in &apps {
                if app == "MANUAL" {
                    accounts.push((app.clone(), None));
                    continue;
                }
                let mine: Vec<&TpAccount> = g
                    .tp_accounts
                    .iter()
                    .filter(|a| a.workspace == ws && a.app == *app)
                    .collect();
                let chosen =
                    match (&pinned, mine.len()) {
                        (_, 0) => {
                            return Err(self.err(
                                400,
                                &format!("No {app} account found. Add a third-party account first"),
                            ));
                        }
                        (Some(id), _) => mine
                            .iter()
                            .find(|a| a.id == *id)
                            .ok_or_else(|| self.err(404, "Third-party account not found"))?,
                        (None, 1) => mine[0],
                        (None, _) => {
                            return Err(self.err(400, &format!(
                            "Multiple {app} accounts found; \"thirdPartyAccountId\" is required"
                        )));
                        }
                    };
                accounts.push((
                    app.clone(),
                    Some((chosen.email.clone(), chosen.password.clone())),
                ));
            }
            let now = Instant::now();
            // Only ACTIVE mailboxes export (§6.11).
            let selected: Vec<usize> = g
                .mailboxes
                .iter()
                .enumerate()
                .filter(|(_, m)| m.workspace == ws)
                .filter(|(_, m)| ids.is_empty() || ids.contains(&m.id))
                .filter(|(_, m)| !exclude.contains(&m.id))
                .filter(|(_, m)| m.email().contains(&contains))
                .filter(|(_, m)| status.is_empty() || m.peek(now).as_str() == status)
                .filter(|(_, m)| m.peek(now) == MailboxStatus::Active)
                .map(|(i, _)| i)
                .collect();
            if selected.is_empty() {
                return Err(self.err(400, "No active mailboxes found to export"));
            }
            if let Some(cap) = self.config.export_cap_per_week {
                for &i in &selected {
                    let m = &g.mailboxes[i];
                    for app in &apps {
                        let recent = m
                            .exports
                            .iter()
                            .filter(|(a, t)| a == app && now.duration_since(*t) < WEEK)
                            .count();
                        if recent >= cap as usize {
                            return Err(self.err(400, &format!(
                                "Mailbox {} reached the export limit for {app} ({cap} per 7 days)",
                                m.email()
                            )));
                        }
                    }
                }
            }
            for &i in &selected {
                g.mailboxes[i].resolve(now, false);
            }
            let exported: Vec<ExportedMailbox> = selected
                .iter()
                .map(|&i| {
                    let m = &g.mailboxes[i];
                    ExportedMailbox {
                        email: m.email(),
                        first_name: m.first_name.clone(),
                        last_name: m.last_name.clone(),
                        provider: "GOOGLE".into(),
                        password: m.password.clone(),
                    }
                })
                .collect();
            g.next_export += 1;
            let export_id = g.next_export;
            let mut handoffs: Vec<Handoff> = Vec::new();
            let mut unlinked_ok = true;
            for (app, creds) in &accounts {
                match (self.importer(app), creds) {
                    (Some(imp), Some((email, pw))) => {
                        handoffs.push((imp, email.clone(), pw.clone(), exported.clone()));
                    }
                    _ => unlinked_ok &= self.config.accept_unlinked_export_apps || app == "MANUAL",
                }
            }
            let mailbox_ids: Vec<String> = selected
                .iter()
                .map(|&i| g.mailboxes[i].id.clone())
                .collect();
            g.exports.push(Exp {
                id: export_id,
                workspace: ws,
                apps: apps.clone(),
                mailbox_ids,
                emails: exported.iter().map(|m| m.email.clone()).collect(),
                created: now,
                polls: 0,
                completion: self.config.export_completion,
                outcome: None,
            });
            (export_id, handoffs, unlinked_ok)
        };
        // Hand the mailboxes over outside the lock (the importer is another simulator).
        let mut outcome: Result<usize, String> = if unlinked_ok {
            Ok(0)
        } else {
            Err("Export to this app is not available".into())
        };
        for (imp, email, pw, boxes) in handoffs {
            let r = imp.import_mailboxes(&email, &pw, boxes, self.config.export_import_delay);
            outcome = match (outcome, r) {
                (Ok(a), Ok(b)) => Ok(a + b),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
        }
        let mut g = self.lock();
        let now = Instant::now();
        let (apps, ids) = match g.exports.iter_mut().find(|e| e.id == export_id) {
            Some(e) => {
                e.outcome = Some(outcome.clone());
                (e.apps.clone(), e.mailbox_ids.clone())
            }
            None => (Vec::new(), Vec::new()),
        };
        if outcome.is_ok() {
            for m in g.mailboxes.iter_mut().filter(|m| ids.contains(&m.id)) {
                for app in &apps {
                    m.exports.push((app.clone(), now));
                }
            }
        }
        Ok(Self::ok(
            "Export started successfully",
            json!({"exportId": export_id}),
        ))
    }

    fn export_status(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        if self.config.export_status_requires_workspace_key
            && req
                .header("x-workspace-key")
                .is_none_or(|v| v.trim().is_empty())
        {
            return Err(self.err(400, "x-workspace-key header is required"));
        }
        let ws = self.workspace_of(&g, req)?;
        let id = req
            .query_param("exportId")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| self.err(400, "\"exportId\" must be an integer"))?;
        let now = Instant::now();
        let e = g
            .exports
            .iter_mut()
            .find(|e| e.id == id && e.workspace == ws)
            .ok_or_else(|| self.err(404, "Export not found"))?;
        let (status, reason) = e.resolve(now, true);
        Ok(Self::ok(
            "Export status fetched successfully",
            json!({"export_id": id, "status": status, "failure_reason": reason}),
        ))
    }

    fn get_dns(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let id = req
            .query_param("id")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.err(400, "\"id\" is required"))?;
        let now = Instant::now();
        let d = g
            .domains
            .iter_mut()
            .find(|d| d.id == id && d.workspace == ws)
            .ok_or_else(|| self.err(404, "Domain not found"))?;
        d.resolve(now, false);
        let rows: Vec<Value> = d
            .dns
            .iter()
            .map(|r| json!({"id": r.id, "assignedDomainId": d.id, "recordType": r.kind, "host": r.host,
                            "value": r.value, "priority": r.priority, "cdfRecordId": format!("cdf-{}", r.id)}))
            .collect();
        Ok(Self::ok(
            "DNS records fetched successfully",
            json!({"domainDnsRecords": rows}),
        ))
    }

    fn add_dns(&self, req: &SimRequest) -> Reply {
        let mut g = self.lock();
        let ws = self.workspace_of(&g, req)?;
        let id = req
            .body
            .get("assignedDomainId")
            .and_then(Value::as_str)
            .ok_or_else(|| self.err(400, "\"assignedDomainId\" is required"))?
            .to_string();
        let records = match req.body.get("records") {
            Some(Value::Array(a)) if !a.is_empty() => a.clone(),
            _ => return Err(self.err(400, "\"records\" must be a non-empty array")),
        };
        let mut parsed = Vec::new();
        for r in &records {
            let get = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let (Some(host), Some(value), Some(kind)) =
                (get("host"), get("value"), get("recordType"))
            else {
                return Err(self.err(
                    400,
                    "Every record needs \"host\", \"value\" and \"recordType\"",
                ));
            };
            if !["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"].contains(&kind) {
                return Err(self.err(400, &format!("Invalid recordType: {kind}")));
            }
            parsed.push((host.to_string(), value.to_string(), kind.to_string()));
        }
        let n = g.next();
        let d = g
            .domains
            .iter_mut()
            .find(|d| d.id == id && d.workspace == ws)
            .ok_or_else(|| self.err(404, "Domain not found"))?;
        for (i, (host, value, kind)) in parsed.into_iter().enumerate() {
            d.dns.push(Rec {
                id: format!("{}-rec-{n}-{i}", d.id),
                kind,
                host,
                value,
                priority: None,
            });
        }
        Ok(Self::ok("DNS records added successfully", Value::Null))
    }
}
