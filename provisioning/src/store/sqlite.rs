//! The SQLite store: the embedded default.
//!
//! One file (or an in-memory database) holds the seed's tables, in their SQLite flavour and
//! with the seed's table and column names, so tools written for the seed can read them:
//!
//! - `infra_tiers`: the tier catalog;
//! - `infra_provisions`: every seed column (`status`, the Stripe ids, the mailbox patterns,
//!   the vendor ids, `plusvibe_client_password` as sealed ciphertext only, `provisioning_log`
//!   as JSON in the seed's camelCase `ProvisioningStep` shape...), plus the engine's columns:
//!   `state` (the whole [`ProvisionState`] as JSON, the source of truth [`Store::load`]
//!   reads), `version` (the optimistic-concurrency version and fencing token), `lease_owner`,
//!   `lease_until`, `due_at` (when the live run is next due, for the claim query),
//!   `customer_name` and `tier_slug`;
//! - `infra_domains`: one row per domain of the state, with `status` and the `mailboxes`
//!   JSON array of `{username, email, zapmail_mailbox_id, plusvibe_account_id}`;
//! - `gtm_events`: the append-only progress event log.
//!
//! Every save is one transaction that checks the version, writes the state and every
//! projected column, upserts the domain rows (and deletes rows of domains no longer in the
//! state), appends the events and sets or clears the lease. Claims are single atomic
//! `UPDATE ... RETURNING` statements that bump the version.
//!
//! Timestamps are stored as RFC 3339 text in UTC with a fixed width
//! (`2026-03-01T12:00:00.000000000Z`), so they sort as text. The schema is created and
//! upgraded by versioned migrations (`migrations/sqlite` in the crate) run by
//! [`Store::migrate`].
//!
//! ```no_run
//! use provisioning::store::{SqliteStore, Store};
//!
//! # async fn demo() -> provisioning::StoreResult<()> {
//! let store = SqliteStore::open("sqlite://gtm.db").await?;
//! store.migrate().await?;
//! store.seed_default_tiers().await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::error::ErrorKind;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use super::{Claim, ProvisionSummary, Store, StoreError, StoreResult, StoredEvent, Versioned};
use crate::model::{CustomerId, ProvisionId, ProvisionState, ProvisionStatus, Tier, TierId};
use crate::progress::ProgressEvent;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for another one's write lock before failing with "database is
/// locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections of a file database (SQLite serialises writers anyway; WAL lets readers run
/// beside the writer).
const FILE_POOL_SIZE: u32 = 4;
/// Tries of [`Store::migrate`] (see there).
const MIGRATE_ATTEMPTS: u64 = 5;

/// A [`Store`] in a SQLite database file (or in memory), through `sqlx`.
///
/// Cheap to clone (it wraps a connection pool). Open it with [`SqliteStore::open`], then call
/// [`Store::migrate`] once to create or upgrade the schema.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    location: String,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .field("connections", &self.pool.size())
            .finish()
    }
}

impl SqliteStore {
    /// Open (and create if missing) the database at `url`:
    ///
    /// - `sqlite://path/to/file.db` or `sqlite:relative.db` (a relative path; use
    ///   `sqlite:///abs/path.db` for an absolute one; `?mode=ro` and the other query parameters
    ///   of sqlx's SQLite URLs are honoured);
    /// - a plain file path, e.g. `data/gtm.db`;
    /// - `sqlite::memory:` (or `:memory:`): a private in-memory database, lost when the store
    ///   is dropped. It lives on a single connection (every SQLite connection to `:memory:` is
    ///   its own empty database), which is kept open for the store's lifetime.
    ///
    /// Files are opened in WAL journal mode with `synchronous = FULL` (a commit is durable
    /// once `save` returns: the engine records an intent before calling a vendor), a busy
    /// timeout of 10 s, and foreign keys on. The file is created if missing; its directory
    /// must exist.
    ///
    /// The schema is not touched: call [`Store::migrate`].
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming the location, if the URL is malformed or the database
    /// cannot be opened (missing directory, no permission, not a database...).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let location = url.trim();
        if location.is_empty() {
            return Err(StoreError::Backend(
                "no SQLite database given (expected `sqlite://path/to/file.db`, a file path or `sqlite::memory:`)"
                    .into(),
            ));
        }
        let (path_part, params) = split_url(location);
        let in_memory = path_part == ":memory:" || params.split('&').any(|kv| kv == "mode=memory");
        let user_mode = params.split('&').any(|kv| kv.starts_with("mode="));
        let read_only = params.split('&').any(|kv| kv == "mode=ro");

        let options = if in_memory {
            let url = if location.starts_with("sqlite:") {
                location.to_string()
            } else {
                // A bare `:memory:`.
                "sqlite::memory:".to_string()
            };
            SqliteConnectOptions::from_str(&url)
                .map_err(|e| StoreError::Backend(format!("invalid SQLite URL {url:?}: {e}")))?
        } else {
            let o = if location.starts_with("sqlite:") {
                SqliteConnectOptions::from_str(location).map_err(|e| {
                    StoreError::Backend(format!("invalid SQLite URL {location:?}: {e}"))
                })?
            } else {
                SqliteConnectOptions::new().filename(location)
            };
            // The caller's `?mode=` wins; otherwise create the file if missing.
            let o = if user_mode {
                o
            } else {
                o.create_if_missing(true)
            };
            // A read-only connection cannot switch the journal mode.
            let o = if read_only {
                o
            } else {
                o.journal_mode(SqliteJournalMode::Wal)
            };
            o.synchronous(SqliteSynchronous::Full)
                .busy_timeout(BUSY_TIMEOUT)
        }
        .foreign_keys(true);

        let pool_options = if in_memory {
            // One connection, never closed: closing it would drop the database.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(FILE_POOL_SIZE)
        };
        // `connect_with` opens a first connection, so a bad location fails here. Switching a
        // new file to WAL needs an exclusive lock that SQLite's busy timeout does not wait
        // for: when several processes open a new file at once, the losers retry briefly.
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(10);
        let pool = loop {
            match pool_options.clone().connect_with(options.clone()).await {
                Ok(pool) => break pool,
                Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(250));
                }
                Err(e) => {
                    let hint = match sqlite_code(&e).map(|c| c & 0xff) {
                        // SQLITE_CANTOPEN
                        Some(14) => {
                            " (does its directory exist, and may this process write there?)"
                        }
                        // SQLITE_NOTADB
                        Some(26) => " (the file is not a SQLite database)",
                        _ => "",
                    };
                    return Err(StoreError::Backend(format!(
                        "cannot open SQLite database {location:?}{hint}: {e}"
                    )));
                }
            }
        };
        Ok(SqliteStore {
            pool,
            location: location.to_string(),
        })
    }

    /// A store over an existing pool. The caller chooses its options; the store relies on
    /// foreign keys being on (sqlx's default) and, for an in-memory database, on the pool
    /// keeping a single connection open.
    pub fn from_pool(pool: SqlitePool) -> Self {
        SqliteStore {
            pool,
            location: "(caller's pool)".to_string(),
        }
    }

    /// The connection pool, for reading the tables with plain SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Close every connection (waiting for those in use to come back). In WAL mode the last
    /// connection to close checkpoints the log into the database file.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Split `sqlite://x?a=b` (or `sqlite:x`, or a path) into the database part and its query.
fn split_url(location: &str) -> (&str, &str) {
    let rest = location
        .strip_prefix("sqlite://")
        .or_else(|| location.strip_prefix("sqlite:"))
        .unwrap_or(location);
    match rest.split_once('?') {
        Some((db, params)) if location.starts_with("sqlite:") => (db, params),
        _ => (rest, ""),
    }
}

/// A timestamp as stored: RFC 3339, UTC, fixed width (sorts as text).
fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

fn parse_ts(s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp {s:?}: {e}")))
}

fn backend(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::Backend(format!("SQLite: {context}: {e}"))
}

/// The (extended) SQLite result code of a database error.
fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
}

/// SQLITE_BUSY or SQLITE_LOCKED (any extended code).
fn is_busy(e: &sqlx::Error) -> bool {
    sqlite_code(e).is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

fn constraint(e: &sqlx::Error) -> Option<(ErrorKind, String)> {
    e.as_database_error()
        .map(|d| (d.kind(), d.message().to_string()))
}

fn to_json<T: serde::Serialize>(v: &T, what: &str) -> StoreResult<String> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::Backend(format!("cannot serialize {what}: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn parse_uuid<T: FromStr>(s: &str, what: &str) -> StoreResult<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {s:?} is not a UUID")))
}

fn version_of(v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative version {v}")))
}

/// A serde unit-variant enum as its string (`"in_progress"`).
fn enum_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// The seed's and the engine's columns of `infra_provisions`, in the order of
/// [`PROJECTED_COLUMNS`] (without `id`, `version` and the lease).
struct Projection {
    student_id: String,
    tier_id: String,
    status: &'static str,
    stripe_checkout_session_id: Option<String>,
    stripe_subscription_id: Option<String>,
    stripe_customer_id: Option<String>,
    mailbox_pattern_1: String,
    mailbox_pattern_2: String,
    zapmail_workspace_id: Option<String>,
    zapmail_workspace_key: Option<String>,
    plusvibe_workspace_id: Option<String>,
    plusvibe_client_id: Option<String>,
    plusvibe_client_email: Option<String>,
    plusvibe_client_password: Option<String>,
    heyreach_list_id: Option<i64>,
    provisioning_log: String,
    created_at: String,
    updated_at: String,
    state: String,
    due_at: Option<String>,
    customer_name: String,
    tier_slug: String,
}

const PROJECTED_COLUMNS: [&str; 22] = [
    "student_id",
    "tier_id",
    "status",
    "stripe_checkout_session_id",
    "stripe_subscription_id",
    "stripe_customer_id",
    "mailbox_pattern_1",
    "mailbox_pattern_2",
    "zapmail_workspace_id",
    "zapmail_workspace_key",
    "plusvibe_workspace_id",
    "plusvibe_client_id",
    "plusvibe_client_email",
    "plusvibe_client_password",
    "heyreach_list_id",
    "provisioning_log",
    "created_at",
    "updated_at",
    "state",
    "due_at",
    "customer_name",
    "tier_slug",
];

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

impl Projection {
    fn of(s: &ProvisionState) -> StoreResult<Self> {
        let l = &s.ledger;
        Ok(Projection {
            student_id: s.customer.id.to_string(),
            tier_id: s.tier_id.to_string(),
            status: s.status.as_str(),
            stripe_checkout_session_id: s.payment.checkout_session_id.clone(),
            stripe_subscription_id: s.payment.subscription_id.clone(),
            stripe_customer_id: s.payment.customer_id.clone(),
            mailbox_pattern_1: s.mailbox_patterns[0].clone(),
            mailbox_pattern_2: s.mailbox_patterns[1].clone(),
            zapmail_workspace_id: l.zapmail_workspace_id.clone(),
            // The seed's "workspace key" is the workspace id (the `x-workspace-key` value).
            zapmail_workspace_key: l.zapmail_workspace_id.clone(),
            plusvibe_workspace_id: l.plusvibe_workspace_id.clone(),
            plusvibe_client_id: l.plusvibe_client_id.clone(),
            plusvibe_client_email: l.plusvibe_client_email.clone(),
            // Ciphertext only.
            plusvibe_client_password: l
                .plusvibe_client_password
                .as_ref()
                .map(|p| p.as_str().to_string()),
            heyreach_list_id: l.heyreach_list_id,
            provisioning_log: to_json(&s.provisioning_log, "provisioning_log")?,
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
            state: to_json(s, "provision state")?,
            due_at: s.due_at().map(ts),
            customer_name: s.customer.name.clone(),
            tier_slug: s.tier.slug.clone(),
        })
    }

    /// Bind the columns in [`PROJECTED_COLUMNS`] order.
    fn bind(self, q: SqliteQuery<'_>) -> SqliteQuery<'_> {
        q.bind(self.student_id)
            .bind(self.tier_id)
            .bind(self.status)
            .bind(self.stripe_checkout_session_id)
            .bind(self.stripe_subscription_id)
            .bind(self.stripe_customer_id)
            .bind(self.mailbox_pattern_1)
            .bind(self.mailbox_pattern_2)
            .bind(self.zapmail_workspace_id)
            .bind(self.zapmail_workspace_key)
            .bind(self.plusvibe_workspace_id)
            .bind(self.plusvibe_client_id)
            .bind(self.plusvibe_client_email)
            .bind(self.plusvibe_client_password)
            .bind(self.heyreach_list_id)
            .bind(self.provisioning_log)
            .bind(self.created_at)
            .bind(self.updated_at)
            .bind(self.state)
            .bind(self.due_at)
            .bind(self.customer_name)
            .bind(self.tier_slug)
    }
}

/// `INSERT` of a new provision: `id`, then the projected columns; version 1, no lease.
static INSERT_PROVISION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO infra_provisions (id, version, {}) VALUES (?, 1, {})",
        PROJECTED_COLUMNS.join(", "),
        vec!["?"; PROJECTED_COLUMNS.len()].join(", ")
    )
});

/// The fenced `UPDATE` of a save: the projected columns, then `lease_until` (twice: it also
/// decides whether the owner is kept), `id` and the expected version.
static SAVE_PROVISION: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = PROJECTED_COLUMNS
        .iter()
        .map(|c| format!("{c} = ?"))
        .collect();
    format!(
        "UPDATE infra_provisions SET {}, version = version + 1, lease_until = ?, \
         lease_owner = CASE WHEN ? IS NULL THEN NULL ELSE lease_owner END \
         WHERE id = ? AND version = ? RETURNING version",
        sets.join(", ")
    )
});

const TIER_COLUMNS: &str = "id, name, slug, domain_count, mailboxes_per_domain, setup_fee_cents, \
     monthly_fee_cents, stripe_setup_price_id, stripe_monthly_price_id, is_active, sort_order";

fn tier_from_row(r: &SqliteRow) -> StoreResult<Tier> {
    let get_i64 = |c: &str| -> StoreResult<i64> {
        r.try_get::<i64, _>(c)
            .map_err(|e| StoreError::Corrupt(format!("infra_tiers.{c}: {e}")))
    };
    let get_opt = |c: &str| -> StoreResult<Option<String>> {
        r.try_get::<Option<String>, _>(c)
            .map_err(|e| StoreError::Corrupt(format!("infra_tiers.{c}: {e}")))
    };
    let get_str = |c: &str| -> StoreResult<String> {
        get_opt(c)?.ok_or_else(|| StoreError::Corrupt(format!("infra_tiers.{c} is NULL")))
    };
    let small = |c: &str| -> StoreResult<u32> {
        let v = get_i64(c)?;
        u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("infra_tiers.{c} = {v}")))
    };
    let sort_order = get_i64("sort_order")?;
    Ok(Tier {
        id: parse_uuid::<TierId>(&get_str("id")?, "infra_tiers.id")?,
        name: get_str("name")?,
        slug: get_str("slug")?,
        domain_count: small("domain_count")?,
        mailboxes_per_domain: small("mailboxes_per_domain")?,
        setup_fee_cents: get_i64("setup_fee_cents")?,
        monthly_fee_cents: get_i64("monthly_fee_cents")?,
        stripe_setup_price_id: get_opt("stripe_setup_price_id")?,
        stripe_monthly_price_id: get_opt("stripe_monthly_price_id")?,
        is_active: get_i64("is_active")? != 0,
        sort_order: i32::try_from(sort_order)
            .map_err(|_| StoreError::Corrupt(format!("infra_tiers.sort_order = {sort_order}")))?,
    })
}

/// A provision's domain rows: upsert each domain of the state (touching `updated_at` only
/// when the row changes) and delete rows of domains no longer in the state.
async fn project_domains(
    conn: &mut sqlx::SqliteConnection,
    state: &ProvisionState,
) -> StoreResult<()> {
    let at = ts(state.updated_at);
    let pid = state.id.to_string();
    for d in &state.domains {
        sqlx::query(
            "INSERT INTO infra_domains \
               (id, provision_id, domain_name, zapmail_domain_id, status, mailboxes, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET \
               domain_name = excluded.domain_name, \
               zapmail_domain_id = excluded.zapmail_domain_id, \
               status = excluded.status, \
               mailboxes = excluded.mailboxes, \
               updated_at = excluded.updated_at \
             WHERE infra_domains.domain_name IS NOT excluded.domain_name \
                OR infra_domains.zapmail_domain_id IS NOT excluded.zapmail_domain_id \
                OR infra_domains.status IS NOT excluded.status \
                OR infra_domains.mailboxes IS NOT excluded.mailboxes",
        )
        .bind(d.id.to_string())
        .bind(&pid)
        .bind(&d.name)
        .bind(&d.zapmail_domain_id)
        .bind(d.status.as_str())
        .bind(to_json(&d.mailboxes, "mailboxes")?)
        .bind(&at)
        .bind(&at)
        .execute(&mut *conn)
        .await
        .map_err(backend("writing infra_domains"))?;
    }
    let keep: Vec<String> = state.domains.iter().map(|d| d.id.to_string()).collect();
    sqlx::query(
        "DELETE FROM infra_domains WHERE provision_id = ? \
         AND id NOT IN (SELECT value FROM json_each(?))",
    )
    .bind(&pid)
    .bind(to_json(&keep, "domain ids")?)
    .execute(&mut *conn)
    .await
    .map_err(backend("deleting removed infra_domains"))?;
    Ok(())
}

/// Whether a provision row exists.
async fn exists<'e, E: sqlx::SqliteExecutor<'e>>(ex: E, id: ProvisionId) -> StoreResult<bool> {
    Ok(sqlx::query("SELECT 1 FROM infra_provisions WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(ex)
        .await
        .map_err(backend("reading infra_provisions"))?
        .is_some())
}

/// Free at `?2` (now): no lease, or an expired one. [`Store::claim_due`] never takes a run
/// under a live lease, even the caller's own: the caller may be driving it right now
/// (claiming it again made two tasks drive one run).
const UNLEASED: &str = "(lease_owner IS NULL OR lease_until IS NULL OR lease_until <= ?2)";

/// Claimable by `?1` (the worker) at `?2` (now): no lease, the worker's own, or expired.
const CLAIMABLE: &str =
    "(lease_owner IS NULL OR lease_until IS NULL OR lease_owner = ?1 OR lease_until <= ?2)";

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        // SQLite has no advisory lock for the migrator: when two processes migrate a new file
        // at once, the loser's migration fails ("table already exists") and rolls back whole
        // (each migration and its bookkeeping row are one transaction). Running again then
        // sees it applied. A real failure fails every attempt and is reported.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match MIGRATOR.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(_) if attempt < MIGRATE_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => {
                    return Err(StoreError::Backend(format!(
                        "SQLite: migrating {:?} failed: {e}",
                        self.location
                    )));
                }
            }
        }
    }

    async fn seed_default_tiers(&self) -> StoreResult<()> {
        // Check and insert in one write transaction, so processes starting together seed once.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend("starting a transaction"))?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM infra_tiers")
            .fetch_one(&mut *tx)
            .await
            .map_err(backend("reading infra_tiers"))?;
        if count == 0 {
            for t in Tier::seed_defaults() {
                put_tier(&mut *tx, &t).await?;
            }
        }
        tx.commit()
            .await
            .map_err(backend("committing the default tiers"))
    }

    async fn put_tier(&self, tier: &Tier) -> StoreResult<()> {
        put_tier(&self.pool, tier).await
    }

    async fn tiers(&self) -> StoreResult<Vec<Tier>> {
        sqlx::query(&format!(
            "SELECT {TIER_COLUMNS} FROM infra_tiers ORDER BY sort_order, name, id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(backend("reading infra_tiers"))?
        .iter()
        .map(tier_from_row)
        .collect()
    }

    async fn tier(&self, id: TierId) -> StoreResult<Tier> {
        let row = sqlx::query(&format!(
            "SELECT {TIER_COLUMNS} FROM infra_tiers WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("reading infra_tiers"))?
        .ok_or_else(|| StoreError::TierNotFound(id.to_string()))?;
        tier_from_row(&row)
    }

    async fn tier_by_slug(&self, slug: &str) -> StoreResult<Tier> {
        let row = sqlx::query(&format!(
            "SELECT {TIER_COLUMNS} FROM infra_tiers WHERE slug = ?"
        ))
        .bind(slug)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("reading infra_tiers"))?
        .ok_or_else(|| StoreError::TierNotFound(slug.to_string()))?;
        tier_from_row(&row)
    }

    async fn insert_provision(&self, state: &ProvisionState) -> StoreResult<u64> {
        let projection = Projection::of(state)?;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend("starting a transaction"))?;
        if let Some(existing) = find_by_customer(&mut *tx, state.customer.id).await? {
            return Err(StoreError::DuplicateCustomer {
                customer: state.customer.id,
                existing,
            });
        }
        let tier_known = sqlx::query("SELECT 1 FROM infra_tiers WHERE id = ?")
            .bind(state.tier_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend("reading infra_tiers"))?
            .is_some();
        if !tier_known {
            return Err(StoreError::TierNotFound(state.tier_id.to_string()));
        }
        let r = projection
            .bind(sqlx::query(INSERT_PROVISION.as_str()).bind(state.id.to_string()))
            .execute(&mut *tx)
            .await;
        if let Err(e) = r {
            return Err(match constraint(&e) {
                Some((ErrorKind::UniqueViolation, m)) if m.contains("infra_provisions.id") => {
                    StoreError::Backend(format!("provision {} exists", state.id))
                }
                _ => backend("inserting into infra_provisions")(e),
            });
        }
        project_domains(&mut tx, state).await?;
        tx.commit()
            .await
            .map_err(backend("committing a new provision"))?;
        Ok(1)
    }

    async fn load(&self, id: ProvisionId) -> StoreResult<Versioned<ProvisionState>> {
        let row = sqlx::query("SELECT state, version FROM infra_provisions WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("reading infra_provisions"))?
            .ok_or(StoreError::NotFound(id))?;
        let state: String = row
            .try_get("state")
            .map_err(|e| StoreError::Corrupt(format!("state of provision {id}: {e}")))?;
        let version: i64 = row
            .try_get("version")
            .map_err(|e| StoreError::Corrupt(format!("version of provision {id}: {e}")))?;
        Ok(Versioned {
            value: from_json(&state, &format!("state of provision {id}"))?,
            version: version_of(version)?,
        })
    }

    async fn find_by_customer(&self, customer: CustomerId) -> StoreResult<Option<ProvisionId>> {
        find_by_customer(&self.pool, customer).await
    }

    async fn domain_owners(&self, names: &[String]) -> StoreResult<Vec<(String, ProvisionId)>> {
        let mut out = Vec::new();
        for name in names {
            let rows = sqlx::query(
                "SELECT d.domain_name, d.provision_id FROM infra_domains d \
                 JOIN infra_provisions p ON p.id = d.provision_id \
                 WHERE lower(d.domain_name) = lower(?) AND p.status != 'cancelled'",
            )
            .bind(name)
            .fetch_all(&self.pool)
            .await
            .map_err(backend("reading infra_domains"))?;
            for r in rows {
                let id: String = r
                    .try_get("provision_id")
                    .map_err(|e| StoreError::Corrupt(format!("infra_domains.provision_id: {e}")))?;
                let domain: String = r
                    .try_get("domain_name")
                    .map_err(|e| StoreError::Corrupt(format!("infra_domains.domain_name: {e}")))?;
                out.push((domain, parse_uuid(&id, "infra_domains.provision_id")?));
            }
        }
        Ok(out)
    }

    async fn list_provisions(&self) -> StoreResult<Vec<ProvisionSummary>> {
        let rows = sqlx::query(
            "SELECT id, student_id, customer_name, tier_slug, status, updated_at \
             FROM infra_provisions ORDER BY created_at DESC, id ASC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend("reading infra_provisions"))?;
        rows.iter()
            .map(|r| {
                let col = |c: &str| -> StoreResult<String> {
                    r.try_get::<String, _>(c)
                        .map_err(|e| StoreError::Corrupt(format!("infra_provisions.{c}: {e}")))
                };
                let status = col("status")?;
                Ok(ProvisionSummary {
                    id: parse_uuid(&col("id")?, "infra_provisions.id")?,
                    customer_id: parse_uuid(&col("student_id")?, "infra_provisions.student_id")?,
                    customer_name: col("customer_name")?,
                    tier_slug: col("tier_slug")?,
                    status: serde_json::from_value::<ProvisionStatus>(serde_json::Value::String(
                        status.clone(),
                    ))
                    .map_err(|_| {
                        StoreError::Corrupt(format!("unknown provision status {status:?}"))
                    })?,
                    updated_at: parse_ts(&col("updated_at")?)?,
                })
            })
            .collect()
    }

    async fn save(
        &self,
        state: &ProvisionState,
        expected: u64,
        events: &[ProgressEvent],
        lease_until: Option<DateTime<Utc>>,
    ) -> StoreResult<u64> {
        let conflict = || StoreError::Conflict {
            id: state.id,
            expected,
        };
        let projection = Projection::of(state)?;
        let event_rows = events
            .iter()
            .map(|e| to_json(e, "progress event").map(|j| (e, j)))
            .collect::<StoreResult<Vec<_>>>()?;
        let Ok(expected_i) = i64::try_from(expected) else {
            return Err(conflict());
        };
        let lease = lease_until.map(ts);

        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend("starting a transaction"))?;
        let r = projection
            .bind(sqlx::query(SAVE_PROVISION.as_str()))
            .bind(lease.clone())
            .bind(lease)
            .bind(state.id.to_string())
            .bind(expected_i)
            .fetch_optional(&mut *tx)
            .await;
        let row = match r {
            Ok(row) => row,
            Err(e) => {
                return Err(match constraint(&e) {
                    Some((ErrorKind::ForeignKeyViolation, _)) => {
                        StoreError::TierNotFound(state.tier_id.to_string())
                    }
                    Some((ErrorKind::UniqueViolation, m)) if m.contains("student_id") => {
                        match find_by_customer(&mut *tx, state.customer.id).await? {
                            Some(existing) => StoreError::DuplicateCustomer {
                                customer: state.customer.id,
                                existing,
                            },
                            None => backend("updating infra_provisions")(e),
                        }
                    }
                    _ => backend("updating infra_provisions")(e),
                });
            }
        };
        let Some(row) = row else {
            return Err(if exists(&mut *tx, state.id).await? {
                conflict()
            } else {
                StoreError::NotFound(state.id)
            });
        };
        let version = version_of(
            row.try_get("version")
                .map_err(backend("reading the new version"))?,
        )?;

        project_domains(&mut tx, state).await?;

        let pid = state.id.to_string();
        for (e, json) in event_rows {
            sqlx::query(
                "INSERT INTO gtm_events (provision_id, run_id, at, step, name, status, event) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&pid)
            .bind(e.run_id.map(|r| r.to_string()))
            .bind(ts(e.at))
            .bind(i64::from(e.step))
            .bind(&e.name)
            .bind(enum_str(&e.status))
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(backend("appending to gtm_events"))?;
        }
        tx.commit().await.map_err(backend("committing a save"))?;
        Ok(version)
    }

    async fn claim(
        &self,
        id: ProvisionId,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Claim>> {
        let row = sqlx::query(&format!(
            "UPDATE infra_provisions SET lease_owner = ?1, lease_until = ?3, version = version + 1 \
             WHERE id = ?4 AND {CLAIMABLE} RETURNING version"
        ))
        .bind(worker)
        .bind(ts(now))
        .bind(ts(lease_until))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("claiming a provision"))?;
        match row {
            Some(row) => Ok(Some(Claim {
                id,
                version: version_of(
                    row.try_get("version")
                        .map_err(backend("reading the new version"))?,
                )?,
            })),
            None if exists(&self.pool, id).await? => Ok(None),
            None => Err(StoreError::NotFound(id)),
        }
    }

    async fn renew_lease(
        &self,
        id: ProvisionId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // The version is not bumped: the holder's next save stays fenced by its own version.
        let done = sqlx::query(
            "UPDATE infra_provisions SET lease_until = ?1 WHERE id = ?2 AND lease_owner = ?3",
        )
        .bind(ts(lease_until))
        .bind(id.to_string())
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(backend("renewing a lease"))?
        .rows_affected();
        match done {
            0 if !exists(&self.pool, id).await? => Err(StoreError::NotFound(id)),
            n => Ok(n > 0),
        }
    }

    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Claim>> {
        if limit == 0 {
            return Ok(vec![]);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One statement: SQLite takes the write lock before reading, so two workers never
        // claim the same row.
        let rows = sqlx::query(&format!(
            "UPDATE infra_provisions SET lease_owner = ?1, lease_until = ?3, version = version + 1 \
             WHERE id IN (SELECT id FROM infra_provisions \
                          WHERE due_at IS NOT NULL AND due_at <= ?2 AND {UNLEASED} \
                          ORDER BY due_at, id LIMIT ?4) \
             RETURNING id, version, due_at"
        ))
        .bind(worker)
        .bind(ts(now))
        .bind(ts(lease_until))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend("claiming due provisions"))?;
        let mut claims = rows
            .iter()
            .map(|r| {
                let id: String = r.try_get("id").map_err(backend("reading a claim"))?;
                let due: String = r.try_get("due_at").map_err(backend("reading a claim"))?;
                let version: i64 = r.try_get("version").map_err(backend("reading a claim"))?;
                Ok((
                    due,
                    id.clone(),
                    Claim {
                        id: parse_uuid(&id, "infra_provisions.id")?,
                        version: version_of(version)?,
                    },
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING has no order: earliest due first, as selected.
        claims.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        Ok(claims.into_iter().map(|(_, _, c)| c).collect())
    }

    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        // A live claim hides the run until its lease ends.
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN lease_owner IS NOT NULL AND lease_until IS NOT NULL \
                              AND lease_until > ?1 \
                         THEN MAX(due_at, lease_until) ELSE due_at END) AS next \
             FROM infra_provisions WHERE due_at IS NOT NULL",
        )
        .bind(ts(Utc::now()))
        .fetch_one(&self.pool)
        .await
        .map_err(backend("reading due times"))?;
        let next: Option<String> = row.try_get("next").map_err(backend("reading due times"))?;
        next.as_deref().map(parse_ts).transpose()
    }

    async fn events(&self, id: ProvisionId, after: u64) -> StoreResult<Vec<StoredEvent>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT seq, event FROM gtm_events WHERE provision_id = ? AND seq > ? ORDER BY seq",
        )
        .bind(id.to_string())
        .bind(after)
        .fetch_all(&self.pool)
        .await
        .map_err(backend("reading gtm_events"))?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq").map_err(backend("reading gtm_events"))?;
                let event: String = r.try_get("event").map_err(backend("reading gtm_events"))?;
                Ok(StoredEvent {
                    seq: version_of(seq)?,
                    event: from_json(&event, &format!("event {seq} of provision {id}"))?,
                })
            })
            .collect()
    }
}

/// Insert or update a tier by id; a slug taken by another tier is refused.
async fn put_tier<'e, E: sqlx::SqliteExecutor<'e>>(ex: E, tier: &Tier) -> StoreResult<()> {
    let now = ts(Utc::now());
    let r = sqlx::query(&format!(
        "INSERT INTO infra_tiers ({TIER_COLUMNS}, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET \
           name = excluded.name, slug = excluded.slug, domain_count = excluded.domain_count, \
           mailboxes_per_domain = excluded.mailboxes_per_domain, \
           setup_fee_cents = excluded.setup_fee_cents, \
           monthly_fee_cents = excluded.monthly_fee_cents, \
           stripe_setup_price_id = excluded.stripe_setup_price_id, \
           stripe_monthly_price_id = excluded.stripe_monthly_price_id, \
           is_active = excluded.is_active, sort_order = excluded.sort_order, \
           updated_at = excluded.updated_at"
    ))
    .bind(tier.id.to_string())
    .bind(&tier.name)
    .bind(&tier.slug)
    .bind(i64::from(tier.domain_count))
    .bind(i64::from(tier.mailboxes_per_domain))
    .bind(tier.setup_fee_cents)
    .bind(tier.monthly_fee_cents)
    .bind(&tier.stripe_setup_price_id)
    .bind(&tier.stripe_monthly_price_id)
    .bind(i64::from(tier.is_active))
    .bind(i64::from(tier.sort_order))
    .bind(&now)
    .bind(&now)
    .execute(ex)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) => match constraint(&e) {
            Some((ErrorKind::UniqueViolation, m)) if m.contains("slug") => {
                Err(StoreError::DuplicateTierSlug(tier.slug.clone()))
            }
            _ => Err(backend("writing infra_tiers")(e)),
        },
    }
}

async fn find_by_customer<'e, E: sqlx::SqliteExecutor<'e>>(
    ex: E,
    customer: CustomerId,
) -> StoreResult<Option<ProvisionId>> {
    sqlx::query("SELECT id FROM infra_provisions WHERE student_id = ?")
        .bind(customer.to_string())
        .fetch_optional(ex)
        .await
        .map_err(backend("reading infra_provisions"))?
        .map(|r| {
            let id: String = r
                .try_get("id")
                .map_err(backend("reading infra_provisions"))?;
            parse_uuid(&id, "infra_provisions.id")
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_text_and_round_trip() {
        let a = DateTime::parse_from_rfc3339("2026-03-01T09:59:59.999999999Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(b), "2026-03-01T10:00:00.000000000Z");
        assert!(ts(a) < ts(b));
        assert_eq!(parse_ts(&ts(a)).unwrap(), a);
        assert!(matches!(parse_ts("yesterday"), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn url_forms() {
        assert_eq!(split_url("sqlite://a/b.db?mode=ro"), ("a/b.db", "mode=ro"));
        assert_eq!(split_url("sqlite:rel.db"), ("rel.db", ""));
        assert_eq!(split_url("sqlite::memory:"), (":memory:", ""));
        assert_eq!(split_url("data/odd?name.db"), ("data/odd?name.db", ""));
    }

    #[test]
    fn generated_sql_has_one_placeholder_per_column() {
        assert_eq!(
            INSERT_PROVISION.matches('?').count(),
            PROJECTED_COLUMNS.len() + 1
        );
        assert_eq!(
            SAVE_PROVISION.matches('?').count(),
            PROJECTED_COLUMNS.len() + 4
        );
    }
}
