//! Lead lists and the leads in them (heyreach.md §6).

use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vendor_http::Request;

use crate::ids::{CampaignId, LeadMemberId, ListId};
use crate::page::{MAX_LEADS_PAGE_LIMIT, MAX_PAGE_LIMIT, Page, collect_pages};
use crate::serde_util::{lenient_i64, lenient_string, null_as_empty, null_as_empty_vec};
use crate::{Client, Error, ListType, Result, check_limit};

/// The most leads `list/AddLeadsToListV2` accepts per call (§6.5).
pub const MAX_LEADS_PER_ADD: usize = 100;

// ---------------------------------------------------------------------------------------
// Requests and responses
// ---------------------------------------------------------------------------------------

/// Body of `POST /list/CreateEmptyList`: `{"name", "type"}` (§6.1; **not**
/// `listName`/`listType`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateListRequest {
    /// The list name (required, non-empty).
    pub name: String,
    /// `USER_LIST` or `COMPANY_LIST`; HeyReach makes a `USER_LIST` when omitted.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub list_type: Option<ListType>,
}

impl CreateListRequest {
    /// A list of the given type.
    pub fn new(name: impl Into<String>, list_type: ListType) -> Self {
        CreateListRequest {
            name: name.into(),
            list_type: Some(list_type),
        }
    }
    /// A list of people (`USER_LIST`), the kind campaigns run on.
    pub fn user_list(name: impl Into<String>) -> Self {
        Self::new(name, ListType::UserList)
    }
    /// A list of companies (`COMPANY_LIST`).
    pub fn company_list(name: impl Into<String>) -> Self {
        Self::new(name, ListType::CompanyList)
    }
}

/// What `CreateEmptyList` returns. Its shape differs from [`LeadList`] (`count` instead of
/// `totalItemsCount`, `campaigns` instead of `campaignIds`), §6.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedList {
    /// The new list's id.
    pub id: ListId,
    /// Its name.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub name: String,
    /// Leads in it (0 for a new list).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub count: Option<i64>,
    /// The list type.
    #[serde(default)]
    pub list_type: Option<ListType>,
    /// ISO-8601 creation time, e.g. `2024-08-29T09:34:56.5417789Z`.
    #[serde(default)]
    pub creation_time: Option<String>,
    /// Whether the list is deleted.
    #[serde(default)]
    pub is_deleted: Option<bool>,
    /// Campaigns using the list (shape undocumented; `null` for a new list).
    #[serde(default)]
    pub campaigns: Option<Value>,
    /// Undocumented (`null` in the example).
    #[serde(default)]
    pub search: Option<Value>,
    /// Undocumented status (`"UNKNOWN"` in the example; its meaning is unknown, §6.1).
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
}

/// A list as `list/GetAll` and `list/GetById` return it (§6.2, §6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadList {
    /// The list id.
    pub id: ListId,
    /// The list name.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub name: String,
    /// How many leads (or companies) the list holds.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_items_count: Option<i64>,
    /// The list type.
    #[serde(default)]
    pub list_type: Option<ListType>,
    /// ISO-8601 creation time.
    #[serde(default)]
    pub creation_time: Option<String>,
    /// Campaigns using this list.
    #[serde(default, deserialize_with = "null_as_empty_vec")]
    pub campaign_ids: Vec<CampaignId>,
}

impl LeadList {
    /// The list size for dashboards: `totalItemsCount`, 0 when HeyReach left it out.
    pub fn size(&self) -> i64 {
        self.total_items_count.unwrap_or(0).max(0)
    }
}

/// Body of `POST /list/GetAll`. [`Default`] asks for the first 100 lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetListsRequest {
    /// Items to skip.
    pub offset: u32,
    /// Page size, 1..=100 (always sent: HeyReach's default is 10).
    pub limit: u32,
    /// Filter on the list name (HeyReach's matching rule is undocumented; treat it as a
    /// search, and compare names exactly yourself: see [`Lists::find_by_name`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Only lists of this type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_type: Option<ListType>,
    /// Only lists used by these campaigns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaign_ids: Vec<CampaignId>,
}

impl Default for GetListsRequest {
    fn default() -> Self {
        GetListsRequest {
            offset: 0,
            limit: MAX_PAGE_LIMIT,
            keyword: None,
            list_type: None,
            campaign_ids: Vec::new(),
        }
    }
}

impl GetListsRequest {
    /// Lists whose name matches `keyword`.
    pub fn keyword(keyword: impl Into<String>) -> Self {
        GetListsRequest {
            keyword: Some(keyword.into()),
            ..Self::default()
        }
    }
}

/// A custom variable of a lead: `{"name", "value"}`. Names must match `^[A-Za-z0-9_]+$`
/// (§6.5) and are case-sensitive when used as `{{name}}` in message copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    /// Variable name.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub name: String,
    /// Variable value.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub value: String,
}

impl CustomField {
    /// A custom field.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        CustomField {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A lead to add to a list (an item of `leads` in `AddLeadsToListV2`, §6.5).
///
/// HeyReach documents every field as optional, but **silently drops** a lead without
/// `profileUrl`, `firstName` or a non-empty `lastName`; this crate therefore refuses such
/// leads before sending anything (see [`Lists::add_leads`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lead {
    /// First name (required in practice).
    pub first_name: String,
    /// Last name (required in practice, non-empty).
    pub last_name: String,
    /// LinkedIn profile URL; leads are upserted on it.
    pub profile_url: String,
    /// Location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Summary (probably shown back as `headline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Company name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// About text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// Custom variables (read back as `customFields`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_user_fields: Vec<CustomField>,
}

impl Lead {
    /// A lead with the three fields HeyReach needs.
    pub fn new(
        first_name: impl Into<String>,
        last_name: impl Into<String>,
        profile_url: impl Into<String>,
    ) -> Self {
        Lead {
            first_name: first_name.into(),
            last_name: last_name.into(),
            profile_url: profile_url.into(),
            location: None,
            summary: None,
            company_name: None,
            position: None,
            about: None,
            email_address: None,
            custom_user_fields: Vec::new(),
        }
    }
    /// Set the company name.
    pub fn company_name(mut self, v: impl Into<String>) -> Self {
        self.company_name = Some(v.into());
        self
    }
    /// Set the job title.
    pub fn position(mut self, v: impl Into<String>) -> Self {
        self.position = Some(v.into());
        self
    }
    /// Set the email address.
    pub fn email_address(mut self, v: impl Into<String>) -> Self {
        self.email_address = Some(v.into());
        self
    }
    /// Set the location.
    pub fn location(mut self, v: impl Into<String>) -> Self {
        self.location = Some(v.into());
        self
    }
    /// Set the summary.
    pub fn summary(mut self, v: impl Into<String>) -> Self {
        self.summary = Some(v.into());
        self
    }
    /// Set the about text.
    pub fn about(mut self, v: impl Into<String>) -> Self {
        self.about = Some(v.into());
        self
    }
    /// Add a custom variable.
    pub fn custom_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.custom_user_fields.push(CustomField::new(name, value));
        self
    }

    /// Why HeyReach would drop or refuse this lead, if it would.
    pub fn problem(&self) -> Option<String> {
        if self.profile_url.trim().is_empty() {
            return Some("profileUrl is empty".into());
        }
        if self.first_name.trim().is_empty() {
            return Some("firstName is empty".into());
        }
        if self.last_name.trim().is_empty() {
            return Some("lastName is empty".into());
        }
        self.custom_user_fields
            .iter()
            .find(|f| !is_valid_custom_field_name(&f.name))
            .map(|f| format!("custom field name {:?} must match ^[A-Za-z0-9_]+$", f.name))
    }
}

/// Whether a custom field name matches `^[A-Za-z0-9_]+$` (§6.5).
pub(crate) fn is_valid_custom_field_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Body of one `POST /list/AddLeadsToListV2` call (at most [`MAX_LEADS_PER_ADD`] leads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddLeadsRequest {
    /// The list.
    pub list_id: ListId,
    /// The leads, directly (not wrapped in `lead` as for campaigns).
    pub leads: Vec<Lead>,
}

/// What one `AddLeadsToListV2` call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddLeadsResponse {
    /// Leads new to the list.
    #[serde(default)]
    pub added_leads_count: i64,
    /// Leads already in the list (same `profileUrl`), updated.
    #[serde(default)]
    pub updated_leads_count: i64,
    /// Leads HeyReach refused (what counts here is undocumented, §6.5).
    #[serde(default)]
    pub failed_leads_count: i64,
}

/// The sum of the [`AddLeadsResponse`]s of every batch [`Lists::add_leads`] sent.
///
/// `added + updated + failed` can be lower than `leads_sent` when HeyReach silently dropped
/// leads ([`unaccounted`](Self::unaccounted)). A batch retried after a lost answer reports
/// its leads as `updated` the second time (the add is an upsert on `profileUrl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddLeadsSummary {
    /// Sum of `addedLeadsCount`.
    pub added: i64,
    /// Sum of `updatedLeadsCount`.
    pub updated: i64,
    /// Sum of `failedLeadsCount`.
    pub failed: i64,
    /// Batches (calls) that succeeded.
    pub batches: usize,
    /// Leads in those batches.
    pub leads_sent: usize,
}

impl AddLeadsSummary {
    fn absorb(&mut self, r: AddLeadsResponse, leads: usize) {
        self.added += r.added_leads_count;
        self.updated += r.updated_leads_count;
        self.failed += r.failed_leads_count;
        self.batches += 1;
        self.leads_sent += leads;
    }

    /// Leads sent that HeyReach counted nowhere (silently dropped).
    pub fn unaccounted(&self) -> i64 {
        (self.leads_sent as i64 - self.added - self.updated - self.failed).max(0)
    }
}

/// [`Lists::add_leads`] failed part-way: what the batches before the failure did, and the
/// error of the failing batch. Converts into [`Error`] with `?`.
#[derive(Debug, thiserror::Error)]
#[error(
    "heyreach: adding leads to list {list_id} stopped at batch {} (leads {}..{}; {} leads in {} earlier batches went through): {source}",
    .failed_batch + 1, .failed_leads.start, .failed_leads.end, .completed.leads_sent, .completed.batches
)]
pub struct AddLeadsError {
    /// The list.
    pub list_id: ListId,
    /// What the successful batches did.
    pub completed: AddLeadsSummary,
    /// 0-based index of the batch that failed.
    pub failed_batch: usize,
    /// Indices (into the caller's slice) of the leads in the failed batch; leads after it
    /// were not sent.
    pub failed_leads: Range<usize>,
    /// Why the batch failed.
    #[source]
    pub source: Error,
}

impl From<AddLeadsError> for Error {
    fn from(e: AddLeadsError) -> Self {
        e.source
    }
}

/// A lead as `list/GetLeadsFromList` returns it (§6.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListLead {
    /// HeyReach's row id.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    /// LinkedIn member id (null just after a lead is added by URL); the id
    /// [`Lists::delete_leads`] takes.
    #[serde(rename = "linkedin_id", default)]
    pub linkedin_id: Option<LeadMemberId>,
    /// Profile URL.
    #[serde(default)]
    pub profile_url: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Headline.
    #[serde(default)]
    pub headline: Option<String>,
    /// Picture URL.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Company name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// Company URL.
    #[serde(default)]
    pub company_url: Option<String>,
    /// Job title.
    #[serde(default)]
    pub position: Option<String>,
    /// About text.
    #[serde(default)]
    pub about: Option<String>,
    /// Connection count.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub connections: Option<i64>,
    /// Follower count.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub followers: Option<i64>,
    /// Tags (shape not documented).
    #[serde(default, deserialize_with = "null_as_empty_vec")]
    pub tags: Vec<Value>,
    /// Automatic tags (shape not documented).
    #[serde(default, deserialize_with = "null_as_empty_vec")]
    pub auto_tags: Vec<Value>,
    /// Email address.
    #[serde(default)]
    pub email_address: Option<String>,
    /// Email address set by hand.
    #[serde(default)]
    pub custom_email_address: Option<String>,
    /// Email address found by enrichment.
    #[serde(default)]
    pub enriched_email_address: Option<String>,
    /// Custom variables (sent as `customUserFields`).
    #[serde(default, deserialize_with = "null_as_empty_vec")]
    pub custom_fields: Vec<CustomField>,
}

/// Body of `POST /list/GetLeadsFromList`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLeadsRequest {
    /// The list (required).
    pub list_id: ListId,
    /// Items to skip.
    pub offset: u32,
    /// Page size, 1..=1000.
    pub limit: u32,
    /// Free-text filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Only the lead with this profile URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_profile_url: Option<String>,
    /// Only the lead with this LinkedIn member id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_linked_in_id: Option<String>,
    /// Leads added at or after this ISO-8601 instant (offsets allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
    /// Leads added at or before this ISO-8601 instant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_to: Option<String>,
}

impl GetLeadsRequest {
    /// The first 100 leads of `list_id`.
    pub fn new(list_id: ListId) -> Self {
        GetLeadsRequest {
            list_id,
            offset: 0,
            limit: 100,
            keyword: None,
            lead_profile_url: None,
            lead_linked_in_id: None,
            created_from: None,
            created_to: None,
        }
    }
}

/// Response of `DELETE /list/DeleteLeadsFromListByProfileUrl`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteByProfileUrlResponse {
    /// URLs that were not in the list, as the **username** only (`jane-doe`), not the URL.
    #[serde(default, deserialize_with = "null_as_empty_vec")]
    pub not_found_in_list: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeleteLeadsBody<'a> {
    list_id: ListId,
    lead_member_ids: &'a [LeadMemberId],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeleteByUrlBody<'a, S: AsRef<str>> {
    list_id: ListId,
    #[serde(serialize_with = "ser_strs")]
    profile_urls: &'a [S],
}

fn ser_strs<S: serde::Serializer, T: AsRef<str>>(v: &&[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(AsRef::as_ref))
}

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

/// Lead-list operations: `client.lists()`.
#[derive(Debug, Clone, Copy)]
pub struct Lists<'a> {
    client: &'a Client,
}

impl<'a> Lists<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Lists { client }
    }

    /// `POST /list/CreateEmptyList`.
    ///
    /// Never retried once it may have reached HeyReach (HeyReach has no idempotency key and,
    /// as far as is known, allows duplicate names): after an error with
    /// [`Error::may_have_taken_effect`], look the list up with [`find_by_name`](Self::find_by_name).
    pub async fn create(&self, req: &CreateListRequest) -> Result<CreatedList> {
        if req.name.trim().is_empty() {
            return Err(Client::invalid("the list name is empty"));
        }
        self.client
            .core
            .send(
                Request::post("/list/CreateEmptyList")
                    .json(req)
                    .non_idempotent(),
            )
            .await
    }

    /// `POST /list/GetAll`: one page of lists.
    pub async fn get_all(&self, req: &GetListsRequest) -> Result<Page<LeadList>> {
        check_limit(req.limit, MAX_PAGE_LIMIT)?;
        self.client
            .core
            .send(Request::post("/list/GetAll").json(req).idempotent())
            .await
    }

    /// Every list matching `req`'s filters, from `req.offset` on, `req.limit` at a time.
    pub async fn get_all_pages(&self, req: &GetListsRequest) -> Result<Vec<LeadList>> {
        check_limit(req.limit, MAX_PAGE_LIMIT)?;
        collect_pages(req.offset, |offset| {
            let page = GetListsRequest {
                offset,
                ..req.clone()
            };
            async move { self.get_all(&page).await }
        })
        .await
    }

    /// Every list named exactly `name` (case-sensitive), oldest (lowest id) first.
    ///
    /// Searches with `keyword = name` and pages through all matches, then compares names
    /// exactly, since the keyword match is a search, not an equality.
    pub async fn find_all_by_name(&self, name: &str) -> Result<Vec<LeadList>> {
        let mut found: Vec<LeadList> = self
            .get_all_pages(&GetListsRequest::keyword(name))
            .await?
            .into_iter()
            .filter(|l| l.name == name)
            .collect();
        found.sort_by_key(|l| l.id);
        found.dedup_by_key(|l| l.id);
        Ok(found)
    }

    /// The list named exactly `name`, if any; when several have that name (HeyReach does not
    /// seem to enforce unique names), the oldest (lowest id).
    pub async fn find_by_name(&self, name: &str) -> Result<Option<LeadList>> {
        Ok(self.find_all_by_name(name).await?.into_iter().next())
    }

    /// `GET /list/GetById?listId=`.
    pub async fn get(&self, list_id: ListId) -> Result<LeadList> {
        self.client
            .core
            .send(
                Request::get("/list/GetById")
                    .query("listId", list_id)
                    .idempotent(),
            )
            .await
    }

    /// How many leads `list_id` holds (for dashboards): `totalItemsCount` from
    /// [`get`](Self::get), or, if HeyReach leaves it out, the `totalCount` of a one-lead
    /// [`get_leads`](Self::get_leads) page.
    pub async fn lead_count(&self, list_id: ListId) -> Result<i64> {
        if let Some(n) = self.get(list_id).await?.total_items_count {
            return Ok(n.max(0));
        }
        let page = self
            .get_leads(&GetLeadsRequest {
                limit: 1,
                ..GetLeadsRequest::new(list_id)
            })
            .await?;
        Ok(page.total_count.max(0))
    }

    /// `POST /list/GetLeadsFromList`: one page of leads.
    pub async fn get_leads(&self, req: &GetLeadsRequest) -> Result<Page<ListLead>> {
        check_limit(req.limit, MAX_LEADS_PAGE_LIMIT)?;
        self.client
            .core
            .send(
                Request::post("/list/GetLeadsFromList")
                    .json(req)
                    .idempotent(),
            )
            .await
    }

    /// Every lead of `list_id`, 1000 per call.
    pub async fn get_all_leads(&self, list_id: ListId) -> Result<Vec<ListLead>> {
        let base = GetLeadsRequest {
            limit: MAX_LEADS_PAGE_LIMIT,
            ..GetLeadsRequest::new(list_id)
        };
        collect_pages(0, |offset| {
            let page = GetLeadsRequest {
                offset,
                ..base.clone()
            };
            async move { self.get_leads(&page).await }
        })
        .await
    }

    /// One `POST /list/AddLeadsToListV2` call (at most [`MAX_LEADS_PER_ADD`] leads).
    ///
    /// Marked idempotent: HeyReach upserts on `profileUrl`, so sending a batch again after a
    /// lost answer leaves the same list (its leads are then counted as updated).
    pub async fn add_leads_batch(&self, req: &AddLeadsRequest) -> Result<AddLeadsResponse> {
        if req.leads.len() > MAX_LEADS_PER_ADD {
            return Err(Client::invalid(format!(
                "at most {MAX_LEADS_PER_ADD} leads per AddLeadsToListV2 call, got {} (use add_leads to batch)",
                req.leads.len()
            )));
        }
        check_leads(&req.leads, 0)?;
        self.client
            .core
            .send(
                Request::post("/list/AddLeadsToListV2")
                    .json(req)
                    .idempotent(),
            )
            .await
    }

    /// Add any number of leads, in batches of [`MAX_LEADS_PER_ADD`]; see
    /// [`add_leads_in_batches`](Self::add_leads_in_batches).
    pub async fn add_leads(
        &self,
        list_id: ListId,
        leads: &[Lead],
    ) -> Result<AddLeadsSummary, AddLeadsError> {
        self.add_leads_in_batches(list_id, leads, MAX_LEADS_PER_ADD)
            .await
    }

    /// Add any number of leads with `AddLeadsToListV2`, `batch_size` (1..=100) per call, in
    /// order. Some integrators see timeouts on 100-lead batches and use 25.
    ///
    /// Every lead is checked first (non-empty `profileUrl`, `firstName`, `lastName`; custom
    /// field names matching `^[A-Za-z0-9_]+$`): HeyReach silently drops the first kind and
    /// rejects the second, so nothing is sent if any lead fails the check. An empty slice
    /// sends nothing.
    ///
    /// The result sums the counts of every batch ([`AddLeadsSummary`]). If a batch fails, the
    /// error says which leads were in it and what the earlier batches did; re-sending the
    /// same leads is safe (upsert on `profileUrl`).
    pub async fn add_leads_in_batches(
        &self,
        list_id: ListId,
        leads: &[Lead],
        batch_size: usize,
    ) -> Result<AddLeadsSummary, AddLeadsError> {
        let fail = |completed, batch, range: Range<usize>, source| AddLeadsError {
            list_id,
            completed,
            failed_batch: batch,
            failed_leads: range,
            source,
        };
        if batch_size == 0 || batch_size > MAX_LEADS_PER_ADD {
            return Err(fail(
                AddLeadsSummary::default(),
                0,
                0..leads.len(),
                Client::invalid(format!(
                    "batch size must be between 1 and {MAX_LEADS_PER_ADD}, got {batch_size}"
                )),
            ));
        }
        if let Err(e) = check_leads(leads, 0) {
            return Err(fail(AddLeadsSummary::default(), 0, 0..leads.len(), e));
        }
        let mut summary = AddLeadsSummary::default();
        for (i, chunk) in leads.chunks(batch_size).enumerate() {
            let start = i * batch_size;
            let req = AddLeadsRequest {
                list_id,
                leads: chunk.to_vec(),
            };
            match self.add_leads_batch(&req).await {
                Ok(r) => summary.absorb(r, chunk.len()),
                Err(e) => return Err(fail(summary, i, start..start + chunk.len(), e)),
            }
        }
        Ok(summary)
    }

    /// `DELETE /list/DeleteLeadsFromList` (a DELETE with a JSON body). HeyReach answers 200
    /// with an empty body; ids not in the list are ignored (as far as is known).
    pub async fn delete_leads(
        &self,
        list_id: ListId,
        lead_member_ids: &[LeadMemberId],
    ) -> Result<()> {
        let body = DeleteLeadsBody {
            list_id,
            lead_member_ids,
        };
        self.client
            .core
            .send_unit(
                Request::delete("/list/DeleteLeadsFromList")
                    .json(&body)
                    .idempotent(),
            )
            .await
    }

    /// `DELETE /list/DeleteLeadsFromListByProfileUrl`: removes the leads with these profile
    /// URLs; the ones not in the list come back as usernames in `notFoundInList`.
    pub async fn delete_leads_by_profile_url<S: AsRef<str>>(
        &self,
        list_id: ListId,
        profile_urls: &[S],
    ) -> Result<DeleteByProfileUrlResponse> {
        let body = DeleteByUrlBody {
            list_id,
            profile_urls,
        };
        self.client
            .core
            .send(
                Request::delete("/list/DeleteLeadsFromListByProfileUrl")
                    .json(&body)
                    .idempotent(),
            )
            .await
    }
}

fn check_leads(leads: &[Lead], offset: usize) -> Result<()> {
    let bad: Vec<String> = leads
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            l.problem()
                .map(|p| format!("lead #{} ({}): {p}", i + offset, l.profile_url))
        })
        .take(5)
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Client::invalid(format!(
            "leads HeyReach would drop or refuse: {}",
            bad.join("; ")
        )))
    }
}
