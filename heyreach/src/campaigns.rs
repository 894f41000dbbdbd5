//! Campaigns (heyreach.md §7).

use serde::{Deserialize, Serialize};
use vendor_http::Request;

use crate::ids::{CampaignId, LinkedInAccountId, ListId};
use crate::page::{MAX_PAGE_LIMIT, Page, collect_pages};
use crate::serde_util::{lenient_i64, null_as_empty_vec};
use crate::{CampaignStatus, Client, Result, check_limit};

/// A campaign as `campaign/GetAll` and `campaign/GetById` return it. The field set changed
/// between API versions, so everything but `id` is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    /// Campaign id.
    pub id: CampaignId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// ISO-8601 creation time.
    #[serde(default)]
    pub creation_time: Option<String>,
    /// When it was started.
    #[serde(default)]
    pub started_at: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<CampaignStatus>,
    /// The lead list it runs on.
    #[serde(default)]
    pub linked_in_user_list_id: Option<ListId>,
    /// That list's name.
    #[serde(default)]
    pub linked_in_user_list_name: Option<String>,
    /// Sender accounts.
    #[serde(default, deserialize_with = "null_as_empty_vec")]
    pub campaign_account_ids: Vec<LinkedInAccountId>,
    /// Lead counters (can be negative).
    #[serde(default)]
    pub progress_stats: Option<ProgressStats>,
    /// Exclude leads contacted in other campaigns.
    #[serde(default)]
    pub exclude_in_other_campaigns: Option<bool>,
    /// Exclude leads with conversations on other accounts.
    #[serde(default)]
    pub exclude_has_other_acc_conversations: Option<bool>,
    /// Exclude leads contacted by the same sender elsewhere.
    #[serde(default)]
    pub exclude_contacted_from_sender_in_other_campaign: Option<bool>,
    /// Exclude the leads of this list.
    #[serde(default)]
    pub exclude_list_id: Option<ListId>,
    /// Organization unit (workspace) id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub organization_unit_id: Option<i64>,
    /// Older exclude flag (Postman example only).
    #[serde(default)]
    pub exclude_already_messaged_global: Option<bool>,
    /// Older exclude flag (Postman example only).
    #[serde(default)]
    pub exclude_already_messaged_campaign_accounts: Option<bool>,
    /// Older exclude flag (Postman example only).
    #[serde(default)]
    pub exclude_first_connection_campaign_accounts: Option<bool>,
    /// Older exclude flag (Postman example only).
    #[serde(default)]
    pub exclude_first_connection_global: Option<bool>,
    /// Older exclude flag (Postman example only).
    #[serde(default)]
    pub exclude_no_profile_picture: Option<bool>,
}

/// A campaign's lead counters. Running remainders, not states: seen **negative** live
/// (`totalUsersInProgress` -7), hence signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressStats {
    /// All leads.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_users: Option<i64>,
    /// Leads in the sequence.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_users_in_progress: Option<i64>,
    /// Leads not started.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_users_pending: Option<i64>,
    /// Leads done.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_users_finished: Option<i64>,
    /// Leads failed.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_users_failed: Option<i64>,
    /// Leads stopped by hand.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_users_manually_stopped: Option<i64>,
    /// Leads excluded.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_users_excluded: Option<i64>,
}

/// Body of `POST /campaign/GetAll`. [`Default`] asks for the first 100 campaigns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCampaignsRequest {
    /// Items to skip.
    pub offset: u32,
    /// Page size, 1..=100.
    pub limit: u32,
    /// Filter on the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Only these statuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<CampaignStatus>,
    /// Only campaigns using these senders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account_ids: Vec<LinkedInAccountId>,
}

impl Default for GetCampaignsRequest {
    fn default() -> Self {
        GetCampaignsRequest {
            offset: 0,
            limit: MAX_PAGE_LIMIT,
            keyword: None,
            statuses: Vec::new(),
            account_ids: Vec::new(),
        }
    }
}

/// Campaign operations: `client.campaigns()`.
#[derive(Debug, Clone, Copy)]
pub struct Campaigns<'a> {
    client: &'a Client,
}

impl<'a> Campaigns<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Campaigns { client }
    }

    /// `POST /campaign/GetAll`: one page of campaigns.
    pub async fn get_all(&self, req: &GetCampaignsRequest) -> Result<Page<Campaign>> {
        check_limit(req.limit, MAX_PAGE_LIMIT)?;
        self.client
            .core
            .send(Request::post("/campaign/GetAll").json(req).idempotent())
            .await
    }

    /// Every campaign matching `req`'s filters, from `req.offset` on.
    pub async fn get_all_pages(&self, req: &GetCampaignsRequest) -> Result<Vec<Campaign>> {
        check_limit(req.limit, MAX_PAGE_LIMIT)?;
        collect_pages(req.offset, |offset| {
            let page = GetCampaignsRequest {
                offset,
                ..req.clone()
            };
            async move { self.get_all(&page).await }
        })
        .await
    }

    /// `GET /campaign/GetById?campaignId=`: the bare campaign object.
    pub async fn get(&self, campaign_id: CampaignId) -> Result<Campaign> {
        self.client
            .core
            .send(
                Request::get("/campaign/GetById")
                    .query("campaignId", campaign_id)
                    .idempotent(),
            )
            .await
    }

    /// `POST /campaign/StartCampaign?campaignId=`: DRAFT → STARTING → IN_PROGRESS, **not at
    /// once** (poll [`get`](Self::get)).
    ///
    /// This and [`pause`](Self::pause)/[`resume`](Self::resume) are not retried after they
    /// may have taken effect: a repeat is refused with 400 once the state changed, so
    /// re-read the campaign instead.
    pub async fn start(&self, campaign_id: CampaignId) -> Result<()> {
        self.state_change("/campaign/StartCampaign", campaign_id)
            .await
    }

    /// `POST /campaign/Pause?campaignId=`: IN_PROGRESS → PAUSED. HeyReach has been seen to
    /// answer 400 and pause anyway: re-read the status.
    pub async fn pause(&self, campaign_id: CampaignId) -> Result<()> {
        self.state_change("/campaign/Pause", campaign_id).await
    }

    /// `POST /campaign/Resume?campaignId=`: PAUSED/FINISHED/FAILED → IN_PROGRESS.
    pub async fn resume(&self, campaign_id: CampaignId) -> Result<()> {
        self.state_change("/campaign/Resume", campaign_id).await
    }

    async fn state_change(&self, path: &str, campaign_id: CampaignId) -> Result<()> {
        // Query-only POSTs work without a body (§1, §7.4); `{}` is sent anyway, harmlessly,
        // so no proxy turns the bodiless POST into a 411/415.
        self.client
            .core
            .send_unit(
                Request::post(path)
                    .query("campaignId", campaign_id)
                    .json_value(serde_json::json!({}))
                    .non_idempotent(),
            )
            .await
    }
}
