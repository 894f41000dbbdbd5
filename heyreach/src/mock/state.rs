//! The simulator's state, routes and handlers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use vendor_http::sim::{Route, RouteMatch, SimRequest, SimResponse, SimVendor};

use super::HeyReachSimConfig;
use super::wire::{
    Reply, business, conversion, int_array, int_field, is_linkedin_profile, iso, json_body, page,
    paging, parse_time, profile_key, query_id, str_array, str_field, username, validation,
};
use crate::lists::is_valid_custom_field_name;
use crate::{
    AccountLimits, AddLeadsResponse, CampaignId, CampaignStatus, CustomField, Lead, LeadList,
    LeadMemberId, LinkedInAccount, LinkedInAccountId, ListId, ListLead, ListType, ProgressStats,
};

/// A workspace (one HeyReach account): every key maps to one, and lists, campaigns and
/// senders belong to one. The keys of [`HeyReachSimConfig::api_keys`] share
/// [`DEFAULT_WORKSPACE`].
pub type WorkspaceId = u32;

/// The workspace of the configured API keys.
pub const DEFAULT_WORKSPACE: WorkspaceId = 1;

/// Route keys (journal keys) of the simulated routes.
pub mod routes {
    /// `GET /auth/CheckApiKey`.
    pub const CHECK_API_KEY: &str = "GET /auth/CheckApiKey";
    /// `POST /list/CreateEmptyList`.
    pub const CREATE_LIST: &str = "POST /list/CreateEmptyList";
    /// `POST /list/GetAll`.
    pub const GET_LISTS: &str = "POST /list/GetAll";
    /// `GET /list/GetById`.
    pub const GET_LIST: &str = "GET /list/GetById";
    /// `POST /list/GetLeadsFromList`.
    pub const GET_LEADS: &str = "POST /list/GetLeadsFromList";
    /// `POST /list/AddLeadsToListV2`.
    pub const ADD_LEADS: &str = "POST /list/AddLeadsToListV2";
    /// `DELETE /list/DeleteLeadsFromList`.
    pub const DELETE_LEADS: &str = "DELETE /list/DeleteLeadsFromList";
    /// `DELETE /list/DeleteLeadsFromListByProfileUrl`.
    pub const DELETE_LEADS_BY_URL: &str = "DELETE /list/DeleteLeadsFromListByProfileUrl";
    /// `POST /li_account/GetAll`.
    pub const GET_ACCOUNTS: &str = "POST /li_account/GetAll";
    /// `GET /li_account/GetById`.
    pub const GET_ACCOUNT: &str = "GET /li_account/GetById";
    /// `POST /campaign/GetAll`.
    pub const GET_CAMPAIGNS: &str = "POST /campaign/GetAll";
    /// `GET /campaign/GetById`.
    pub const GET_CAMPAIGN: &str = "GET /campaign/GetById";
    /// `POST /campaign/StartCampaign`.
    pub const START_CAMPAIGN: &str = "POST /campaign/StartCampaign";
    /// `POST /campaign/Pause`.
    pub const PAUSE_CAMPAIGN: &str = "POST /campaign/Pause";
    /// `POST /campaign/Resume`.
    pub const RESUME_CAMPAIGN: &str = "POST /campaign/Resume";
}

use routes::*;

/// Every route: (method, path, key, simulated?). Routes that exist at HeyReach but are not
/// simulated answer 501 with an `errorMessage` (a wrong method still gets 405, and they are
/// not 404 so tests can tell "exists" from "does not", §10.2).
const ROUTES: &[(&str, &str, &str, bool)] = &[
    ("GET", "/auth/CheckApiKey", CHECK_API_KEY, true),
    ("POST", "/list/CreateEmptyList", CREATE_LIST, true),
    ("POST", "/list/GetAll", GET_LISTS, true),
    ("GET", "/list/GetById", GET_LIST, true),
    ("POST", "/list/GetLeadsFromList", GET_LEADS, true),
    ("POST", "/list/AddLeadsToListV2", ADD_LEADS, true),
    ("DELETE", "/list/DeleteLeadsFromList", DELETE_LEADS, true),
    (
        "DELETE",
        "/list/DeleteLeadsFromListByProfileUrl",
        DELETE_LEADS_BY_URL,
        true,
    ),
    ("POST", "/li_account/GetAll", GET_ACCOUNTS, true),
    ("GET", "/li_account/GetById", GET_ACCOUNT, true),
    ("POST", "/campaign/GetAll", GET_CAMPAIGNS, true),
    ("GET", "/campaign/GetById", GET_CAMPAIGN, true),
    ("POST", "/campaign/StartCampaign", START_CAMPAIGN, true),
    ("POST", "/campaign/Pause", PAUSE_CAMPAIGN, true),
    ("POST", "/campaign/Resume", RESUME_CAMPAIGN, true),
    // Documented routes outside the simulated set.
    (
        "POST",
        "/list/AddLeadsToList",
        "POST /list/AddLeadsToList",
        false,
    ),
    (
        "POST",
        "/list/GetListsForLead",
        "POST /list/GetListsForLead",
        false,
    ),
    (
        "POST",
        "/list/GetCompaniesFromList",
        "POST /list/GetCompaniesFromList",
        false,
    ),
    (
        "POST",
        "/campaign/AddLeadsToCampaign",
        "POST /campaign/AddLeadsToCampaign",
        false,
    ),
    (
        "POST",
        "/campaign/AddLeadsToCampaignV2",
        "POST /campaign/AddLeadsToCampaignV2",
        false,
    ),
    ("POST", "/campaign/Create", "POST /campaign/Create", false),
    (
        "POST",
        "/campaign/UpdateSettings",
        "POST /campaign/UpdateSettings",
        false,
    ),
    (
        "POST",
        "/campaign/UpdateSequence",
        "POST /campaign/UpdateSequence",
        false,
    ),
    (
        "POST",
        "/campaign/UpdateAccounts",
        "POST /campaign/UpdateAccounts",
        false,
    ),
    (
        "POST",
        "/campaign/UpdateSchedule",
        "POST /campaign/UpdateSchedule",
        false,
    ),
    (
        "GET",
        "/campaign/GetCampaignSequence",
        "GET /campaign/GetCampaignSequence",
        false,
    ),
    (
        "POST",
        "/campaign/StopLeadInCampaign",
        "POST /campaign/StopLeadInCampaign",
        false,
    ),
    (
        "POST",
        "/campaign/GetLeadsFromCampaign",
        "POST /campaign/GetLeadsFromCampaign",
        false,
    ),
    (
        "POST",
        "/campaign/GetCampaignsForLead",
        "POST /campaign/GetCampaignsForLead",
        false,
    ),
];

/// Business messages (verbatim from §3 where HeyReach's wording is known).
pub mod messages {
    /// Unknown or foreign list id (wording and status 404 are the simulator's guess).
    pub const LIST_NOT_FOUND: &str = "List not found.";
    /// Unknown campaign id (guess; "campaign not found" pattern, §7.2).
    pub const CAMPAIGN_NOT_FOUND: &str = "Campaign not found.";
    /// Unknown sender id (guess).
    pub const ACCOUNT_NOT_FOUND: &str = "LinkedIn account not found.";
    /// Duplicate list name, when [`super::HeyReachSimConfig::reject_duplicate_list_names`]
    /// is on (guess: HeyReach is not known to check).
    pub const DUPLICATE_LIST_NAME: &str = "A list with this name already exists.";
    /// A custom field name outside `^[A-Za-z0-9_]+$` (wording is a guess, §6.5).
    pub const BAD_CUSTOM_FIELD: &str =
        "Custom user field names can only contain letters, numbers and underscores.";
    /// Pause on a campaign that is not running (verbatim, §3).
    pub const CANNOT_PAUSE: &str = "You cannot pause an inactive campaign.";
    /// Resume on a campaign that is not paused, finished or failed (verbatim, §3).
    pub const CANNOT_RESUME: &str =
        "The campaign you are trying to resume is not paused, finished or failed.";
    /// Start on a campaign that is not a draft (guess).
    pub const CANNOT_START: &str = "Only a draft campaign can be started.";
}

use messages::*;

pub(crate) struct ListRec {
    pub(crate) id: i64,
    pub(crate) workspace: WorkspaceId,
    pub(crate) name: String,
    pub(crate) list_type: ListType,
    pub(crate) created: DateTime<Utc>,
    pub(crate) leads: Vec<LeadRec>,
}

pub(crate) struct LeadRec {
    row_id: i64,
    member_id: String,
    member_id_visible_at: Instant,
    key: String,
    lead: Lead,
    added: DateTime<Utc>,
}

impl LeadRec {
    fn member_id_now(&self, now: Instant) -> Option<&str> {
        (now >= self.member_id_visible_at).then_some(self.member_id.as_str())
    }

    fn to_list_lead(&self, now: Instant) -> ListLead {
        let l = &self.lead;
        ListLead {
            id: Some(self.row_id),
            linkedin_id: self.member_id_now(now).map(LeadMemberId::from),
            profile_url: Some(l.profile_url.clone()),
            first_name: Some(l.first_name.clone()),
            last_name: Some(l.last_name.clone()),
            headline: l.summary.clone(),
            image_url: None,
            location: l.location.clone(),
            company_name: l.company_name.clone(),
            company_url: None,
            position: l.position.clone(),
            about: l.about.clone(),
            connections: None,
            followers: None,
            tags: Vec::new(),
            auto_tags: Vec::new(),
            email_address: l.email_address.clone(),
            custom_email_address: None,
            enriched_email_address: None,
            custom_fields: l.custom_user_fields.clone(),
        }
    }
}

pub(crate) struct CampaignRec {
    pub(crate) id: i64,
    pub(crate) workspace: WorkspaceId,
    pub(crate) name: String,
    status: CampaignStatus,
    created: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    list_id: Option<i64>,
    account_ids: Vec<i64>,
    progress: ProgressStats,
    /// STARTING until then, IN_PROGRESS after (checked on read).
    starting_until: Option<Instant>,
}

impl CampaignRec {
    fn settle(&mut self, now: Instant) {
        if let Some(until) = self.starting_until
            && now >= until
        {
            self.starting_until = None;
            if self.status == CampaignStatus::Starting {
                self.status = CampaignStatus::InProgress;
            }
        }
    }
}

struct AccountRec {
    workspace: WorkspaceId,
    account: LinkedInAccount,
}

pub(crate) struct Inner {
    keys: HashMap<String, WorkspaceId>,
    next_workspace: WorkspaceId,
    next_list_id: i64,
    next_campaign_id: i64,
    next_account_id: i64,
    next_row_id: i64,
    next_member_id: i64,
    pub(crate) lists: BTreeMap<i64, ListRec>,
    pub(crate) campaigns: BTreeMap<i64, CampaignRec>,
    accounts: BTreeMap<i64, AccountRec>,
    /// Lists created through the API (not seeded), in order.
    pub(crate) created_log: Vec<(ListId, String)>,
    reject_duplicate_list_names: bool,
    member_id_delay: Duration,
    campaign_start_delay: Duration,
}

/// The simulated HeyReach backend: every workspace, list, lead, sender and campaign.
/// Seeding and inspection helpers live here (and are reachable from
/// [`HeyReachSim`](super::HeyReachSim) through `Deref`).
pub struct HeyReachState {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for HeyReachState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = self.lock();
        f.debug_struct("HeyReachState")
            .field("keys", &g.keys.len())
            .field("lists", &g.lists.len())
            .field("campaigns", &g.campaigns.len())
            .field("accounts", &g.accounts.len())
            .finish()
    }
}

impl HeyReachState {
    pub(crate) fn new(config: &HeyReachSimConfig) -> Self {
        let keys = config
            .api_keys
            .iter()
            .map(|k| (k.clone(), DEFAULT_WORKSPACE))
            .collect();
        HeyReachState {
            inner: Mutex::new(Inner {
                keys,
                next_workspace: DEFAULT_WORKSPACE + 1,
                next_list_id: 188_201,
                next_campaign_id: 274_001,
                next_account_id: 71_101,
                next_row_id: 5_501,
                next_member_id: 700_000_001,
                lists: BTreeMap::new(),
                campaigns: BTreeMap::new(),
                accounts: BTreeMap::new(),
                created_log: Vec::new(),
                reject_duplicate_list_names: config.reject_duplicate_list_names,
                member_id_delay: config.member_id_delay,
                campaign_start_delay: config.campaign_start_delay,
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn workspace_of(&self, req: &SimRequest) -> WorkspaceId {
        req.api_key
            .as_deref()
            .and_then(|k| self.lock().keys.get(k).copied())
            .unwrap_or(DEFAULT_WORKSPACE)
    }

    // ----- keys and workspaces ------------------------------------------------------------

    /// Accept `key` for `workspace` (e.g. a second key of the same account).
    pub fn add_api_key(&self, key: impl Into<String>, workspace: WorkspaceId) {
        self.lock().keys.insert(key.into(), workspace);
    }

    /// A new, empty workspace reached with `key` (its lists are invisible to other keys).
    pub fn add_workspace(&self, key: impl Into<String>) -> WorkspaceId {
        let mut g = self.lock();
        let ws = g.next_workspace;
        g.next_workspace += 1;
        g.keys.insert(key.into(), ws);
        ws
    }

    /// Deactivate a key: it gets 401 from now on.
    pub fn revoke_api_key(&self, key: &str) -> bool {
        self.lock().keys.remove(key).is_some()
    }

    // ----- seeding ---------------------------------------------------------------------

    /// A list in the default workspace, without a journal entry.
    pub fn seed_list(&self, name: &str, list_type: ListType) -> ListId {
        self.seed_list_in(DEFAULT_WORKSPACE, name, list_type)
    }

    /// A list in `workspace`.
    pub fn seed_list_in(&self, workspace: WorkspaceId, name: &str, list_type: ListType) -> ListId {
        let mut g = self.lock();
        g.insert_list(workspace, name, list_type)
    }

    /// Upsert leads into a list as `AddLeadsToListV2` would (silent drops included), or
    /// `None` if there is no such list.
    pub fn seed_leads(&self, list_id: ListId, leads: &[Lead]) -> Option<AddLeadsResponse> {
        let mut g = self.lock();
        let delay = g.member_id_delay;
        let mut counters = (g.next_row_id, g.next_member_id);
        let list = g.lists.get_mut(&list_id.0)?;
        let r = upsert_leads(list, leads, delay, &mut counters);
        (g.next_row_id, g.next_member_id) = counters;
        Some(r)
    }

    /// A sender in the default workspace (active, valid session, default limits).
    pub fn seed_linkedin_account(
        &self,
        first_name: &str,
        last_name: &str,
        email: &str,
    ) -> LinkedInAccountId {
        let username = format!("{}-{}", first_name, last_name).to_ascii_lowercase();
        self.seed_linkedin_account_raw(
            DEFAULT_WORKSPACE,
            LinkedInAccount {
                id: LinkedInAccountId(0),
                email_address: Some(email.to_string()),
                first_name: Some(first_name.to_string()),
                last_name: Some(last_name.to_string()),
                profile_url: Some(format!("https://www.linkedin.com/in/{username}")),
                is_active: Some(true),
                active_campaigns: Some(0),
                auth_is_valid: Some(true),
                is_valid_navigator: Some(false),
                is_valid_recruiter: Some(false),
                connection_request_cooldown: Some(false),
                connection_note_cooldown: Some(false),
                in_mail_cooldown: Some(false),
                search_cooldown: Some(false),
                account_limits: Some(AccountLimits {
                    connection_request_limit: Some(25),
                    connection_request_max: Some(40),
                    message_limit: Some(40),
                    message_limit_max: Some(40),
                    in_mail_limit: Some(0),
                    in_mail_limit_max: Some(0),
                    profile_view_limit: Some(40),
                    profile_view_limit_max: Some(40),
                    follow_limit: Some(40),
                    follow_limit_max: Some(40),
                    post_like_limit: Some(40),
                    post_like_limit_max: Some(40),
                }),
            },
        )
    }

    /// A sender exactly as given, in `workspace`; an id of 0 gets a fresh one.
    pub fn seed_linkedin_account_raw(
        &self,
        workspace: WorkspaceId,
        mut account: LinkedInAccount,
    ) -> LinkedInAccountId {
        let mut g = self.lock();
        if account.id.0 == 0 {
            account.id = LinkedInAccountId(g.next_account_id);
        }
        g.next_account_id = g.next_account_id.max(account.id.0 + 1);
        let id = account.id;
        g.accounts.insert(id.0, AccountRec { workspace, account });
        id
    }

    /// A campaign in the default workspace.
    pub fn seed_campaign(&self, seed: SeedCampaign) -> CampaignId {
        let mut g = self.lock();
        let id = g.next_campaign_id;
        g.next_campaign_id += 1;
        let started_at = (!matches!(seed.status, CampaignStatus::Draft)).then(Utc::now);
        g.campaigns.insert(
            id,
            CampaignRec {
                id,
                workspace: seed.workspace,
                name: seed.name,
                status: seed.status,
                created: Utc::now(),
                started_at,
                list_id: seed.list_id.map(|l| l.0),
                account_ids: seed.account_ids.iter().map(|a| a.0).collect(),
                progress: seed.progress,
                starting_until: None,
            },
        );
        CampaignId(id)
    }

    /// Force a campaign's status (e.g. FINISHED), as time or the UI would.
    pub fn set_campaign_status(&self, id: CampaignId, status: CampaignStatus) -> bool {
        let mut g = self.lock();
        match g.campaigns.get_mut(&id.0) {
            Some(c) => {
                c.status = status;
                c.starting_until = None;
                true
            }
            None => false,
        }
    }

    // ----- inspection ------------------------------------------------------------------

    /// Every list of every workspace, oldest first, as `GetById` would show it.
    pub fn lists(&self) -> Vec<LeadList> {
        let g = self.lock();
        g.lists.values().map(|l| g.list_view(l)).collect()
    }

    /// One list.
    pub fn list(&self, id: ListId) -> Option<LeadList> {
        let g = self.lock();
        g.lists.get(&id.0).map(|l| g.list_view(l))
    }

    /// The lists named exactly `name`, oldest first.
    pub fn lists_named(&self, name: &str) -> Vec<LeadList> {
        let g = self.lock();
        g.lists
            .values()
            .filter(|l| l.name == name)
            .map(|l| g.list_view(l))
            .collect()
    }

    /// How many leads a list holds.
    pub fn lead_count(&self, id: ListId) -> Option<usize> {
        self.lock().lists.get(&id.0).map(|l| l.leads.len())
    }

    /// The leads of a list, in the order they were added, as `GetLeadsFromList` shows them.
    pub fn leads(&self, id: ListId) -> Vec<ListLead> {
        let now = Instant::now();
        self.lock()
            .lists
            .get(&id.0)
            .map(|l| l.leads.iter().map(|r| r.to_list_lead(now)).collect())
            .unwrap_or_default()
    }

    /// The LinkedIn member id a lead got (even while HeyReach still shows it as null).
    pub fn member_id_of(&self, list: ListId, profile_url: &str) -> Option<LeadMemberId> {
        let key = profile_key(profile_url);
        self.lock().lists.get(&list.0).and_then(|l| {
            l.leads
                .iter()
                .find(|r| r.key == key)
                .map(|r| LeadMemberId::from(r.member_id.as_str()))
        })
    }

    /// Every campaign, as `GetById` would show it.
    pub fn campaigns(&self) -> Vec<crate::Campaign> {
        let now = Instant::now();
        let mut g = self.lock();
        g.campaigns.values_mut().for_each(|c| c.settle(now));
        g.campaigns.values().map(|c| g.campaign_view(c)).collect()
    }

    /// One campaign.
    pub fn campaign(&self, id: CampaignId) -> Option<crate::Campaign> {
        let now = Instant::now();
        let mut g = self.lock();
        let c = g.campaigns.get_mut(&id.0)?;
        c.settle(now);
        let c = g.campaigns.get(&id.0)?;
        Some(g.campaign_view(c))
    }

    /// Every sender.
    pub fn linkedin_accounts(&self) -> Vec<LinkedInAccount> {
        let g = self.lock();
        g.accounts.values().map(|a| g.account_view(a)).collect()
    }

    /// How many lists were created through the API (seeded ones excluded).
    pub fn lists_created(&self) -> usize {
        self.lock().created_log.len()
    }

    /// How many lists named exactly `name` were created through the API.
    pub fn lists_created_named(&self, name: &str) -> usize {
        self.lock()
            .created_log
            .iter()
            .filter(|(_, n)| n == name)
            .count()
    }

    // ----- handlers --------------------------------------------------------------------

    fn create_list(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let body = json_body(req)?;
        let name = str_field(body, "name")?
            .unwrap_or_default()
            .trim()
            .to_string();
        if name.is_empty() {
            return Err(validation("Name", "The Name field is required."));
        }
        let list_type = match str_field(body, "type")? {
            None | Some("") => ListType::UserList,
            Some(t) => match ListType::from(t.to_ascii_uppercase()) {
                ListType::Other(_) => return Err(conversion("type", "HeyReach.ListType")),
                known => known,
            },
        };
        let mut g = self.lock();
        if g.reject_duplicate_list_names
            && g.lists
                .values()
                .any(|l| l.workspace == ws && l.name.eq_ignore_ascii_case(&name))
        {
            return Err(business(400, DUPLICATE_LIST_NAME));
        }
        let id = g.insert_list(ws, &name, list_type);
        g.created_log.push((id, name));
        let l = &g.lists[&id.0];
        Ok(SimResponse::ok(json!({
            "id": l.id,
            "name": l.name,
            "count": 0,
            "listType": l.list_type,
            "creationTime": iso(l.created),
            "isDeleted": false,
            "campaigns": null,
            "search": null,
            "status": "UNKNOWN",
        })))
    }

    fn get_lists(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let body = json_body(req)?;
        let (offset, limit) = paging(body, 100)?;
        let keyword = str_field(body, "keyword")?.map(str::to_lowercase);
        let list_type = match str_field(body, "listType")? {
            None | Some("") => None,
            Some(t) => match ListType::from(t.to_ascii_uppercase()) {
                ListType::Other(_) => return Err(conversion("listType", "HeyReach.ListType")),
                known => Some(known),
            },
        };
        let campaign_ids: HashSet<i64> = int_array(body, "campaignIds")?.into_iter().collect();
        let g = self.lock();
        // Newest first (HeyReach's order is unknown, §5; ids grow with creation time).
        let items: Vec<Value> = g
            .lists
            .values()
            .rev()
            .filter(|l| l.workspace == ws)
            .filter(|l| {
                keyword
                    .as_deref()
                    .is_none_or(|k| l.name.to_lowercase().contains(k))
            })
            .filter(|l| list_type.as_ref().is_none_or(|t| &l.list_type == t))
            .map(|l| g.list_view(l))
            .filter(|l| {
                campaign_ids.is_empty()
                    || l.campaign_ids.iter().any(|c| campaign_ids.contains(&c.0))
            })
            .map(|l| serde_json::to_value(l).unwrap_or_default())
            .collect();
        Ok(page(items, offset, limit))
    }

    fn get_list(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let id = query_id(req, "listId")?;
        let g = self.lock();
        let l = g.list_in(ws, id)?;
        Ok(SimResponse::ok(
            serde_json::to_value(g.list_view(l)).unwrap_or_default(),
        ))
    }

    fn get_leads(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let body = json_body(req)?;
        let list_id = int_field(body, "listId")?
            .ok_or_else(|| validation("ListId", "The ListId field is required."))?;
        let (offset, limit) = paging(body, 1000)?;
        let keyword = str_field(body, "keyword")?
            .map(str::to_lowercase)
            .filter(|k| !k.is_empty());
        let url = str_field(body, "leadProfileUrl")?
            .filter(|u| !u.is_empty())
            .map(profile_key);
        let member = str_field(body, "leadLinkedInId")?.filter(|m| !m.is_empty());
        let time = |name: &str| -> Reply<Option<DateTime<Utc>>> {
            match str_field(body, name)? {
                None | Some("") => Ok(None),
                Some(s) => parse_time(s)
                    .map(Some)
                    .ok_or_else(|| conversion(name, "System.Nullable`1[System.DateTime]")),
            }
        };
        let from = time("createdFrom")?;
        let to = time("createdTo")?;
        let now = Instant::now();
        let g = self.lock();
        let list = g.list_in(ws, list_id)?;
        let items: Vec<Value> = list
            .leads
            .iter()
            .rev()
            .filter(|r| url.as_ref().is_none_or(|u| &r.key == u))
            .filter(|r| member.is_none_or(|m| r.member_id_now(now) == Some(m)))
            .filter(|r| from.is_none_or(|f| r.added >= f) && to.is_none_or(|t| r.added <= t))
            .filter(|r| {
                keyword.as_deref().is_none_or(|k| {
                    let l = &r.lead;
                    [
                        Some(&l.first_name),
                        Some(&l.last_name),
                        l.company_name.as_ref(),
                        l.position.as_ref(),
                        l.email_address.as_ref(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|s| s.to_lowercase().contains(k))
                        || format!("{} {}", l.first_name, l.last_name)
                            .to_lowercase()
                            .contains(k)
                })
            })
            .map(|r| serde_json::to_value(r.to_list_lead(now)).unwrap_or_default())
            .collect();
        Ok(page(items, offset, limit))
    }

    fn add_leads(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let body = json_body(req)?;
        let list_id = int_field(body, "listId")?.unwrap_or(0);
        let raw = match super::wire::field(body, "leads") {
            None | Some(Value::Null) => {
                return Err(validation("Leads", "The Leads field is required."));
            }
            Some(Value::Array(a)) => a,
            Some(_) => return Err(conversion("leads", "HeyReach.LeadDto[]")),
        };
        if raw.len() > crate::MAX_LEADS_PER_ADD {
            return Err(validation(
                "Leads",
                format!(
                    "The field Leads must be a string or array type with a maximum length of '{}'.",
                    crate::MAX_LEADS_PER_ADD
                ),
            ));
        }
        let mut leads = Vec::with_capacity(raw.len());
        for (i, item) in raw.iter().enumerate() {
            if let Some(lead) = parse_lead(item, i)? {
                leads.push(lead);
            }
        }
        if leads
            .iter()
            .flat_map(|l| &l.custom_user_fields)
            .any(|f| !is_valid_custom_field_name(&f.name))
        {
            return Err(business(400, BAD_CUSTOM_FIELD));
        }
        let mut g = self.lock();
        g.list_in(ws, list_id)?;
        let delay = g.member_id_delay;
        let mut counters = (g.next_row_id, g.next_member_id);
        let list = g.lists.get_mut(&list_id).expect("checked above");
        let r = upsert_leads(list, &leads, delay, &mut counters);
        (g.next_row_id, g.next_member_id) = counters;
        Ok(SimResponse::ok(serde_json::to_value(r).unwrap_or_default()))
    }

    fn delete_leads(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let body = json_body(req)?;
        let list_id = int_field(body, "listId")?.unwrap_or(0);
        let ids: HashSet<String> = str_array(body, "leadMemberIds")?
            .ok_or_else(|| validation("LeadMemberIds", "The LeadMemberIds field is required."))?
            .into_iter()
            .collect();
        let mut g = self.lock();
        g.list_in(ws, list_id)?;
        let list = g.lists.get_mut(&list_id).expect("checked above");
        // Unknown ids are ignored (HeyReach's behaviour is unknown, §6.6).
        list.leads.retain(|r| !ids.contains(&r.member_id));
        Ok(SimResponse::empty(200))
    }

    fn delete_leads_by_url(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let body = json_body(req)?;
        let list_id = int_field(body, "listId")?.unwrap_or(0);
        let urls = str_array(body, "profileUrls")?
            .ok_or_else(|| validation("ProfileUrls", "The ProfileUrls field is required."))?;
        let mut g = self.lock();
        g.list_in(ws, list_id)?;
        let list = g.lists.get_mut(&list_id).expect("checked above");
        let mut not_found = Vec::new();
        for url in &urls {
            let key = profile_key(url);
            let before = list.leads.len();
            list.leads.retain(|r| r.key != key);
            if list.leads.len() == before {
                not_found.push(username(url));
            }
        }
        Ok(SimResponse::ok(json!({ "notFoundInList": not_found })))
    }

    fn get_accounts(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let body = json_body(req)?;
        let (offset, limit) = paging(body, 100)?;
        let keyword = str_field(body, "keyword")?
            .map(str::to_lowercase)
            .filter(|k| !k.is_empty());
        let g = self.lock();
        let items: Vec<Value> = g
            .accounts
            .values()
            .rev()
            .filter(|a| a.workspace == ws)
            .filter(|a| {
                keyword.as_deref().is_none_or(|k| {
                    let x = &a.account;
                    [&x.first_name, &x.last_name, &x.email_address]
                        .into_iter()
                        .flatten()
                        .any(|s| s.to_lowercase().contains(k))
                })
            })
            .map(|a| serde_json::to_value(g.account_view(a)).unwrap_or_default())
            .collect();
        Ok(page(items, offset, limit))
    }

    fn get_account(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let id = query_id(req, "accountId")?;
        let g = self.lock();
        match g.accounts.get(&id).filter(|a| a.workspace == ws) {
            Some(a) => Ok(SimResponse::ok(
                serde_json::to_value(g.account_view(a)).unwrap_or_default(),
            )),
            None => Err(business(404, ACCOUNT_NOT_FOUND)),
        }
    }

    fn get_campaigns(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let body = json_body(req)?;
        let (offset, limit) = paging(body, 100)?;
        let keyword = str_field(body, "keyword")?
            .map(str::to_lowercase)
            .filter(|k| !k.is_empty());
        let statuses = str_array(body, "statuses")?
            .unwrap_or_default()
            .into_iter()
            .map(|s| match CampaignStatus::from(s.to_ascii_uppercase()) {
                CampaignStatus::Other(_) => {
                    Err(conversion("statuses", "HeyReach.CampaignStatus[]"))
                }
                known => Ok(known),
            })
            .collect::<Reply<Vec<_>>>()?;
        let accounts: HashSet<i64> = int_array(body, "accountIds")?.into_iter().collect();
        let now = Instant::now();
        let mut g = self.lock();
        g.campaigns.values_mut().for_each(|c| c.settle(now));
        let items: Vec<Value> = g
            .campaigns
            .values()
            .rev()
            .filter(|c| c.workspace == ws)
            .filter(|c| {
                keyword
                    .as_deref()
                    .is_none_or(|k| c.name.to_lowercase().contains(k))
            })
            .filter(|c| statuses.is_empty() || statuses.contains(&c.status))
            .filter(|c| accounts.is_empty() || c.account_ids.iter().any(|a| accounts.contains(a)))
            .map(|c| serde_json::to_value(g.campaign_view(c)).unwrap_or_default())
            .collect();
        Ok(page(items, offset, limit))
    }

    fn get_campaign(&self, ws: WorkspaceId, req: &SimRequest) -> Reply<SimResponse> {
        let id = query_id(req, "campaignId")?;
        let now = Instant::now();
        let mut g = self.lock();
        let c = g.campaign_in(ws, id)?;
        c.settle(now);
        let c = &g.campaigns[&id];
        Ok(SimResponse::ok(
            serde_json::to_value(g.campaign_view(c)).unwrap_or_default(),
        ))
    }

    fn campaign_action(
        &self,
        ws: WorkspaceId,
        route: &str,
        req: &SimRequest,
    ) -> Reply<SimResponse> {
        let id = query_id(req, "campaignId")?;
        let now = Instant::now();
        let mut g = self.lock();
        let delay = g.campaign_start_delay;
        let c = g.campaign_in(ws, id)?;
        c.settle(now);
        use CampaignStatus as S;
        match route {
            START_CAMPAIGN => {
                if c.status != S::Draft {
                    return Err(business(400, CANNOT_START));
                }
                c.started_at = Some(Utc::now());
                if delay.is_zero() {
                    c.status = S::InProgress;
                } else {
                    c.status = S::Starting;
                    c.starting_until = Some(now + delay);
                }
            }
            PAUSE_CAMPAIGN => {
                if !matches!(c.status, S::InProgress | S::Starting) {
                    return Err(business(400, CANNOT_PAUSE));
                }
                c.status = S::Paused;
                c.starting_until = None;
            }
            _ => {
                if !matches!(c.status, S::Paused | S::Finished | S::Failed) {
                    return Err(business(400, CANNOT_RESUME));
                }
                c.status = S::InProgress;
            }
        }
        Ok(SimResponse::empty(200))
    }
}

impl Inner {
    fn insert_list(&mut self, workspace: WorkspaceId, name: &str, list_type: ListType) -> ListId {
        let id = self.next_list_id;
        self.next_list_id += 1;
        self.lists.insert(
            id,
            ListRec {
                id,
                workspace,
                name: name.to_string(),
                list_type,
                created: Utc::now(),
                leads: Vec::new(),
            },
        );
        ListId(id)
    }

    fn list_in(&self, ws: WorkspaceId, id: i64) -> Reply<&ListRec> {
        self.lists
            .get(&id)
            .filter(|l| l.workspace == ws)
            .ok_or_else(|| business(404, LIST_NOT_FOUND))
    }

    fn campaign_in(&mut self, ws: WorkspaceId, id: i64) -> Reply<&mut CampaignRec> {
        self.campaigns
            .get_mut(&id)
            .filter(|c| c.workspace == ws)
            .ok_or_else(|| business(404, CAMPAIGN_NOT_FOUND))
    }

    fn list_view(&self, l: &ListRec) -> LeadList {
        LeadList {
            id: ListId(l.id),
            name: l.name.clone(),
            total_items_count: Some(l.leads.len() as i64),
            list_type: Some(l.list_type.clone()),
            creation_time: Some(iso(l.created)),
            campaign_ids: self
                .campaigns
                .values()
                .filter(|c| c.list_id == Some(l.id))
                .map(|c| CampaignId(c.id))
                .collect(),
        }
    }

    fn campaign_view(&self, c: &CampaignRec) -> crate::Campaign {
        let list = c.list_id.and_then(|id| self.lists.get(&id));
        let mut progress = c.progress;
        if progress.total_users.is_none() {
            progress.total_users = Some(list.map_or(0, |l| l.leads.len() as i64));
        }
        crate::Campaign {
            id: CampaignId(c.id),
            name: Some(c.name.clone()),
            creation_time: Some(iso(c.created)),
            started_at: c.started_at.map(iso),
            status: Some(c.status.clone()),
            linked_in_user_list_id: c.list_id.map(ListId),
            linked_in_user_list_name: list.map(|l| l.name.clone()),
            campaign_account_ids: c
                .account_ids
                .iter()
                .copied()
                .map(LinkedInAccountId)
                .collect(),
            progress_stats: Some(progress),
            exclude_in_other_campaigns: Some(false),
            exclude_has_other_acc_conversations: Some(false),
            exclude_contacted_from_sender_in_other_campaign: Some(false),
            exclude_list_id: None,
            organization_unit_id: Some(i64::from(c.workspace)),
            exclude_already_messaged_global: None,
            exclude_already_messaged_campaign_accounts: None,
            exclude_first_connection_campaign_accounts: None,
            exclude_first_connection_global: None,
            exclude_no_profile_picture: None,
        }
    }

    fn account_view(&self, a: &AccountRec) -> LinkedInAccount {
        let mut acc = a.account.clone();
        let active = self
            .campaigns
            .values()
            .filter(|c| {
                c.account_ids.contains(&acc.id.0)
                    && matches!(
                        c.status,
                        CampaignStatus::InProgress | CampaignStatus::Starting
                    )
            })
            .count();
        acc.active_campaigns = Some(active as i64);
        acc
    }
}

/// Parse one item of `leads[]`: `Ok(None)` for a lead HeyReach silently drops (missing
/// `profileUrl`/`firstName`/`lastName`, or not an object), an error for a JSON type that
/// cannot bind.
fn parse_lead(item: &Value, index: usize) -> Reply<Option<Lead>> {
    let Value::Object(obj) = item else {
        return Err(conversion(&format!("leads[{index}]"), "HeyReach.LeadDto"));
    };
    let s = |name: &str| -> Reply<Option<String>> {
        str_field(obj, name)
            .map(|v| v.map(str::to_string))
            .map_err(|_| conversion(&format!("leads[{index}].{name}"), "System.String"))
    };
    let (Some(first), Some(last), Some(url)) = (s("firstName")?, s("lastName")?, s("profileUrl")?)
    else {
        return Ok(None);
    };
    if first.trim().is_empty() || last.trim().is_empty() || url.trim().is_empty() {
        return Ok(None);
    }
    let custom = match super::wire::field(obj, "customUserFields") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value::<Vec<CustomField>>(v.clone()).map_err(|_| {
            conversion(
                &format!("leads[{index}].customUserFields"),
                "HeyReach.CustomUserField[]",
            )
        })?,
    };
    Ok(Some(Lead {
        first_name: first,
        last_name: last,
        profile_url: url,
        location: s("location")?,
        summary: s("summary")?,
        company_name: s("companyName")?,
        position: s("position")?,
        about: s("about")?,
        email_address: s("emailAddress")?,
        custom_user_fields: custom,
    }))
}

/// Upsert on the normalised profile URL; every dropped lead is counted nowhere, a URL that
/// is not a LinkedIn profile counts as failed (HeyReach's rule for `failedLeadsCount` is
/// unknown, §6.5: this is the simulator's choice).
fn upsert_leads(
    list: &mut ListRec,
    leads: &[Lead],
    member_id_delay: Duration,
    (next_row, next_member): &mut (i64, i64),
) -> AddLeadsResponse {
    let mut r = AddLeadsResponse::default();
    let now = Instant::now();
    for lead in leads {
        if lead.problem().is_some() {
            continue;
        }
        if !is_linkedin_profile(&lead.profile_url) {
            r.failed_leads_count += 1;
            continue;
        }
        let key = profile_key(&lead.profile_url);
        if let Some(existing) = list.leads.iter_mut().find(|x| x.key == key) {
            merge_lead(&mut existing.lead, lead);
            r.updated_leads_count += 1;
        } else {
            list.leads.push(LeadRec {
                row_id: *next_row,
                member_id: next_member.to_string(),
                member_id_visible_at: now + member_id_delay,
                key,
                lead: lead.clone(),
                added: Utc::now(),
            });
            *next_row += 1;
            *next_member += 1;
            r.added_leads_count += 1;
        }
    }
    r
}

/// An update overwrites the fields sent and merges custom fields by name.
fn merge_lead(old: &mut Lead, new: &Lead) {
    old.first_name.clone_from(&new.first_name);
    old.last_name.clone_from(&new.last_name);
    old.profile_url.clone_from(&new.profile_url);
    for (o, n) in [
        (&mut old.location, &new.location),
        (&mut old.summary, &new.summary),
        (&mut old.company_name, &new.company_name),
        (&mut old.position, &new.position),
        (&mut old.about, &new.about),
        (&mut old.email_address, &new.email_address),
    ] {
        if n.is_some() {
            o.clone_from(n);
        }
    }
    for f in &new.custom_user_fields {
        match old.custom_user_fields.iter_mut().find(|o| o.name == f.name) {
            Some(o) => o.value.clone_from(&f.value),
            None => old.custom_user_fields.push(f.clone()),
        }
    }
}

/// A campaign to seed.
#[derive(Debug, Clone)]
pub struct SeedCampaign {
    /// Name.
    pub name: String,
    /// Status (default DRAFT).
    pub status: CampaignStatus,
    /// The lead list it runs on.
    pub list_id: Option<ListId>,
    /// Sender accounts.
    pub account_ids: Vec<LinkedInAccountId>,
    /// Counters (a missing `totalUsers` shows the list's lead count).
    pub progress: ProgressStats,
    /// Workspace (default [`DEFAULT_WORKSPACE`]).
    pub workspace: WorkspaceId,
}

impl SeedCampaign {
    /// A DRAFT campaign with no list or sender.
    pub fn new(name: impl Into<String>) -> Self {
        SeedCampaign {
            name: name.into(),
            status: CampaignStatus::Draft,
            list_id: None,
            account_ids: Vec::new(),
            progress: ProgressStats::default(),
            workspace: DEFAULT_WORKSPACE,
        }
    }
    /// Set the status.
    pub fn status(mut self, status: CampaignStatus) -> Self {
        self.status = status;
        self
    }
    /// Bind to a list.
    pub fn list(mut self, list: ListId) -> Self {
        self.list_id = Some(list);
        self
    }
    /// Add a sender.
    pub fn account(mut self, account: LinkedInAccountId) -> Self {
        self.account_ids.push(account);
        self
    }
}

impl SimVendor for HeyReachState {
    const NAME: &'static str = crate::VENDOR;
    const BASE_PATH: &'static str = "/api/public";
    const KEY_HEADER: &'static str = crate::API_KEY_HEADER;

    fn route(&self, method: &str, path: &str) -> RouteMatch {
        // ASP.NET routing ignores case and a trailing slash.
        let path = path.trim_end_matches('/');
        let mut exists = false;
        for (m, p, key, _) in ROUTES {
            if p.eq_ignore_ascii_case(path) {
                if *m == method {
                    return RouteMatch::Found(Route::new(key));
                }
                exists = true;
            }
        }
        if exists {
            RouteMatch::WrongMethod
        } else {
            RouteMatch::NotFound
        }
    }

    fn authenticate(&self, req: &SimRequest) -> Option<SimResponse> {
        // 401 with an empty body: HeyReach's 401 body is unknown (§2); this is our choice.
        match req.api_key.as_deref() {
            Some(k) if self.lock().keys.contains_key(k) => None,
            _ => Some(SimResponse::empty(401)),
        }
    }

    fn handle(&self, route: Route, req: &SimRequest) -> SimResponse {
        let ws = self.workspace_of(req);
        let result = match route.key {
            CHECK_API_KEY => Ok(SimResponse::empty(200)),
            CREATE_LIST => self.create_list(ws, req),
            GET_LISTS => self.get_lists(ws, req),
            GET_LIST => self.get_list(ws, req),
            GET_LEADS => self.get_leads(ws, req),
            ADD_LEADS => self.add_leads(ws, req),
            DELETE_LEADS => self.delete_leads(ws, req),
            DELETE_LEADS_BY_URL => self.delete_leads_by_url(ws, req),
            GET_ACCOUNTS => self.get_accounts(ws, req),
            GET_ACCOUNT => self.get_account(ws, req),
            GET_CAMPAIGNS => self.get_campaigns(ws, req),
            GET_CAMPAIGN => self.get_campaign(ws, req),
            START_CAMPAIGN | PAUSE_CAMPAIGN | RESUME_CAMPAIGN => {
                self.campaign_action(ws, route.key, req)
            }
            other => Ok(business(
                501,
                &format!("{other} exists at HeyReach but is not simulated"),
            )),
        };
        result.unwrap_or_else(|e| e)
    }

    fn error_body(&self, _status: u16, message: &str) -> Value {
        let mut m = Map::new();
        m.insert("errorMessage".into(), Value::String(message.into()));
        Value::Object(m)
    }
}
