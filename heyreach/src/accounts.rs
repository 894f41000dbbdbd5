//! LinkedIn accounts, i.e. senders or "seats" (heyreach.md §8). The path is `li_account`;
//! `/linkedinaccount/...` is a 404.

use serde::{Deserialize, Serialize};
use vendor_http::Request;

use crate::ids::LinkedInAccountId;
use crate::page::{MAX_PAGE_LIMIT, Page, collect_pages};
use crate::serde_util::lenient_i64;
use crate::{Client, Result, check_limit};

/// A LinkedIn sender account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedInAccount {
    /// Account id.
    pub id: LinkedInAccountId,
    /// Login email.
    #[serde(default)]
    pub email_address: Option<String>,
    /// First name (can be null).
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name (can be null).
    #[serde(default)]
    pub last_name: Option<String>,
    /// Profile URL.
    #[serde(default)]
    pub profile_url: Option<String>,
    /// Whether the seat is active.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Campaigns using it.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub active_campaigns: Option<i64>,
    /// Whether its LinkedIn session is valid.
    #[serde(default)]
    pub auth_is_valid: Option<bool>,
    /// Sales Navigator seat.
    #[serde(default)]
    pub is_valid_navigator: Option<bool>,
    /// Recruiter seat.
    #[serde(default)]
    pub is_valid_recruiter: Option<bool>,
    /// Connection requests cooling down.
    #[serde(default)]
    pub connection_request_cooldown: Option<bool>,
    /// Connection notes cooling down.
    #[serde(default)]
    pub connection_note_cooldown: Option<bool>,
    /// InMails cooling down.
    #[serde(default)]
    pub in_mail_cooldown: Option<bool>,
    /// Searches cooling down.
    #[serde(default)]
    pub search_cooldown: Option<bool>,
    /// Configured daily limits.
    #[serde(default)]
    pub account_limits: Option<AccountLimits>,
}

/// A seat's configured daily LinkedIn limits (not what is left today). The connection keys
/// are misspelt by HeyReach (`connectioRequestLimit`), and that is the real wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountLimits {
    /// Connection requests per day (`connectioRequestLimit` on the wire).
    #[serde(
        rename = "connectioRequestLimit",
        default,
        deserialize_with = "lenient_i64"
    )]
    pub connection_request_limit: Option<i64>,
    /// Highest allowed value (`connectioRequestMax` on the wire).
    #[serde(
        rename = "connectioRequestMax",
        default,
        deserialize_with = "lenient_i64"
    )]
    pub connection_request_max: Option<i64>,
    /// Messages per day.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub message_limit: Option<i64>,
    /// Highest allowed value.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub message_limit_max: Option<i64>,
    /// InMails per day.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub in_mail_limit: Option<i64>,
    /// Highest allowed value.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub in_mail_limit_max: Option<i64>,
    /// Profile views per day.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub profile_view_limit: Option<i64>,
    /// Highest allowed value.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub profile_view_limit_max: Option<i64>,
    /// Follows per day.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub follow_limit: Option<i64>,
    /// Highest allowed value.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub follow_limit_max: Option<i64>,
    /// Post likes per day.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub post_like_limit: Option<i64>,
    /// Highest allowed value.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub post_like_limit_max: Option<i64>,
}

/// Body of `POST /li_account/GetAll`. [`Default`] asks for the first 100 accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLinkedInAccountsRequest {
    /// Items to skip.
    pub offset: u32,
    /// Page size, 1..=100.
    pub limit: u32,
    /// Filter on name or email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
}

impl Default for GetLinkedInAccountsRequest {
    fn default() -> Self {
        GetLinkedInAccountsRequest {
            offset: 0,
            limit: MAX_PAGE_LIMIT,
            keyword: None,
        }
    }
}

/// LinkedIn-account operations: `client.linkedin_accounts()`.
#[derive(Debug, Clone, Copy)]
pub struct LinkedInAccounts<'a> {
    client: &'a Client,
}

impl<'a> LinkedInAccounts<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        LinkedInAccounts { client }
    }

    /// `POST /li_account/GetAll`: one page of accounts.
    pub async fn get_all(&self, req: &GetLinkedInAccountsRequest) -> Result<Page<LinkedInAccount>> {
        check_limit(req.limit, MAX_PAGE_LIMIT)?;
        self.client
            .core
            .send(Request::post("/li_account/GetAll").json(req).idempotent())
            .await
    }

    /// Every account matching `req`, from `req.offset` on.
    pub async fn get_all_pages(
        &self,
        req: &GetLinkedInAccountsRequest,
    ) -> Result<Vec<LinkedInAccount>> {
        check_limit(req.limit, MAX_PAGE_LIMIT)?;
        collect_pages(req.offset, |offset| {
            let page = GetLinkedInAccountsRequest {
                offset,
                ..req.clone()
            };
            async move { self.get_all(&page).await }
        })
        .await
    }

    /// `GET /li_account/GetById?accountId=` (documented, not seen live).
    pub async fn get(&self, account_id: LinkedInAccountId) -> Result<LinkedInAccount> {
        self.client
            .core
            .send(
                Request::get("/li_account/GetById")
                    .query("accountId", account_id)
                    .idempotent(),
            )
            .await
    }
}
