//! `_native.ZapmailClient`, `PlusVibeClient`, `HeyReachClient`: the common operations of
//! the three vendor clients. Results are JSON documents of plain fields (no credentials:
//! mailbox passwords and TOTP secrets are never copied out).

use pyo3::prelude::*;
use serde_json::{Value, json};

use crate::config::{VendorSpec, decode};
use crate::errors::{Failure, Outcome};
use crate::runtime::{awaitable, wait};

fn text(v: Value) -> String {
    v.to_string()
}

/// Declares a sync and an async Python method over one `async fn` of the inner client.
macro_rules! client_class {
    (
        $(#[$doc:meta])* $name:ident($client:ty, $vendor:literal, $make:ident) {
            $( $sync:ident / $asy:ident => $inner:ident ( $($arg:ident : $ty:ty),* ) -> $out:ty; )*
        }
    ) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "gtm_infra._native")]
        pub struct $name {
            client: $client,
        }

        impl $name {
            /// Wrap a built client.
            pub fn wrap(client: $client) -> Self {
                $name { client }
            }
        }

        #[pymethods]
        impl $name {
            /// A client from its JSON spec (api_key, base_url, timeout, retries, limits).
            #[new]
            fn new(py: Python<'_>, spec: String) -> PyResult<Self> {
                let spec: VendorSpec = decode("client settings", &spec).map_err(|f| f.into_pyerr(py))?;
                let client = spec.$make().map_err(|f| f.into_pyerr(py))?;
                Ok($name { client })
            }

            /// The base URL in use.
            #[getter]
            fn base_url(&self) -> String {
                self.client.core().base_url().to_string()
            }

            fn __repr__(&self) -> String {
                format!("{}(base_url={:?})", stringify!($name), self.client.core().base_url())
            }

            $(
                fn $sync(&self, py: Python<'_>, $($arg: $ty),*) -> PyResult<$out> {
                    wait(py, $inner(self.client.clone(), $($arg),*), None)
                }
                fn $asy<'py>(&self, py: Python<'py>, $($arg: $ty),*) -> PyResult<Bound<'py, PyAny>> {
                    awaitable(py, $inner(self.client.clone(), $($arg),*))
                }
            )*
        }
    };
}

// ---------------------------------------------------------------- Zapmail

fn zm_scope(c: zapmail::Client, workspace_id: Option<String>) -> zapmail::Client {
    match workspace_id {
        Some(w) => c.in_workspace(&zapmail::WorkspaceId::from(w.as_str())),
        None => c,
    }
}

async fn zm_wallet_balance(c: zapmail::Client) -> Outcome<String> {
    let b = c.wallet().balance().await?;
    Ok(text(
        json!({ "balance": b.wallet_balance.map(|d| d.to_string()) }),
    ))
}

async fn zm_list_workspaces(c: zapmail::Client) -> Outcome<String> {
    let all = c.workspaces().list_all(None).await?;
    Ok(text(Value::Array(
        all.iter()
            .map(|w| json!({ "id": w.id.as_str(), "name": w.name }))
            .collect(),
    )))
}

async fn zm_create_workspace(c: zapmail::Client, name: String) -> Outcome<String> {
    let w = c
        .workspaces()
        .create(&zapmail::workspaces::CreateWorkspaceRequest::named(name))
        .await?;
    Ok(text(json!({ "id": w.id.as_str(), "name": w.name })))
}

async fn zm_check_availability(c: zapmail::Client, names: Vec<String>) -> Outcome<String> {
    let bulk = c.domains().check_availability(&names).await?;
    let rows: Vec<Value> = names
        .iter()
        .map(|n| {
            let key = zapmail::validate::normalize_domain_name(n);
            let row = bulk.get(&key);
            json!({
                "name": key,
                "status": row.and_then(|r| r.status.as_ref()).map(|s| s.as_str().to_string()),
                "price": row.and_then(|r| r.domain_price).map(|d| d.to_string()),
                "renew_price": row.and_then(|r| r.renew_price).map(|d| d.to_string()),
                "premium": row.and_then(|r| r.is_premium_domain).unwrap_or(false),
                "available": row.is_some_and(zapmail::domains::DomainAvailability::is_available),
            })
        })
        .collect();
    Ok(text(Value::Array(rows)))
}

async fn zm_buy_domains(
    c: zapmail::Client,
    names: Vec<String>,
    workspace_id: Option<String>,
) -> Outcome<String> {
    use zapmail::domains::{BuyDomainsRequest, PurchaseOutcome};
    let req = BuyDomainsRequest::with_wallet(&names);
    match zm_scope(c, workspace_id).domains().buy(&req).await? {
        PurchaseOutcome::Purchased {
            message,
            invoice_link,
        } => Ok(text(
            json!({ "message": message, "invoice_link": invoice_link }),
        )),
        PurchaseOutcome::InvoiceDue {
            message,
            invoice_link,
        } => Err(Failure::insufficient_funds(
            message.unwrap_or_else(|| {
                "Zapmail did not buy the domains: the wallet balance is too low".into()
            }),
            invoice_link,
        )),
        other => Err(Failure::new(
            "ApiError",
            format!(
                "zapmail POST /v2/domains/buy: unrecognised answer ({other:?}); list the domains before trying again"
            ),
        )),
    }
}

async fn zm_list_domains(
    c: zapmail::Client,
    workspace_id: Option<String>,
    contains: Option<String>,
) -> Outcome<String> {
    let all = zm_scope(c, workspace_id)
        .domains()
        .list_all(contains.as_deref())
        .await?;
    Ok(text(Value::Array(
        all.iter()
            .map(|d| {
                json!({
                    "id": d.id.as_str(),
                    "name": d.domain,
                    "status": d.status.as_ref().map(|s| s.as_str().to_string()),
                    "workspace_id": d.workspace_id.as_ref().map(|w| w.as_str().to_string()),
                })
            })
            .collect(),
    )))
}

async fn zm_create_mailboxes(
    c: zapmail::Client,
    domain_id: String,
    domain_name: String,
    mailboxes: Vec<(String, String, String)>,
    workspace_id: Option<String>,
) -> Outcome<()> {
    let mut req = zapmail::mailboxes::CreateMailboxesRequest::new();
    for (username, first, last) in &mailboxes {
        req = req.add(domain_id.as_str(), &domain_name, username, first, last);
    }
    zm_scope(c, workspace_id).mailboxes().create(&req).await?;
    Ok(())
}

async fn zm_list_mailboxes(
    c: zapmail::Client,
    workspace_id: Option<String>,
    contains: Option<String>,
) -> Outcome<String> {
    let listing = zm_scope(c, workspace_id)
        .mailboxes()
        .list_all(contains.as_deref())
        .await?;
    Ok(text(Value::Array(
        listing
            .mailboxes()
            .map(|m| {
                json!({
                    "id": m.id.as_str(),
                    "email": m.email,
                    "username": m.username,
                    "domain": m.domain,
                    "status": m.status.as_ref().map(|s| s.as_str().to_string()),
                })
            })
            .collect(),
    )))
}

client_class! {
    /// Zapmail: wallet, workspaces, domains, mailboxes.
    ZapmailClient(zapmail::Client, "zapmail", zapmail) {
        wallet_balance / wallet_balance_async => zm_wallet_balance() -> String;
        list_workspaces / list_workspaces_async => zm_list_workspaces() -> String;
        create_workspace / create_workspace_async => zm_create_workspace(name: String) -> String;
        check_availability / check_availability_async => zm_check_availability(names: Vec<String>) -> String;
        buy_domains / buy_domains_async => zm_buy_domains(names: Vec<String>, workspace_id: Option<String>) -> String;
        list_domains / list_domains_async => zm_list_domains(workspace_id: Option<String>, contains: Option<String>) -> String;
        create_mailboxes / create_mailboxes_async => zm_create_mailboxes(domain_id: String, domain_name: String, mailboxes: Vec<(String, String, String)>, workspace_id: Option<String>) -> ();
        list_mailboxes / list_mailboxes_async => zm_list_mailboxes(workspace_id: Option<String>, contains: Option<String>) -> String;
    }
}

// ---------------------------------------------------------------- PlusVibe

async fn pv_list_workspaces(c: plusvibe::Client) -> Outcome<String> {
    let all = c.workspaces().list().await?;
    Ok(text(Value::Array(
        all.iter()
            .map(|w| json!({ "id": w.id.to_string(), "name": w.name }))
            .collect(),
    )))
}

async fn pv_create_workspace(
    c: plusvibe::Client,
    auth_workspace_id: String,
    name: String,
) -> Outcome<String> {
    let auth = plusvibe::WorkspaceId::from(auth_workspace_id.as_str());
    let created = c.workspaces().create(&auth, &name).await?;
    Ok(text(json!({
        "id": created.id.as_ref().map(ToString::to_string),
        "name": name,
    })))
}

async fn pv_list_accounts(c: plusvibe::Client, workspace_id: String) -> Outcome<String> {
    let ws = plusvibe::WorkspaceId::from(workspace_id.as_str());
    let all = c
        .email_accounts()
        .list_all(&ws, &plusvibe::accounts::ListAccounts::default())
        .await?;
    Ok(text(Value::Array(
        all.iter()
            .map(|a| {
                json!({
                    "id": a.id.to_string(),
                    "email": a.email,
                    "status": a.status.as_ref().map(|s| s.as_str().to_string()),
                    "warmup_status": a.warmup_status.as_ref().map(|s| s.as_str().to_string()),
                })
            })
            .collect(),
    )))
}

client_class! {
    /// PlusVibe: workspaces and email accounts.
    PlusVibeClient(plusvibe::Client, "plusvibe", plusvibe) {
        list_workspaces / list_workspaces_async => pv_list_workspaces() -> String;
        create_workspace / create_workspace_async => pv_create_workspace(auth_workspace_id: String, name: String) -> String;
        list_accounts / list_accounts_async => pv_list_accounts(workspace_id: String) -> String;
    }
}

// ---------------------------------------------------------------- HeyReach

fn list_json(l: &heyreach::LeadList) -> Value {
    json!({ "id": l.id.0, "name": l.name, "size": l.size() })
}

async fn hr_check_api_key(c: heyreach::Client) -> Outcome<bool> {
    Ok(c.is_api_key_valid().await?)
}

async fn hr_list_lists(c: heyreach::Client) -> Outcome<String> {
    let all = c
        .lists()
        .get_all_pages(&heyreach::GetListsRequest::default())
        .await?;
    Ok(text(Value::Array(all.iter().map(list_json).collect())))
}

async fn hr_create_list(c: heyreach::Client, name: String) -> Outcome<String> {
    let created = c
        .lists()
        .create(&heyreach::CreateListRequest::new(
            name,
            heyreach::ListType::UserList,
        ))
        .await?;
    Ok(text(
        json!({ "id": created.id.0, "name": created.name, "size": created.count.unwrap_or(0) }),
    ))
}

async fn hr_lead_count(c: heyreach::Client, list_id: i64) -> Outcome<i64> {
    Ok(c.lists().lead_count(heyreach::ListId(list_id)).await?)
}

client_class! {
    /// HeyReach: key check and lead lists.
    HeyReachClient(heyreach::Client, "heyreach", heyreach) {
        check_api_key / check_api_key_async => hr_check_api_key() -> bool;
        list_lists / list_lists_async => hr_list_lists() -> String;
        create_list / create_list_async => hr_create_list(name: String) -> String;
        lead_count / lead_count_async => hr_lead_count(list_id: i64) -> i64;
    }
}
