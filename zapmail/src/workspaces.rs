//! Users, wallet, workspaces and billing details (§6.1–6.3, §6.13).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vendor_http::{Request, Result};

use crate::client::resource;
use crate::types::{MAX_PAGES, Pagination, WorkspaceId, de_bool, de_count, de_price};
use crate::{Ack, Error, VENDOR};

// ---------------------------------------------------------------------------------------
// Users

resource!(
    /// `GET /v2/users`: the key's account (a good "verify key" call, §6.1).
    Users
);

/// The account behind an API key (§6.1; fields live-verified by third parties).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Login email.
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Plan name, e.g. `"Growth"`.
    #[serde(default)]
    pub active_plan: Option<String>,
    /// When the plan period ends.
    #[serde(default)]
    pub plan_ends_on: Option<String>,
    /// Mailbox slots purchased.
    #[serde(default, deserialize_with = "de_count")]
    pub purchased_mailboxes: Option<u64>,
    /// Mailbox slots assigned.
    #[serde(default, deserialize_with = "de_count")]
    pub assigned_mailboxes: Option<u64>,
    /// Account creation time.
    #[serde(default)]
    pub user_created_at: Option<String>,
    /// Wallet balance in USD.
    #[serde(default, deserialize_with = "de_price")]
    pub wallet_balance: Option<Decimal>,
}

impl Users<'_> {
    /// The account of the key (`GET /v2/users`). Fails with [`ErrorKind::Auth`](crate::ErrorKind::Auth) for a bad key.
    pub async fn me(&self) -> Result<User> {
        self.scope
            .data(Request::get("/v2/users").idempotent())
            .await
    }

    /// Check the key works; same call as [`me`](Self::me).
    pub async fn verify_key(&self) -> Result<User> {
        self.me().await
    }
}

// ---------------------------------------------------------------------------------------
// Wallet

resource!(
    /// `GET /v2/wallet/balance` (a bare body, not the envelope, §6.13).
    Wallet
);

/// Wallet balance and auto-recharge settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletBalance {
    /// Zapmail's message.
    #[serde(default)]
    pub message: Option<String>,
    /// Balance in USD, exact (documented as an integer; decimals are accepted).
    #[serde(default, deserialize_with = "de_price")]
    pub wallet_balance: Option<Decimal>,
    /// Whether auto-recharge is on.
    #[serde(default, deserialize_with = "de_bool")]
    pub auto_recharge_enabled: Option<bool>,
    /// Auto-recharge amounts.
    #[serde(default)]
    pub auto_recharge_details: Option<AutoRecharge>,
}

/// "Recharge `amount` when the balance drops below `threshold`" (subfields partly inferred).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRecharge {
    /// Amount added per recharge, USD.
    #[serde(default, deserialize_with = "de_price")]
    pub amount: Option<Decimal>,
    /// Balance below which a recharge happens, USD.
    #[serde(default, deserialize_with = "de_price")]
    pub threshold: Option<Decimal>,
}

impl Wallet<'_> {
    /// The wallet balance (`GET /v2/wallet/balance`).
    pub async fn balance(&self) -> Result<WalletBalance> {
        self.scope
            .bare(Request::get("/v2/wallet/balance").idempotent())
            .await
    }
}

// ---------------------------------------------------------------------------------------
// Workspaces

resource!(
    /// Workspaces: `GET /v2/workspaces`, `POST /v2/workspaces` (§6.2).
    Workspaces
);

/// A workspace. The per-workspace counts arrive as strings and are parsed (§6.2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// Id; the value of `x-workspace-key`.
    pub id: WorkspaceId,
    /// Name, unique per account.
    #[serde(default)]
    pub name: String,
    /// Google domains in the workspace.
    #[serde(default, deserialize_with = "de_count")]
    pub domain_count_google: Option<u64>,
    /// Microsoft domains in the workspace.
    #[serde(default, deserialize_with = "de_count")]
    pub domain_count_microsoft: Option<u64>,
    /// Google mailbox slots purchased.
    #[serde(default, deserialize_with = "de_count")]
    pub total_mailboxes_purchased_google: Option<u64>,
    /// Microsoft mailbox slots purchased.
    #[serde(default, deserialize_with = "de_count")]
    pub total_mailboxes_purchased_microsoft: Option<u64>,
    /// Creation time, when sent.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// One page of `GET /v2/workspaces`: the current workspace and the **other** workspaces
/// (`workspaces` is empty for single-workspace accounts, §6.2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceList {
    /// The workspace the call ran in (primary, or the `x-workspace-key` one).
    #[serde(default)]
    pub current_workspace: Option<Workspace>,
    /// Other workspaces on this page.
    #[serde(default, deserialize_with = "crate::types::de_null_default")]
    pub workspaces: Vec<Workspace>,
    /// Pagination counters.
    #[serde(flatten)]
    pub pagination: Pagination,
    /// Workspaces in the account.
    #[serde(default, deserialize_with = "de_count")]
    pub total_workspaces_count: Option<u64>,
    /// Google domains over all workspaces.
    #[serde(default, deserialize_with = "de_count")]
    pub total_domains_count_google: Option<u64>,
    /// Microsoft domains over all workspaces.
    #[serde(default, deserialize_with = "de_count")]
    pub total_domains_count_microsoft: Option<u64>,
}

impl WorkspaceList {
    /// The current workspace followed by the others on this page.
    pub fn all(&self) -> impl Iterator<Item = &Workspace> {
        self.current_workspace.iter().chain(self.workspaces.iter())
    }
}

/// Query of `GET /v2/workspaces`. The docs mark `page` and `limit` required, so both are
/// always sent (§6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceListQuery {
    /// 1-based page (default 1).
    pub page: u32,
    /// Page size (default 50).
    pub limit: u32,
    /// Name substring filter.
    pub contains: Option<String>,
}

impl Default for WorkspaceListQuery {
    fn default() -> Self {
        WorkspaceListQuery {
            page: 1,
            limit: 50,
            contains: None,
        }
    }
}

/// Body of `POST /v2/workspaces`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateWorkspaceRequest {
    /// Name (required; unique per account).
    pub name: String,
    /// Billing details to set at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_details: Option<BillingDetails>,
}

impl CreateWorkspaceRequest {
    /// A workspace named `name`, without billing details.
    pub fn named(name: impl Into<String>) -> Self {
        CreateWorkspaceRequest {
            name: name.into(),
            billing_details: None,
        }
    }
}

impl Workspaces<'_> {
    /// One page of workspaces (`GET /v2/workspaces?page=&limit=&contains=`).
    pub async fn list(&self, query: &WorkspaceListQuery) -> Result<WorkspaceList> {
        let req = Request::get("/v2/workspaces")
            .query("page", query.page.max(1))
            .query("limit", query.limit.max(1))
            .query_opt("contains", query.contains.as_deref())
            .idempotent();
        self.scope.data(req).await
    }

    /// Every workspace of the account (the current one first), following pages until an
    /// empty page or `page >= totalPages` (`nextPage` is never trusted, §4).
    pub async fn list_all(&self, contains: Option<&str>) -> Result<Vec<Workspace>> {
        let mut out: Vec<Workspace> = Vec::new();
        let mut page = 1;
        loop {
            let q = WorkspaceListQuery {
                page,
                limit: 50,
                contains: contains.map(str::to_string),
            };
            let list = self.list(&q).await?;
            let n = list.workspaces.len();
            for ws in list.current_workspace.into_iter().chain(list.workspaces) {
                if !out.iter().any(|w| w.id == ws.id) {
                    out.push(ws);
                }
            }
            if list.pagination.is_last_page(page, n) || page >= MAX_PAGES {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// The workspace named exactly `name` (case-sensitive, surrounding spaces ignored), if
    /// any — the "observe before create" read for deterministic names.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        let wanted = name.trim();
        // `contains` narrows the listing; the exact comparison is ours. The current
        // workspace comes back whatever the filter, so it is compared too.
        let all = self.list_all(Some(wanted)).await?;
        Ok(all.into_iter().find(|w| w.name.trim() == wanted))
    }

    /// Create a workspace (`POST /v2/workspaces`). Never retried once sent: a duplicate
    /// name is refused by Zapmail, so after an unknown outcome call
    /// [`find_by_name`](Self::find_by_name) first.
    pub async fn create(&self, req: &CreateWorkspaceRequest) -> Result<Workspace> {
        if req.name.trim().is_empty() {
            return Err(Error::invalid_input(VENDOR, "workspace name is empty"));
        }
        let req = Request::post("/v2/workspaces").json(req).non_idempotent();
        // `data` is the workspace, or `{workspace: {...}}` (shape unconfirmed, §6.2).
        let data: Value = self.scope.data_or_root(req).await?;
        let ws = match data.get("workspace") {
            Some(inner) if inner.is_object() => inner.clone(),
            _ => data,
        };
        serde_json::from_value(ws.clone()).map_err(|e| Error::Decode {
            vendor: VENDOR,
            operation: "POST /v2/workspaces".into(),
            status: 200,
            path: "data".into(),
            message: e.to_string(),
            body: vendor_http::redact::redact_body(ws.to_string().as_bytes()),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Billing

resource!(
    /// Billing details: `POST /v2/billing` (add) and `PUT /v2/billing` (update) (§6.3).
    Billing
);

/// Billing details (§6.3). A precondition for buying and connecting domains and creating
/// mailboxes. Which fields Zapmail requires is unknown; name, address line one, city and
/// country are typed as required here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingDetails {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Company name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Address line one.
    pub address_line_one: String,
    /// Address line two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line_two: Option<String>,
    /// Address line three.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line_three: Option<String>,
    /// City.
    pub city: String,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Country (e.g. `"US"`).
    pub country: String,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Phone country code, e.g. `"+1"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_cc: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Language preference (workspace creation only), e.g. `"en"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_preference: Option<String>,
    /// The workspace the details belong to (default: the call's workspace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<WorkspaceId>,
}

impl BillingDetails {
    fn check(&self) -> Result<()> {
        for (field, value) in [
            ("firstName", &self.first_name),
            ("lastName", &self.last_name),
            ("addressLineOne", &self.address_line_one),
            ("city", &self.city),
            ("country", &self.country),
        ] {
            if value.trim().is_empty() {
                return Err(Error::invalid_input(
                    VENDOR,
                    format!("billing details: {field} is empty"),
                ));
            }
        }
        Ok(())
    }
}

impl Billing<'_> {
    /// Add billing details (`POST /v2/billing`). Sent once (a create); there is no read
    /// endpoint, so after an unknown outcome use [`update`](Self::update), which is
    /// idempotent.
    pub async fn add(&self, details: &BillingDetails) -> Result<Ack> {
        details.check()?;
        self.scope
            .ack(Request::post("/v2/billing").json(details).non_idempotent())
            .await
    }

    /// Update billing details (`PUT /v2/billing`, same body).
    pub async fn update(&self, details: &BillingDetails) -> Result<Ack> {
        details.check()?;
        self.scope
            .ack(Request::put("/v2/billing").json(details).idempotent())
            .await
    }
}
