//! Mailboxes (§6.9): create (keyed by domain id), update, list (paginated by domain), get
//! one, scheduled removal. List and get responses carry live credentials; they are held
//! as [`SecretString`] and never printed.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use vendor_http::{Request, Result};

use crate::client::resource;
use crate::types::{
    DomainId, DomainStatus, MAX_PAGES, MailboxId, MailboxStatus, Pagination, ServiceProvider,
    de_bool, de_count, de_null_default,
};
use crate::validate::{normalize_domain_name, validate_mailbox_username};
use crate::{Ack, Error, VENDOR};

resource!(
    /// Mailbox operations.
    Mailboxes
);

/// A credential field: a non-empty string becomes a secret; `null`, `""` and anything
/// else are `None`.
pub(crate) fn de_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.is_empty() => Some(SecretString::from(s)),
        _ => None,
    })
}

/// One mailbox to create (an item of the create body, §6.9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewMailbox {
    /// Sender first name.
    pub first_name: String,
    /// Sender last name.
    pub last_name: String,
    /// The part before `@` (see [`validate_mailbox_username`]).
    pub mailbox_username: String,
    /// The domain's name (must match the domain id it is listed under).
    pub domain_name: String,
}

/// Body of `POST /v2/mailboxes`: an object **keyed by domain id**, each value a non-empty
/// list of mailboxes (§6.9). Create every mailbox of a provision in one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CreateMailboxesRequest {
    /// Mailboxes per domain id.
    pub by_domain: BTreeMap<DomainId, Vec<NewMailbox>>,
}

impl CreateMailboxesRequest {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a mailbox `username@domain_name` on domain `domain_id`.
    pub fn add(
        mut self,
        domain_id: impl Into<DomainId>,
        domain_name: &str,
        username: &str,
        first_name: &str,
        last_name: &str,
    ) -> Self {
        self.by_domain
            .entry(domain_id.into())
            .or_default()
            .push(NewMailbox {
                first_name: first_name.to_string(),
                last_name: last_name.to_string(),
                mailbox_username: username.to_string(),
                domain_name: normalize_domain_name(domain_name),
            });
        self
    }

    /// Mailboxes in the request.
    pub fn len(&self) -> usize {
        self.by_domain.values().map(Vec::len).sum()
    }

    /// Whether the request holds no mailbox.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Check the documented rules locally: at least one domain, non-empty lists, required
    /// fields, valid usernames, no duplicate address, and one domain name per domain id.
    /// The per-domain cap (5 in total, raisable per account) is left to Zapmail.
    pub fn validate(&self) -> Result<()> {
        if self.by_domain.is_empty() {
            return Err(Error::invalid_input(VENDOR, "no mailboxes to create"));
        }
        for (id, items) in &self.by_domain {
            if id.as_str().trim().is_empty() {
                return Err(Error::invalid_input(VENDOR, "empty domain id"));
            }
            if items.is_empty() {
                return Err(Error::invalid_input(
                    VENDOR,
                    format!("domain {id}: the list of mailboxes is empty"),
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for m in items {
                for (field, v) in [
                    ("firstName", &m.first_name),
                    ("lastName", &m.last_name),
                    ("domainName", &m.domain_name),
                ] {
                    if v.trim().is_empty() {
                        return Err(Error::invalid_input(
                            VENDOR,
                            format!("domain {id}: {field} of {:?} is empty", m.mailbox_username),
                        ));
                    }
                }
                validate_mailbox_username(&m.mailbox_username).map_err(|e| {
                    Error::invalid_input(
                        VENDOR,
                        format!("{}@{}: {e}", m.mailbox_username, m.domain_name),
                    )
                })?;
                if normalize_domain_name(&m.domain_name)
                    != normalize_domain_name(&items[0].domain_name)
                {
                    return Err(Error::invalid_input(
                        VENDOR,
                        format!(
                            "domain {id}: mailboxes name two domains ({} and {})",
                            items[0].domain_name, m.domain_name
                        ),
                    ));
                }
                if !seen.insert(m.mailbox_username.to_ascii_lowercase()) {
                    return Err(Error::invalid_input(
                        VENDOR,
                        format!("{}@{} appears twice", m.mailbox_username, m.domain_name),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One mailbox change (an item of `mailboxData`, §6.9). Changing `username` changes the
/// address (warm-up history is lost); pass the current username to rename only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxUpdate {
    /// The mailbox.
    pub mailbox_id: MailboxId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Username (current one to keep the address).
    pub username: String,
    /// Profile picture URL (empty keeps the current one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_picture: Option<String>,
    /// Remove the profile picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove_profile_picture: Option<bool>,
}

/// Body of `PUT /v2/mailboxes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMailboxesRequest {
    /// Changes (non-empty).
    pub mailbox_data: Vec<MailboxUpdate>,
}

/// Per-mailbox result of an update (processed asynchronously).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxUpdateResult {
    /// The mailbox.
    #[serde(default)]
    pub mailbox_id: Option<MailboxId>,
    /// Profile picture URL.
    #[serde(default)]
    pub profile_url: Option<String>,
    /// Why it failed (empty on success; shape undocumented).
    #[serde(default, deserialize_with = "de_null_default")]
    pub failure_details: Vec<Value>,
}

/// A mailbox with its credentials (§6.9). `password`, `app_password` and `secret` (TOTP)
/// are live credentials: they are [`SecretString`]s, redacted in `Debug`; call
/// `expose_secret()` only to hand them to where they are needed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mailbox {
    /// Id.
    pub id: MailboxId,
    /// Username.
    #[serde(default)]
    pub username: String,
    /// Full address.
    #[serde(default)]
    pub email: String,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Login password (secret).
    #[serde(default, deserialize_with = "de_secret")]
    pub password: Option<SecretString>,
    /// App password (secret).
    #[serde(default, deserialize_with = "de_secret")]
    pub app_password: Option<SecretString>,
    /// TOTP secret (secret).
    #[serde(default, deserialize_with = "de_secret")]
    pub secret: Option<SecretString>,
    /// Recovery address.
    #[serde(default)]
    pub recovery_email: Option<String>,
    /// Status (`IN_PROGRESS → ACTIVE | FAILED`).
    #[serde(default)]
    pub status: Option<MailboxStatus>,
    /// Profile picture URL.
    #[serde(default)]
    pub profile_picture: Option<String>,
    /// Domain name.
    #[serde(default)]
    pub domain: Option<String>,
    /// Domain id.
    #[serde(default)]
    pub domain_id: Option<DomainId>,
    /// Provider.
    #[serde(default)]
    pub service_provider: Option<ServiceProvider>,
    /// Assigned.
    #[serde(default)]
    pub assigned_on: Option<String>,
    /// Slot renewal date.
    #[serde(default)]
    pub expire_on: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Pre-warmed mailbox.
    #[serde(default, deserialize_with = "de_bool")]
    pub is_warmed_up: Option<bool>,
}

impl Mailbox {
    /// Whether the mailbox is `ACTIVE`.
    pub fn is_active(&self) -> bool {
        self.status == Some(MailboxStatus::Active)
    }
}

/// The domain's admin account in a mailbox-list row (secrets redacted in `Debug`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminDetails {
    /// Domain id.
    #[serde(default)]
    pub domain_id: Option<DomainId>,
    /// Admin address.
    #[serde(default)]
    pub email: Option<String>,
    /// Admin password (secret).
    #[serde(default, deserialize_with = "de_secret")]
    pub new_password: Option<SecretString>,
    /// Admin TOTP secret (secret).
    #[serde(default, deserialize_with = "de_secret")]
    pub secret: Option<SecretString>,
    /// Recovery address.
    #[serde(default)]
    pub recovery_email: Option<String>,
}

/// A row of the mailbox list: one domain with its mailboxes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainMailboxes {
    /// Domain id.
    pub id: DomainId,
    /// Domain name.
    #[serde(default)]
    pub domain: String,
    /// Domain status.
    #[serde(default)]
    pub status: Option<DomainStatus>,
    /// Admin account.
    #[serde(default)]
    pub admin_details: Option<AdminDetails>,
    /// Mailboxes.
    #[serde(default, deserialize_with = "de_null_default")]
    pub mailboxes: Vec<Mailbox>,
}

/// One page of `GET /v2/mailboxes/list` (paginated by **domain**, §4).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxPage {
    /// Domains with their mailboxes.
    #[serde(default, deserialize_with = "de_null_default")]
    pub domains: Vec<DomainMailboxes>,
    /// Pagination counters (counting domains).
    #[serde(flatten)]
    pub pagination: Pagination,
    /// Slots purchased.
    #[serde(default, deserialize_with = "de_count")]
    pub purchased_mailboxes: Option<u64>,
    /// Mailboxes assigned.
    #[serde(default, deserialize_with = "de_count")]
    pub total_assigned_mailboxes: Option<u64>,
    /// Mailboxes active.
    #[serde(default, deserialize_with = "de_count")]
    pub total_active_mailboxes: Option<u64>,
    /// Free slots.
    #[serde(default, deserialize_with = "de_count")]
    pub available_mailboxes: Option<u64>,
    /// Mailboxes scheduled for removal.
    #[serde(default, deserialize_with = "de_count")]
    pub scheduled_mailboxes: Option<u64>,
}

/// Every domain row of the mailbox list, with lookups.
#[derive(Debug, Clone, Default)]
pub struct MailboxListing {
    /// Domains with their mailboxes.
    pub domains: Vec<DomainMailboxes>,
}

impl MailboxListing {
    /// Every mailbox.
    pub fn mailboxes(&self) -> impl Iterator<Item = &Mailbox> {
        self.domains.iter().flat_map(|d| d.mailboxes.iter())
    }

    /// The mailbox with this address (case-insensitive).
    pub fn find_by_email(&self, email: &str) -> Option<&Mailbox> {
        let wanted = email.trim().to_ascii_lowercase();
        self.mailboxes()
            .find(|m| m.email.to_ascii_lowercase() == wanted)
    }

    /// The mailbox `username@domain` (case-insensitive).
    pub fn find(&self, username: &str, domain: &str) -> Option<&Mailbox> {
        self.find_by_email(&format!("{username}@{}", normalize_domain_name(domain)))
    }

    /// The mailboxes of domain `domain` (by name, case-insensitive).
    pub fn for_domain(&self, domain: &str) -> Vec<&Mailbox> {
        let wanted = normalize_domain_name(domain);
        self.domains
            .iter()
            .filter(|d| normalize_domain_name(&d.domain) == wanted)
            .flat_map(|d| d.mailboxes.iter())
            .collect()
    }
}

/// Query of `GET /v2/mailboxes/list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxListQuery {
    /// 1-based page (of domains).
    pub page: Option<u32>,
    /// Domains per page.
    pub limit: Option<u32>,
    /// Substring filter.
    pub contains: Option<String>,
}

/// Body of `PUT /v2/mailboxes/scheduled-removal`: schedule (or cancel) removal of the
/// domains' mailboxes at the next monthly billing date (§6.9).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledRemovalRequest {
    /// `true` to schedule, `false` to cancel.
    pub remove: bool,
    /// Domains whose mailboxes are affected.
    pub domain_ids: Vec<DomainId>,
    /// Mailbox status filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<MailboxStatus>,
    /// Substring filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
}

#[derive(Deserialize)]
struct GetMailboxData {
    mailbox: Mailbox,
}

impl Mailboxes<'_> {
    /// Create mailboxes (`POST /v2/mailboxes`, 202: queued). The request is validated
    /// locally first ([`CreateMailboxesRequest::validate`]). **Never retried** once it may
    /// have reached Zapmail; after an unknown outcome, list mailboxes before trying again.
    /// No ids come back: list and find by address
    /// ([`list_all`](Self::list_all) + [`MailboxListing::find_by_email`]).
    pub async fn create(&self, req: &CreateMailboxesRequest) -> Result<Ack> {
        req.validate()?;
        self.scope
            .ack(Request::post("/v2/mailboxes").json(req).non_idempotent())
            .await
    }

    /// Update names, usernames or pictures (`PUT /v2/mailboxes`).
    pub async fn update(&self, req: &UpdateMailboxesRequest) -> Result<Vec<MailboxUpdateResult>> {
        if req.mailbox_data.is_empty() {
            return Err(Error::invalid_input(VENDOR, "mailboxData is empty"));
        }
        for m in &req.mailbox_data {
            validate_mailbox_username(&m.username)?;
        }
        let ack = self
            .scope
            .ack(Request::put("/v2/mailboxes").json(req).idempotent())
            .await?;
        match ack.data {
            Value::Array(rows) => Ok(rows
                .into_iter()
                .filter_map(|r| serde_json::from_value(r).ok())
                .collect()),
            _ => Ok(Vec::new()),
        }
    }

    /// One page of the mailbox list (`GET /v2/mailboxes/list`), paginated by domain.
    pub async fn list(&self, query: &MailboxListQuery) -> Result<MailboxPage> {
        let req = Request::get("/v2/mailboxes/list")
            .query_opt("page", query.page.map(|p| p.max(1)))
            .query_opt("limit", query.limit.map(|l| l.max(1)))
            .query_opt("contains", query.contains.as_deref())
            .idempotent();
        self.scope.data(req).await
    }

    /// Every domain row of the mailbox list, following pages until an empty page or
    /// `page >= totalPages`.
    pub async fn list_all(&self, contains: Option<&str>) -> Result<MailboxListing> {
        let mut out = MailboxListing::default();
        let mut page = 1;
        loop {
            let q = MailboxListQuery {
                page: Some(page),
                limit: Some(crate::domains::LIST_ALL_PAGE_SIZE),
                contains: contains.map(str::to_string),
            };
            let p = self.list(&q).await?;
            let n = p.domains.len();
            out.domains.extend(p.domains);
            if p.pagination.is_last_page(page, n) || page >= MAX_PAGES {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// One mailbox (`GET /v2/mailboxes?id=`). An unknown id is an error (Zapmail reports
    /// its 404 inside HTTP 200, which the client turns into [`Error::Api`]).
    pub async fn get(&self, id: &MailboxId) -> Result<Mailbox> {
        let req = Request::get("/v2/mailboxes").query("id", id).idempotent();
        let data: GetMailboxData = self.scope.data(req).await?;
        Ok(data.mailbox)
    }

    /// Schedule (or cancel) removal at the next renewal
    /// (`PUT /v2/mailboxes/scheduled-removal`).
    pub async fn schedule_removal(&self, req: &ScheduledRemovalRequest) -> Result<Ack> {
        if req.domain_ids.is_empty() {
            return Err(Error::invalid_input(
                VENDOR,
                "scheduled removal needs at least one domain id",
            ));
        }
        self.scope
            .ack(
                Request::put("/v2/mailboxes/scheduled-removal")
                    .json(req)
                    .idempotent(),
            )
            .await
    }
}
