//! Domains: availability (§6.4), purchase (§6.5), connection requests (§6.6), lists
//! (§6.7) and DMARC (§6.8).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vendor_http::{Request, Result};

use crate::client::resource;
use crate::types::{
    ConnectionRequestId, DomainId, DomainStatus, MAX_PAGES, MailboxId, Pagination, ServiceProvider,
    SortOrder, TagId, WorkspaceId, de_bool, de_count, de_null_default, de_price, open_enum,
};
use crate::validate::{SupportedTlds, normalize_domain_name};
use crate::{AVAILABILITY_BUCKET, Ack, Error, MAX_BULK_AVAILABILITY, MailboxStatus, VENDOR};

resource!(
    /// Domain operations.
    Domains
);

// ---------------------------------------------------------------------------------------
// Availability

open_enum!(
    /// Result of an availability check (§6.4): only these two values are documented.
    AvailabilityStatus {
        /// Can be bought.
        Available => "AVAILABLE",
        /// Taken, banned, already in Zapmail, or on an existing Google/Microsoft workspace.
        Unavailable => "UNAVAILABLE",
    }
);

/// One name's availability and price (§6.4). Also used for the single-name search's
/// suggestions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainAvailability {
    /// The name checked.
    #[serde(default)]
    pub domain_name: String,
    /// `AVAILABLE` or `UNAVAILABLE` (absent on some suggestion rows).
    #[serde(default)]
    pub status: Option<AvailabilityStatus>,
    /// Whether the registry prices it as premium.
    #[serde(default, deserialize_with = "de_bool")]
    pub is_premium_domain: Option<bool>,
    /// First-period price in USD, exact. `"0.00"` for taken names; `None` when Zapmail
    /// sent `"NaN"` (unsupported TLDs) or anything unparsable.
    #[serde(default, deserialize_with = "de_price")]
    pub domain_price: Option<Decimal>,
    /// Renewal price in USD (same parsing as `domain_price`).
    #[serde(default, deserialize_with = "de_price")]
    pub renew_price: Option<Decimal>,
    /// Undiscounted price, on promotions only.
    #[serde(default, deserialize_with = "de_price")]
    pub original_price: Option<Decimal>,
    /// Domain id (renewal price lookups only).
    #[serde(default)]
    pub domain_id: Option<DomainId>,
}

impl DomainAvailability {
    /// Whether the name can be bought: `AVAILABLE` with a known, positive price. A row
    /// without a status (a suggestion) counts as available when it has a positive price.
    pub fn is_available(&self) -> bool {
        let priced = self.domain_price.is_some_and(|p| p > Decimal::ZERO);
        match &self.status {
            Some(AvailabilityStatus::Available) => priced,
            None => priced,
            Some(_) => false,
        }
    }
}

/// Answer of `POST /v2/domains/available-bulk`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkAvailability {
    /// Names checked.
    #[serde(default, deserialize_with = "de_count")]
    pub total: Option<u64>,
    /// Names available.
    #[serde(default, deserialize_with = "de_count")]
    pub available: Option<u64>,
    /// Names unavailable.
    #[serde(default, deserialize_with = "de_count")]
    pub unavailable: Option<u64>,
    /// One row per name.
    #[serde(default, deserialize_with = "de_null_default")]
    pub domains: Vec<DomainAvailability>,
}

impl BulkAvailability {
    /// The row for `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&DomainAvailability> {
        let wanted = normalize_domain_name(name);
        self.domains
            .iter()
            .find(|d| normalize_domain_name(&d.domain_name) == wanted)
    }

    /// Sum of the first-period prices of the available rows.
    pub fn total_price_of_available(&self) -> Decimal {
        self.domains
            .iter()
            .filter(|d| d.is_available())
            .filter_map(|d| d.domain_price)
            .sum()
    }
}

/// Body of the single-name search `POST /v2/domains/available` (§6.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilitySearch {
    /// A keyword or a full name.
    pub domain_name: String,
    /// TLDs to search (optional).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tlds: Vec<String>,
    /// Registration years (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
}

/// Answer of the single-name search: a suggestion list and an often-`null` exact match
/// (§6.4). It is not a reliable yes/no for the queried name — use
/// [`Domains::check_availability`] for that, and never attribute a suggestion's price to
/// the queried name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilitySearchResult {
    /// Suggestions (≈ 50).
    #[serde(default, deserialize_with = "de_null_default")]
    pub available_domains: Vec<DomainAvailability>,
    /// The queried name, when Zapmail reports it.
    #[serde(default)]
    pub exact_match: Option<DomainAvailability>,
}

// ---------------------------------------------------------------------------------------
// Purchase

/// One name to buy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainPurchase {
    /// The full name, e.g. `acmeoutreach.com`.
    pub domain_name: String,
    /// Registration years (default 1 at Zapmail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
}

/// Body of `POST /v2/domains/buy` (§6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuyDomainsRequest {
    /// Names to buy.
    pub domains: Vec<DomainPurchase>,
    /// Pay from the wallet (an invoice is issued for any shortfall); `false` returns a
    /// Stripe payment link.
    pub use_wallet: bool,
    /// Enable DNS Shield.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_dns_shield: Option<bool>,
}

impl BuyDomainsRequest {
    /// Buy `names` for one year each, paying from the wallet.
    pub fn with_wallet<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        BuyDomainsRequest {
            domains: names
                .into_iter()
                .map(|n| DomainPurchase {
                    domain_name: normalize_domain_name(n.as_ref()),
                    years: Some(1),
                })
                .collect(),
            use_wallet: true,
            enable_dns_shield: None,
        }
    }

    /// Check locally that there is at least one name, every name is well-formed, has a
    /// supported TLD and appears once.
    pub fn validate(&self, tlds: &SupportedTlds) -> Result<()> {
        if self.domains.is_empty() {
            return Err(Error::invalid_input(VENDOR, "no domains to buy"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for d in &self.domains {
            let name = tlds.check(&d.domain_name)?;
            if !seen.insert(name.clone()) {
                return Err(Error::invalid_input(
                    VENDOR,
                    format!("{name} appears twice in the purchase"),
                ));
            }
            if d.years == Some(0) {
                return Err(Error::invalid_input(
                    VENDOR,
                    format!("{name}: years must be at least 1"),
                ));
            }
        }
        Ok(())
    }

    /// The names in this request.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.domains.iter().map(|d| d.domain_name.as_str())
    }
}

/// What `POST /v2/domains/buy` did. The response is a bare object with **no domain ids**
/// (§6.5): after [`Purchased`](Self::Purchased), poll the domain list by name
/// ([`Domains::find_by_names`]) until each name is `ACTIVE`.
///
/// Classification (the short-wallet body is not documented; choices marked):
/// - a `paymentLink` → [`PaymentLink`](Self::PaymentLink) (`useWallet: false`);
/// - an `invoiceLink` and a message saying "purchased" (and not "insufficient") →
///   [`Purchased`](Self::Purchased): the wallet covered it, registration started (the
///   documented `{"message": "Domains purchased", "invoiceLink": ...}`);
/// - any other `invoiceLink` → [`InvoiceDue`](Self::InvoiceDue): the wallet was short, an
///   invoice was issued for the remainder, **nothing registers until it is paid**, and the
///   order is dropped after about 5 minutes [S Q4]; safer to stop and ask for payment than
///   to poll for domains that will not come;
/// - anything else → [`Unrecognized`](Self::Unrecognized) (treat as "outcome unknown":
///   reconcile by listing domains before any retry).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PurchaseOutcome {
    /// Paid from the wallet; registration started.
    Purchased {
        /// Zapmail's message.
        message: String,
        /// The ($0) invoice.
        invoice_link: Option<String>,
    },
    /// The wallet did not cover the cart: pay this invoice (nothing was bought yet).
    InvoiceDue {
        /// Zapmail's message.
        message: Option<String>,
        /// The invoice to pay.
        invoice_link: String,
    },
    /// `useWallet: false`: pay through this Stripe link.
    PaymentLink {
        /// The checkout link.
        payment_link: String,
    },
    /// A body this crate does not recognise (its `message`, if any).
    Unrecognized {
        /// Zapmail's message.
        message: Option<String>,
    },
}

impl PurchaseOutcome {
    /// Classify a buy response body (see the type docs).
    pub fn from_body(body: &Value) -> Self {
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let message = text("message");
        if let Some(link) = text("paymentLink").or_else(|| text("payment_link")) {
            return PurchaseOutcome::PaymentLink { payment_link: link };
        }
        let invoice = text("invoiceLink")
            .or_else(|| text("invoice_link"))
            .or_else(|| text("invoiceUrl"));
        let lower = message.as_deref().unwrap_or_default().to_ascii_lowercase();
        let purchased = lower.contains("purchased")
            && !lower.contains("insufficient")
            && !lower.contains("not purchased");
        match (invoice, message) {
            (invoice, Some(message)) if purchased => PurchaseOutcome::Purchased {
                message,
                invoice_link: invoice,
            },
            (Some(invoice_link), message) => PurchaseOutcome::InvoiceDue {
                message,
                invoice_link,
            },
            (None, message) => PurchaseOutcome::Unrecognized { message },
        }
    }

    /// Whether the wallet paid and registration started.
    pub fn is_purchased(&self) -> bool {
        matches!(self, PurchaseOutcome::Purchased { .. })
    }

    /// The link a human must follow to pay, when payment is still due.
    pub fn payment_url(&self) -> Option<&str> {
        match self {
            PurchaseOutcome::InvoiceDue { invoice_link, .. } => Some(invoice_link),
            PurchaseOutcome::PaymentLink { payment_link } => Some(payment_link),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Domain lists

/// A domain in the account (§6.7).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    /// Id (the key of the mailbox-creation body).
    pub id: DomainId,
    /// The name, e.g. `acmeoutreach.com`.
    #[serde(default)]
    pub domain: String,
    /// Status (`PENDING` after a purchase, then `ACTIVE`).
    #[serde(default)]
    pub status: Option<DomainStatus>,
    /// Workspace.
    #[serde(default)]
    pub workspace_id: Option<WorkspaceId>,
    /// Provider (`null` until the first mailbox, v3 changelog).
    #[serde(default)]
    pub service_provider: Option<ServiceProvider>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Registered.
    #[serde(default)]
    pub registered_on: Option<String>,
    /// Expires.
    #[serde(default)]
    pub expire_on: Option<String>,
    /// Auto-renew (false by default for bought domains).
    #[serde(default, deserialize_with = "de_bool")]
    pub auto_renew: Option<bool>,
    /// Web forwarding target.
    #[serde(default)]
    pub forward_to: Option<String>,
    /// DMARC aggregate-report address.
    #[serde(default)]
    pub dmarc_email: Option<String>,
    /// Email forwarding address.
    #[serde(default)]
    pub forwarding_email: Option<String>,
    /// Catch-all address.
    #[serde(default)]
    pub catch_all_email: Option<String>,
    /// Current name servers.
    #[serde(default, deserialize_with = "de_null_default")]
    pub name_servers: Vec<String>,
    /// DNS Shield on.
    #[serde(default, deserialize_with = "de_bool")]
    pub dns_shield_enabled: Option<bool>,
    /// Warmed-up (aged) domain.
    #[serde(default, deserialize_with = "de_bool")]
    pub is_warmed_up: Option<bool>,
    /// Tags (shape undocumented; kept raw).
    #[serde(default, deserialize_with = "de_null_default")]
    pub tags: Vec<Value>,
    /// Mailboxes assigned (a string in the JSON).
    #[serde(default, deserialize_with = "de_count")]
    pub assigned_mailboxes_count: Option<u64>,
    /// Mailboxes on the domain (identifiers only: any credentials in the rows are dropped).
    #[serde(default, deserialize_with = "de_null_default")]
    pub mailboxes: Vec<DomainMailbox>,
}

impl Domain {
    /// Whether the domain is `ACTIVE`.
    pub fn is_active(&self) -> bool {
        self.status == Some(DomainStatus::Active)
    }
}

/// A mailbox row nested in a domain-list row (identifiers only).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainMailbox {
    /// Id.
    #[serde(default)]
    pub id: Option<MailboxId>,
    /// Username.
    #[serde(default)]
    pub username: Option<String>,
    /// Address.
    #[serde(default)]
    pub email: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<MailboxStatus>,
}

/// One page of domains.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainPage {
    /// The rows.
    #[serde(default, deserialize_with = "de_null_default")]
    pub domains: Vec<Domain>,
    /// Pagination counters (`nextPage` never nulls — see [`Pagination`]).
    #[serde(flatten)]
    pub pagination: Pagination,
}

/// Query of `GET /v2/domains` and `GET /v2/domains/assignable`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainListQuery {
    /// Name substring.
    pub contains: Option<String>,
    /// 1-based page (Zapmail's default 1).
    pub page: Option<u32>,
    /// Page size (Zapmail's default 10; send at least 1).
    pub limit: Option<u32>,
}

impl DomainListQuery {
    /// Names containing `text`.
    pub fn containing(text: impl Into<String>) -> Self {
        DomainListQuery {
            contains: Some(text.into()),
            ..Default::default()
        }
    }
}

/// Body of `POST /v2/domains` (the filtered list). Filters are always sent, empty when
/// unused: `null` filters are refused with 422 (§4, §9.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainFilter {
    /// Statuses to include (empty = all).
    pub status: Vec<DomainStatus>,
    /// Name substring (empty = all).
    pub contains: String,
    /// Tags (empty = all).
    pub tag_ids: Vec<TagId>,
    /// Order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<SortOrder>,
    /// 1-based page (sent as a query parameter, which wins over the body).
    #[serde(skip)]
    pub page: Option<u32>,
    /// Page size (query parameter).
    #[serde(skip)]
    pub limit: Option<u32>,
}

/// Page size the `*_all` helpers ask for.
pub const LIST_ALL_PAGE_SIZE: u32 = 100;

// ---------------------------------------------------------------------------------------
// Connection requests

open_enum!(
    /// Status of a domain connection request (§6.6). See [`ConnectionStatus::phase`].
    ConnectionStatus {
        /// Queued.
        Pending => "PENDING",
        /// Checking registration.
        CheckingIfDomainIsRegistered => "CHECKING_IF_DOMAIN_IS_REGISTERED",
        /// Not registered (terminal).
        DomainNotRegistered => "DOMAIN_NOT_REGISTERED",
        /// Registered.
        DomainAlreadyRegistered => "DOMAIN_ALREADY_REGISTERED",
        /// Checking for an existing workspace.
        CheckingExistingWorkspaceStatus => "CHECKING_EXISTING_WORKSPACE_STATUS",
        /// A Google/Microsoft workspace exists on the name (terminal).
        WorkspaceAlreadyExists => "WORKSPACE_ALREADY_EXISTS",
        /// Checking name servers.
        CheckingNsInWhois => "CHECKING_NS_IN_WHOIS",
        /// Name servers not changed (terminal after 24–48 h).
        NsNotChanged => "NS_NOT_CHANGED",
        /// Creating the DNS zone.
        CreatingZone => "CREATING_ZONE",
        /// Connected.
        Success => "SUCCESS",
        /// Failed.
        Failed => "FAILED",
        /// Checking Cloudflare permissions.
        CheckingCloudflarePermissions => "CHECKING_CLOUDFLARE_PERMISSIONS",
        /// Cloudflare permission required (terminal).
        PermissionRequired => "PERMISSION_REQUIRED",
        /// Enabling DNS Shield.
        EnableDnsShield => "ENABLE_DNS_SHIELD",
        /// Already connected.
        DomainAlreadyConnected => "DOMAIN_ALREADY_CONNECTED",
        /// Checking blacklists.
        CheckingBlacklistedStatus => "CHECKING_BLACKLISTED_STATUS",
        /// Blacklisted (terminal).
        BlacklistedDomain => "BLACKLISTED_DOMAIN",
        /// Banned (terminal).
        BannedDomain => "BANNED_DOMAIN",
    }
);

/// Coarse phase of a connection request (support + client classification, §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionPhase {
    /// Still being processed: keep polling.
    InProgress,
    /// Connected.
    Succeeded,
    /// Terminal failure: an operator must act.
    Failed,
    /// An unknown status.
    Unknown,
}

impl ConnectionStatus {
    /// The coarse phase of this status.
    pub fn phase(&self) -> ConnectionPhase {
        use ConnectionStatus::*;
        match self {
            Pending
            | CheckingIfDomainIsRegistered
            | DomainAlreadyRegistered
            | CheckingExistingWorkspaceStatus
            | CheckingNsInWhois
            | CreatingZone
            | CheckingCloudflarePermissions
            | EnableDnsShield
            | CheckingBlacklistedStatus => ConnectionPhase::InProgress,
            Success | DomainAlreadyConnected => ConnectionPhase::Succeeded,
            DomainNotRegistered
            | WorkspaceAlreadyExists
            | NsNotChanged
            | Failed
            | PermissionRequired
            | BlacklistedDomain
            | BannedDomain => ConnectionPhase::Failed,
            Other(s) if s.starts_with("CHECKING_") => ConnectionPhase::InProgress,
            Other(_) => ConnectionPhase::Unknown,
        }
    }
}

/// A domain connection request (item fields are undocumented; all optional).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRequest {
    /// Id.
    #[serde(default)]
    pub id: Option<ConnectionRequestId>,
    /// Domain name.
    #[serde(default, alias = "domain")]
    pub domain_name: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<ConnectionStatus>,
    /// Name servers assigned.
    #[serde(default, deserialize_with = "de_null_default")]
    pub name_servers: Vec<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// One page of connection requests: `data: {..pagination, data: [...]}` (§6.6).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRequestPage {
    /// The rows.
    #[serde(
        default,
        rename = "data",
        alias = "connectionRequests",
        alias = "requests",
        deserialize_with = "de_null_default"
    )]
    pub requests: Vec<ConnectionRequest>,
    /// Pagination counters.
    #[serde(flatten)]
    pub pagination: Pagination,
}

/// Query of `GET /v2/domains/connection-requests`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionRequestQuery {
    /// 1-based page.
    pub page: Option<u32>,
    /// Page size.
    pub limit: Option<u32>,
    /// Status filter.
    pub status: Option<ConnectionStatus>,
    /// Name substring.
    pub contains: Option<String>,
}

// ---------------------------------------------------------------------------------------
// DMARC

/// Body of `POST /v2/domains/dmarc` (§6.8). Every selector is sent, empty when unused
/// (`null` filters give 422). With no `domain_ids` and empty filters the record is added
/// to **every** domain of the workspace in one call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DmarcRequest {
    /// Domains to change (empty = all matching the filters).
    pub domain_ids: Vec<DomainId>,
    /// Aggregate-report (`rua`) address.
    pub email: String,
    /// Name substring filter.
    pub contains: String,
    /// Status filter.
    pub status: Vec<DomainStatus>,
    /// Tag filter.
    pub tag_ids: Vec<TagId>,
}

impl DmarcRequest {
    /// Add a DMARC record reporting to `email` on these domains.
    pub fn for_domains<I, D>(domain_ids: I, email: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = D>,
        D: Into<DomainId>,
    {
        DmarcRequest {
            domain_ids: domain_ids.into_iter().map(Into::into).collect(),
            email: email.into(),
            ..Default::default()
        }
    }

    /// Add a DMARC record reporting to `email` on every domain of the workspace.
    pub fn for_all_domains(email: impl Into<String>) -> Self {
        DmarcRequest {
            email: email.into(),
            ..Default::default()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Operations

fn page_query(req: Request, page: Option<u32>, limit: Option<u32>) -> Request {
    req.query_opt("page", page.map(|p| p.max(1)))
        .query_opt("limit", limit.map(|l| l.max(1)))
}

impl Domains<'_> {
    /// Check up to [`MAX_BULK_AVAILABILITY`] (20) exact names
    /// (`POST /v2/domains/available-bulk`). More names, or none, are refused locally with
    /// [`Error::InvalidInput`] before any request. Counts against the
    /// [`AVAILABILITY_BUCKET`] (100 per 30 min). Names are sent as given (trimmed);
    /// validate them first with [`SupportedTlds::check`] to save queries.
    pub async fn check_availability<S: AsRef<str>>(&self, names: &[S]) -> Result<BulkAvailability> {
        if names.is_empty() {
            return Err(Error::invalid_input(VENDOR, "no domain names to check"));
        }
        if names.len() > MAX_BULK_AVAILABILITY {
            return Err(Error::invalid_input(
                VENDOR,
                format!(
                    "{} domain names in one availability check; at most {MAX_BULK_AVAILABILITY} are allowed (split into batches)",
                    names.len()
                ),
            ));
        }
        let names: Vec<&str> = names.iter().map(|n| n.as_ref().trim()).collect();
        let req = Request::post("/v2/domains/available-bulk")
            .json(&serde_json::json!({ "domainNames": names }))
            .idempotent()
            .bucket(AVAILABILITY_BUCKET);
        self.scope.data(req).await
    }

    /// The single-name search (`POST /v2/domains/available`): a suggestion engine, see
    /// [`AvailabilitySearchResult`]. Counts against the [`AVAILABILITY_BUCKET`].
    pub async fn search_available(
        &self,
        search: &AvailabilitySearch,
    ) -> Result<AvailabilitySearchResult> {
        if search.domain_name.trim().is_empty() {
            return Err(Error::invalid_input(VENDOR, "domainName is empty"));
        }
        let req = Request::post("/v2/domains/available")
            .json(search)
            .idempotent()
            .bucket(AVAILABILITY_BUCKET);
        // Envelope wrapping is inferred (§6.4); a bare body decodes too.
        self.scope.data_or_root(req).await
    }

    /// Buy domains (`POST /v2/domains/buy`). **Never retried** once it may have reached
    /// Zapmail: after a timeout, 5xx or dropped connection
    /// ([`Error::may_have_taken_effect`]), list the domains by name before trying again.
    /// Give the client a long timeout (≥ 60 s, §6.5).
    ///
    /// The answer carries no domain ids — see [`PurchaseOutcome`]. A request with no names
    /// is refused locally; call [`BuyDomainsRequest::validate`] to check names and TLDs too.
    pub async fn buy(&self, req: &BuyDomainsRequest) -> Result<PurchaseOutcome> {
        if req.domains.is_empty() {
            return Err(Error::invalid_input(VENDOR, "no domains to buy"));
        }
        let req = Request::post("/v2/domains/buy").json(req).non_idempotent();
        let body: Value = self.scope.bare(req).await?;
        Ok(PurchaseOutcome::from_body(&body))
    }

    /// One page of domains (`GET /v2/domains?contains=&page=&limit=`).
    pub async fn list(&self, query: &DomainListQuery) -> Result<DomainPage> {
        let req = page_query(Request::get("/v2/domains"), query.page, query.limit)
            .query_opt("contains", query.contains.as_deref())
            .idempotent();
        self.scope.data(req).await
    }

    /// One page of the filtered list (`POST /v2/domains`; a read, retried like one).
    pub async fn list_filtered(&self, filter: &DomainFilter) -> Result<DomainPage> {
        let req = page_query(Request::post("/v2/domains"), filter.page, filter.limit)
            .json(filter)
            .idempotent();
        self.scope.data(req).await
    }

    /// Every domain matching `contains`, following pages until an empty page or
    /// `page >= totalPages` (never trusting `nextPage`, §4).
    pub async fn list_all(&self, contains: Option<&str>) -> Result<Vec<Domain>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let q = DomainListQuery {
                contains: contains.map(str::to_string),
                page: Some(page),
                limit: Some(LIST_ALL_PAGE_SIZE),
            };
            let p = self.list(&q).await?;
            let n = p.domains.len();
            out.extend(p.domains);
            if p.pagination.is_last_page(page, n) || page >= MAX_PAGES {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// The domain named `name` (case-insensitive), if it is in the workspace.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<Domain>> {
        let wanted = normalize_domain_name(name);
        let all = self.list_all(Some(&wanted)).await?;
        Ok(all
            .into_iter()
            .find(|d| normalize_domain_name(&d.domain) == wanted))
    }

    /// The domains with these names that are in the workspace, keyed by normalized name —
    /// the poll after a purchase (`PENDING → ACTIVE`, §6.5). One paginated sweep of the
    /// workspace, whatever the number of names.
    pub async fn find_by_names<S: AsRef<str>>(
        &self,
        names: &[S],
    ) -> Result<BTreeMap<String, Domain>> {
        let wanted: Vec<String> = names
            .iter()
            .map(|n| normalize_domain_name(n.as_ref()))
            .collect();
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let contains = if wanted.len() == 1 {
            Some(wanted[0].as_str())
        } else {
            None
        };
        let all = self.list_all(contains).await?;
        Ok(all
            .into_iter()
            .filter_map(|d| {
                let n = normalize_domain_name(&d.domain);
                wanted.contains(&n).then_some((n, d))
            })
            .collect())
    }

    /// One page of domains mailboxes can be assigned to (`GET /v2/domains/assignable`).
    pub async fn assignable(&self, query: &DomainListQuery) -> Result<DomainPage> {
        let req = page_query(
            Request::get("/v2/domains/assignable"),
            query.page,
            query.limit,
        )
        .query_opt("contains", query.contains.as_deref())
        .idempotent();
        self.scope.data(req).await
    }

    /// Every assignable domain (paginated like [`list_all`](Self::list_all)).
    pub async fn assignable_all(&self, contains: Option<&str>) -> Result<Vec<Domain>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let q = DomainListQuery {
                contains: contains.map(str::to_string),
                page: Some(page),
                limit: Some(LIST_ALL_PAGE_SIZE),
            };
            let p = self.assignable(&q).await?;
            let n = p.domains.len();
            out.extend(p.domains);
            if p.pagination.is_last_page(page, n) || page >= MAX_PAGES {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// One page of connection requests (`GET /v2/domains/connection-requests`) — for
    /// connecting domains you already own, **not** for tracking purchases (§6.6).
    pub async fn connection_requests(
        &self,
        query: &ConnectionRequestQuery,
    ) -> Result<ConnectionRequestPage> {
        let req = page_query(
            Request::get("/v2/domains/connection-requests"),
            query.page,
            query.limit,
        )
        .query_opt("status", query.status.as_ref())
        .query_opt("contains", query.contains.as_deref())
        .idempotent();
        self.scope.data(req).await
    }

    /// Add a DMARC record (`POST /v2/domains/dmarc`) to the listed domains, or to every
    /// domain of the workspace with [`DmarcRequest::for_all_domains`]. Marked idempotent:
    /// it sets each domain's single DMARC record, so repeating it changes nothing.
    pub async fn add_dmarc(&self, req: &DmarcRequest) -> Result<Ack> {
        let email = req.email.trim();
        if email.is_empty() || !email.contains('@') {
            return Err(Error::invalid_input(
                VENDOR,
                format!("DMARC report address {email:?} is not an email address"),
            ));
        }
        self.scope
            .ack(Request::post("/v2/domains/dmarc").json(req).idempotent())
            .await
    }
}
