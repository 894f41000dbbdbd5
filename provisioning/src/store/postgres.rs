//! The PostgreSQL store: for production, and for several worker processes sharing one
//! database.
//!
//! It works alongside the seed's own tables: the schema is the seed's `infra_tiers`,
//! `infra_provisions` and `infra_domains` (same column names and types: `UUID` ids, `JSONB`
//! logs and mailboxes, `TIMESTAMPTZ`, `BIGINT heyreach_list_id`, the seed's `CHECK`
//! constraints), created `IF NOT EXISTS`, plus the engine's columns on `infra_provisions`
//! (`state`, `version`, `lease_owner`, `lease_until`, `due_at`, `customer_name`, `tier_slug`,
//! added with `ADD COLUMN IF NOT EXISTS`) and the append-only `gtm_events` log. On a database
//! where the seed's Supabase migration already ran, [`Store::migrate`] only adds what is
//! missing; it never drops or renames a seed column. The seed's foreign key
//! `student_id REFERENCES bootcamp_students(id)` is created only when a `bootcamp_students`
//! table exists; row-level security and the seed's policies only where Supabase's
//! `auth.jwt()` / `auth.role()` exist (elsewhere the engine, as the tables' owner, would
//! bypass them anyway). See `migrations/postgres` in the crate.
//!
//! Semantics are the SQLite store's (`SqliteStore`, the `sqlite` feature):
//!
//! - `state` (the whole [`ProvisionState`] as JSONB) is the source of truth [`Store::load`]
//!   reads; every seed column (`status`, the Stripe ids, the mailbox patterns, the vendor ids,
//!   `plusvibe_client_password` as sealed ciphertext only, `provisioning_log` in the seed's
//!   camelCase `ProvisioningStep` shape) and the `infra_domains` rows are projected from it in
//!   the same transaction.
//! - [`Store::save`] is one transaction: a fenced `UPDATE ... WHERE id = $1 AND version = $2`
//!   (a concurrent writer waits for the row lock, then finds the version changed and gets
//!   [`StoreError::Conflict`]), the domain rows, the events, and the lease.
//! - [`Store::claim_due`] picks due rows in a CTE with `FOR UPDATE SKIP LOCKED` (workers never
//!   block on, or return, each other's rows) and bumps their version, which fences off a
//!   previous claimer. [`Store::claim`] is a single `UPDATE` of the named row: it waits for a
//!   writer holding the row (a short save) rather than skipping it, then re-checks the lease.
//!   [`Store::renew_lease`] extends the holder's lease without bumping the version (the
//!   engine's heartbeat while a step works).
//! - A save that releases a run due now, or an insert of one, announces it with
//!   `NOTIFY gtm_runs` (payload: the provision id only, delivered on commit);
//!   [`Store::subscribe`] is a `LISTEN` on its own pooled connection. Announcements are hints:
//!   workers still poll.
//! - Vendor rate budgets shared by every process: [`PgRateLimiter`](super::PgRateLimiter),
//!   in `gtm_rate_limits`.
//!
//! Rows the engine did not write (a seed-era provision without `state`) are listed, never
//! claimed (`due_at` is NULL), and [`Store::load`] reports them as [`StoreError::Corrupt`].
//!
//! Precision: `TIMESTAMPTZ` keeps microseconds, so the `due_at`/`lease_until` columns compare
//! at microsecond precision (the state document keeps the exact times). PostgreSQL `TEXT` and
//! `JSONB` cannot hold a NUL character: a state containing one is refused with
//! [`StoreError::Backend`] and nothing is written.
//!
//! ```no_run
//! use provisioning::store::{PostgresStore, Store};
//!
//! # async fn demo() -> provisioning::StoreResult<()> {
//! let store = PostgresStore::connect("postgres://gtm@db.internal/gtm").await?;
//! store.migrate().await?;
//! store.seed_default_tiers().await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use uuid::Uuid;

use super::{
    Claim, ProvisionSummary, Store, StoreError, StoreResult, StoredEvent, Versioned, Wakeups,
};
use crate::model::{CustomerId, ProvisionId, ProvisionState, ProvisionStatus, Tier, TierId};
use crate::progress::ProgressEvent;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Default size of the connection pool of [`PostgresStore::connect`].
const POOL_SIZE: u32 = 8;

/// A [`Store`] in a PostgreSQL database, through a `sqlx` connection pool.
///
/// Cheap to clone. Connect with [`PostgresStore::connect`] (or wrap your own pool with
/// [`PostgresStore::from_pool`]), then call [`Store::migrate`] once to create or upgrade the
/// schema. Any number of processes may use the same database at once.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    location: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .field("connections", &self.pool.size())
            .finish()
    }
}

/// `postgres://user@host:port/database`, without the password.
fn describe(o: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or("")
    )
}

impl PostgresStore {
    /// Connect to the database at `url` (`postgres://user:password@host:port/database`, with
    /// sqlx's query parameters, e.g. `?sslmode=require`), with a pool of up to 8 connections.
    ///
    /// The schema is not touched: call [`Store::migrate`].
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming the server and database (never the password) if the URL
    /// is malformed or the server cannot be reached or refuses the login.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url.trim()).map_err(|e| {
            StoreError::Backend(format!(
                "invalid PostgreSQL URL (expected postgres://user:password@host:port/database): {}",
                redact(&e.to_string(), url)
            ))
        })?;
        Self::connect_with(options, POOL_SIZE).await
    }

    /// Connect with explicit options and pool size.
    ///
    /// # Errors
    /// As [`PostgresStore::connect`].
    pub async fn connect_with(
        options: PgConnectOptions,
        max_connections: u32,
    ) -> StoreResult<Self> {
        let location = describe(&options);
        // One direct attempt first: the pool would keep retrying an unreachable server until
        // its acquire timeout (30 s); a refused connection or login should fail at once.
        let probe = <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)
            .await
            .map_err(|e| {
                StoreError::Backend(format!("cannot connect to PostgreSQL at {location}: {e}"))
            })?;
        let _ = sqlx::Connection::close(probe).await;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Backend(format!("cannot connect to PostgreSQL at {location}: {e}"))
            })?;
        Ok(PostgresStore { pool, location })
    }

    /// A store over an existing pool (its options are the caller's).
    pub fn from_pool(pool: PgPool) -> Self {
        let location = describe(&pool.connect_options());
        PostgresStore { pool, location }
    }

    /// The connection pool, for reading the tables with plain SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Close every connection (waiting for those in use to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Remove the URL (which may hold a password) from an error message about it.
fn redact(message: &str, url: &str) -> String {
    if url.is_empty() {
        message.to_string()
    } else {
        message.replace(url, "[URL]")
    }
}

fn backend(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::Backend(format!("PostgreSQL: {context}: {e}"))
}

/// The kind and constraint name of a database error.
fn constraint(e: &sqlx::Error) -> Option<(ErrorKind, String)> {
    e.as_database_error()
        .map(|d| (d.kind(), d.constraint().unwrap_or_default().to_string()))
}

fn to_json<T: serde::Serialize>(v: &T, what: &str) -> StoreResult<String> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::Backend(format!("cannot serialize {what}: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
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

/// A tier's number as the seed's `INT` column.
fn int(v: i64, column: &str, tier: &Tier) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| {
        StoreError::Backend(format!(
            "tier {:?}: {column} = {v} does not fit the seed's INT column",
            tier.slug
        ))
    })
}

/// The seed's and the engine's columns of `infra_provisions`, in the order of
/// [`PROJECTED_COLUMNS`] (without `id`, `version` and the lease).
struct Projection {
    student_id: Uuid,
    tier_id: Uuid,
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
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    state: String,
    due_at: Option<DateTime<Utc>>,
    customer_name: String,
    tier_slug: String,
}

/// The projected columns with the cast each placeholder needs (JSON is bound as text).
const PROJECTED_COLUMNS: [(&str, &str); 22] = [
    ("student_id", ""),
    ("tier_id", ""),
    ("status", ""),
    ("stripe_checkout_session_id", ""),
    ("stripe_subscription_id", ""),
    ("stripe_customer_id", ""),
    ("mailbox_pattern_1", ""),
    ("mailbox_pattern_2", ""),
    ("zapmail_workspace_id", ""),
    ("zapmail_workspace_key", ""),
    ("plusvibe_workspace_id", ""),
    ("plusvibe_client_id", ""),
    ("plusvibe_client_email", ""),
    ("plusvibe_client_password", ""),
    ("heyreach_list_id", ""),
    ("provisioning_log", "::jsonb"),
    ("created_at", ""),
    ("updated_at", ""),
    ("state", "::jsonb"),
    ("due_at", ""),
    ("customer_name", ""),
    ("tier_slug", ""),
];

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

impl Projection {
    fn of(s: &ProvisionState) -> StoreResult<Self> {
        let l = &s.ledger;
        let p = Projection {
            student_id: s.customer.id.0,
            tier_id: s.tier_id.0,
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
            created_at: s.created_at,
            updated_at: s.updated_at,
            state: to_json(s, "provision state")?,
            due_at: s.due_at(),
            customer_name: s.customer.name.clone(),
            tier_slug: s.tier.slug.clone(),
        };
        // PostgreSQL text cannot hold NUL (JSON escapes it as \u0000, which JSONB refuses).
        if p.state.contains("\\u0000") {
            return Err(StoreError::Backend(format!(
                "provision {} contains a NUL character, which PostgreSQL cannot store",
                s.id
            )));
        }
        Ok(p)
    }

    /// Bind the columns in [`PROJECTED_COLUMNS`] order.
    fn bind(self, q: PgQuery<'_>) -> PgQuery<'_> {
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

/// `INSERT` of a new provision: `$1` = id, then the projected columns; version 1, no lease.
static INSERT_PROVISION: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = PROJECTED_COLUMNS.iter().map(|(c, _)| *c).collect();
    let values: Vec<String> = PROJECTED_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (_, cast))| format!("${}{cast}", i + 2))
        .collect();
    format!(
        "INSERT INTO infra_provisions (id, version, {}) VALUES ($1, 1, {})",
        names.join(", "),
        values.join(", ")
    )
});

/// The fenced `UPDATE` of a save: the projected columns (`$1..$22`), then `lease_until`
/// (`$23`; NULL also clears the owner), `id` (`$24`) and the expected version (`$25`).
static SAVE_PROVISION: LazyLock<String> = LazyLock::new(|| {
    let n = PROJECTED_COLUMNS.len();
    let sets: Vec<String> = PROJECTED_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (c, cast))| format!("{c} = ${}{cast}", i + 1))
        .collect();
    format!(
        "UPDATE infra_provisions SET {}, version = version + 1, lease_until = ${l}, \
         lease_owner = CASE WHEN ${l}::timestamptz IS NULL THEN NULL ELSE lease_owner END \
         WHERE id = ${id} AND version = ${v} RETURNING version",
        sets.join(", "),
        l = n + 1,
        id = n + 2,
        v = n + 3,
    )
});

const TIER_COLUMNS: &str = "id, name, slug, domain_count, mailboxes_per_domain, setup_fee_cents, \
     monthly_fee_cents, stripe_setup_price_id, stripe_monthly_price_id, is_active, sort_order";

fn tier_from_row(r: &PgRow) -> StoreResult<Tier> {
    fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
        r: &'r PgRow,
        c: &str,
    ) -> StoreResult<T> {
        r.try_get::<T, _>(c)
            .map_err(|e| StoreError::Corrupt(format!("infra_tiers.{c}: {e}")))
    }
    let small = |c: &str| -> StoreResult<u32> {
        let v: i32 = get(r, c)?;
        u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("infra_tiers.{c} = {v}")))
    };
    Ok(Tier {
        id: TierId(get(r, "id")?),
        name: get(r, "name")?,
        slug: get(r, "slug")?,
        domain_count: small("domain_count")?,
        mailboxes_per_domain: small("mailboxes_per_domain")?,
        setup_fee_cents: i64::from(get::<i32>(r, "setup_fee_cents")?),
        monthly_fee_cents: i64::from(get::<i32>(r, "monthly_fee_cents")?),
        stripe_setup_price_id: get(r, "stripe_setup_price_id")?,
        stripe_monthly_price_id: get(r, "stripe_monthly_price_id")?,
        // The seed's columns are nullable: NULL is not active (as the seed's policy reads it)
        // and sorts as 0 (the seed's default).
        is_active: get::<Option<bool>>(r, "is_active")?.unwrap_or(false),
        sort_order: get::<Option<i32>>(r, "sort_order")?.unwrap_or(0),
    })
}

/// A provision's domain rows: upsert each domain of the state (touching `updated_at` only
/// when the row changes) and delete rows of domains no longer in the state.
async fn project_domains(conn: &mut sqlx::PgConnection, state: &ProvisionState) -> StoreResult<()> {
    for d in &state.domains {
        sqlx::query(
            "INSERT INTO infra_domains \
               (id, provision_id, domain_name, zapmail_domain_id, status, mailboxes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $7) \
             ON CONFLICT (id) DO UPDATE SET \
               domain_name = excluded.domain_name, \
               zapmail_domain_id = excluded.zapmail_domain_id, \
               status = excluded.status, \
               mailboxes = excluded.mailboxes, \
               updated_at = excluded.updated_at \
             WHERE infra_domains.provision_id = excluded.provision_id AND ( \
                   infra_domains.domain_name IS DISTINCT FROM excluded.domain_name \
                OR infra_domains.zapmail_domain_id IS DISTINCT FROM excluded.zapmail_domain_id \
                OR infra_domains.status IS DISTINCT FROM excluded.status \
                OR infra_domains.mailboxes IS DISTINCT FROM excluded.mailboxes)",
        )
        .bind(d.id)
        .bind(state.id.0)
        .bind(&d.name)
        .bind(&d.zapmail_domain_id)
        .bind(d.status.as_str())
        .bind(to_json(&d.mailboxes, "mailboxes")?)
        .bind(state.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(backend("writing infra_domains"))?;
    }
    let keep: Vec<Uuid> = state.domains.iter().map(|d| d.id).collect();
    sqlx::query("DELETE FROM infra_domains WHERE provision_id = $1 AND id <> ALL($2)")
        .bind(state.id.0)
        .bind(keep)
        .execute(&mut *conn)
        .await
        .map_err(backend("deleting removed infra_domains"))?;
    Ok(())
}

/// Whether a provision row exists.
async fn exists<'e, E: sqlx::PgExecutor<'e>>(ex: E, id: ProvisionId) -> StoreResult<bool> {
    Ok(sqlx::query("SELECT 1 FROM infra_provisions WHERE id = $1")
        .bind(id.0)
        .fetch_optional(ex)
        .await
        .map_err(backend("reading infra_provisions"))?
        .is_some())
}

async fn find_by_customer<'e, E: sqlx::PgExecutor<'e>>(
    ex: E,
    customer: CustomerId,
) -> StoreResult<Option<ProvisionId>> {
    sqlx::query("SELECT id FROM infra_provisions WHERE student_id = $1")
        .bind(customer.0)
        .fetch_optional(ex)
        .await
        .map_err(backend("reading infra_provisions"))?
        .map(|r| {
            r.try_get::<Uuid, _>("id")
                .map(ProvisionId)
                .map_err(backend("reading infra_provisions"))
        })
        .transpose()
}

/// The `LISTEN/NOTIFY` channel on which new and woken runs are announced (payload: the
/// provision id only).
pub const CHANNEL: &str = "gtm_runs";

/// Whether the state's live run is due now (a save releasing it announces it).
fn is_due_now(state: &ProvisionState) -> bool {
    state.due_at().is_some_and(|t| t <= Utc::now())
}

/// Announce a run on [`CHANNEL`]; delivered when the transaction commits.
async fn notify(conn: &mut sqlx::PgConnection, id: ProvisionId) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(id.to_string())
        .execute(conn)
        .await
        .map_err(backend("announcing a run"))?;
    Ok(())
}

/// Free at `$2` (now): no lease, or an expired one. [`Store::claim_due`] never takes a run
/// under a live lease, even the caller's own: the caller may be driving it right now
/// (claiming it again made two tasks drive one run).
const UNLEASED: &str = "(lease_owner IS NULL OR lease_until IS NULL OR lease_until <= $2)";

/// Claimable by `$1` (the worker) at `$2` (now): no lease, the worker's own, or expired.
const CLAIMABLE: &str =
    "(lease_owner IS NULL OR lease_until IS NULL OR lease_owner = $1 OR lease_until <= $2)";

impl PostgresStore {
    /// Map an error of writing a provision row (the transaction is already gone).
    async fn provision_write_error(
        &self,
        e: sqlx::Error,
        state: &ProvisionState,
        context: &'static str,
    ) -> StoreError {
        match constraint(&e) {
            Some((ErrorKind::ForeignKeyViolation, c)) if c.contains("tier_id") => {
                StoreError::TierNotFound(state.tier_id.to_string())
            }
            Some((ErrorKind::ForeignKeyViolation, c)) if c.contains("student_id") => {
                StoreError::Backend(format!(
                    "customer {} is not in bootcamp_students (infra_provisions.student_id references it)",
                    state.customer.id
                ))
            }
            Some((ErrorKind::UniqueViolation, c)) if c.contains("student_id") => {
                match find_by_customer(&self.pool, state.customer.id).await {
                    Ok(Some(existing)) => StoreError::DuplicateCustomer {
                        customer: state.customer.id,
                        existing,
                    },
                    Ok(None) => backend(context)(e),
                    Err(other) => other,
                }
            }
            Some((ErrorKind::UniqueViolation, c)) if c.contains("pkey") => {
                StoreError::Backend(format!("provision {} exists", state.id))
            }
            _ => backend(context)(e),
        }
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> StoreResult<()> {
        // sqlx's PostgreSQL migrator holds an advisory lock, so processes migrating at once
        // take turns; each migration is one transaction.
        MIGRATOR.run(&self.pool).await.map_err(|e| {
            StoreError::Backend(format!(
                "PostgreSQL: migrating {} failed: {e}",
                self.location
            ))
        })
    }

    async fn seed_default_tiers(&self) -> StoreResult<()> {
        // Serialise seeders with a transaction-scoped advisory lock, so processes starting
        // together seed once.
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(backend("starting a transaction"))?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('gtm.seed_default_tiers'))")
            .execute(&mut *tx)
            .await
            .map_err(backend("locking the tier seed"))?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM infra_tiers")
            .fetch_one(&mut *tx)
            .await
            .map_err(backend("reading infra_tiers"))?;
        if count == 0 {
            for t in Tier::seed_defaults() {
                put_tier(&mut tx, &t).await?;
            }
        }
        tx.commit()
            .await
            .map_err(backend("committing the default tiers"))
    }

    async fn put_tier(&self, tier: &Tier) -> StoreResult<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(backend("getting a connection"))?;
        put_tier(&mut conn, tier).await
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
            "SELECT {TIER_COLUMNS} FROM infra_tiers WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("reading infra_tiers"))?
        .ok_or_else(|| StoreError::TierNotFound(id.to_string()))?;
        tier_from_row(&row)
    }

    async fn tier_by_slug(&self, slug: &str) -> StoreResult<Tier> {
        let row = sqlx::query(&format!(
            "SELECT {TIER_COLUMNS} FROM infra_tiers WHERE slug = $1"
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
            .begin()
            .await
            .map_err(backend("starting a transaction"))?;
        if let Some(existing) = find_by_customer(&mut *tx, state.customer.id).await? {
            return Err(StoreError::DuplicateCustomer {
                customer: state.customer.id,
                existing,
            });
        }
        let r = projection
            .bind(sqlx::query(INSERT_PROVISION.as_str()).bind(state.id.0))
            .execute(&mut *tx)
            .await;
        if let Err(e) = r {
            // A concurrent insert for the same customer, an unknown tier or customer: the
            // transaction is aborted; look at the committed data.
            drop(tx);
            return Err(self
                .provision_write_error(e, state, "inserting into infra_provisions")
                .await);
        }
        project_domains(&mut tx, state).await?;
        if is_due_now(state) {
            notify(&mut tx, state.id).await?;
        }
        tx.commit()
            .await
            .map_err(backend("committing a new provision"))?;
        Ok(1)
    }

    async fn load(&self, id: ProvisionId) -> StoreResult<Versioned<ProvisionState>> {
        let row =
            sqlx::query("SELECT state::text AS state, version FROM infra_provisions WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend("reading infra_provisions"))?
                .ok_or(StoreError::NotFound(id))?;
        let state: Option<String> = row
            .try_get("state")
            .map_err(|e| StoreError::Corrupt(format!("state of provision {id}: {e}")))?;
        let state = state.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "provision {id} has no engine state (a row written by another tool, e.g. the seed)"
            ))
        })?;
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

    async fn list_provisions(&self) -> StoreResult<Vec<ProvisionSummary>> {
        // Rows the engine did not write have no customer_name / tier_slug: fall back to the
        // tier's slug and an empty name.
        let rows = sqlx::query(
            "SELECT p.id, p.student_id, COALESCE(p.customer_name, '') AS customer_name, \
                    COALESCE(p.tier_slug, t.slug, '') AS tier_slug, p.status, \
                    COALESCE(p.updated_at, p.created_at, now()) AS updated_at \
             FROM infra_provisions p LEFT JOIN infra_tiers t ON t.id = p.tier_id \
             ORDER BY p.created_at DESC NULLS LAST, p.id ASC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend("reading infra_provisions"))?;
        rows.iter()
            .map(|r| {
                fn col<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
                    r: &'r PgRow,
                    c: &str,
                ) -> StoreResult<T> {
                    r.try_get::<T, _>(c)
                        .map_err(|e| StoreError::Corrupt(format!("infra_provisions.{c}: {e}")))
                }
                let status: String = col(r, "status")?;
                Ok(ProvisionSummary {
                    id: ProvisionId(col(r, "id")?),
                    customer_id: CustomerId(col(r, "student_id")?),
                    customer_name: col(r, "customer_name")?,
                    tier_slug: col(r, "tier_slug")?,
                    status: serde_json::from_value::<ProvisionStatus>(serde_json::Value::String(
                        status.clone(),
                    ))
                    .map_err(|_| {
                        StoreError::Corrupt(format!("unknown provision status {status:?}"))
                    })?,
                    updated_at: col(r, "updated_at")?,
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
        if event_rows.iter().any(|(_, j)| j.contains("\\u0000")) {
            return Err(StoreError::Backend(format!(
                "an event of provision {} contains a NUL character, which PostgreSQL cannot store",
                state.id
            )));
        }
        let Ok(expected_i) = i64::try_from(expected) else {
            return Err(conflict());
        };
        let announce = lease_until.is_none() && is_due_now(state);

        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(backend("starting a transaction"))?;
        let r = projection
            .bind(sqlx::query(SAVE_PROVISION.as_str()))
            .bind(lease_until)
            .bind(state.id.0)
            .bind(expected_i)
            .fetch_optional(&mut *tx)
            .await;
        let row = match r {
            Ok(row) => row,
            Err(e) => {
                drop(tx);
                return Err(self
                    .provision_write_error(e, state, "updating infra_provisions")
                    .await);
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

        for (e, json) in event_rows {
            sqlx::query(
                "INSERT INTO gtm_events (provision_id, run_id, at, step, name, status, event) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
            )
            .bind(state.id.0)
            .bind(e.run_id.map(|r| r.0))
            .bind(e.at)
            .bind(i32::try_from(e.step).unwrap_or(i32::MAX))
            .bind(&e.name)
            .bind(enum_str(&e.status))
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(backend("appending to gtm_events"))?;
        }
        if announce {
            notify(&mut tx, state.id).await?;
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
        // One UPDATE of the named row: if a writer holds the row, this waits for it and then
        // re-checks the lease on the committed row (READ COMMITTED re-evaluation), so two
        // claimers never both win.
        let row = sqlx::query(&format!(
            "UPDATE infra_provisions SET lease_owner = $1, lease_until = $3, version = version + 1 \
             WHERE id = $4 AND {CLAIMABLE} RETURNING version"
        ))
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .bind(id.0)
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
            "UPDATE infra_provisions SET lease_until = $1 WHERE id = $2 AND lease_owner = $3",
        )
        .bind(lease_until)
        .bind(id.0)
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
        // Rows another worker is claiming or saving right now are skipped, not waited for;
        // a row whose claim committed after this statement's snapshot is re-checked when
        // locked (and dropped if no longer claimable).
        let rows = sqlx::query(&format!(
            "WITH picked AS ( \
               SELECT id FROM infra_provisions \
               WHERE due_at IS NOT NULL AND due_at <= $2 AND {UNLEASED} \
               ORDER BY due_at, id LIMIT $4 \
               FOR UPDATE SKIP LOCKED) \
             UPDATE infra_provisions p \
             SET lease_owner = $1, lease_until = $3, version = p.version + 1 \
             FROM picked WHERE p.id = picked.id \
             RETURNING p.id, p.version, p.due_at"
        ))
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend("claiming due provisions"))?;
        let mut claims = rows
            .iter()
            .map(|r| {
                let id: Uuid = r.try_get("id").map_err(backend("reading a claim"))?;
                let due: DateTime<Utc> = r.try_get("due_at").map_err(backend("reading a claim"))?;
                let version: i64 = r.try_get("version").map_err(backend("reading a claim"))?;
                Ok((
                    due,
                    id,
                    Claim {
                        id: ProvisionId(id),
                        version: version_of(version)?,
                    },
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING has no order: earliest due first, as selected.
        claims.sort_by_key(|c| (c.0, c.1));
        Ok(claims.into_iter().map(|(_, _, c)| c).collect())
    }

    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        // A live claim hides the run until its lease ends.
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN lease_owner IS NOT NULL AND lease_until IS NOT NULL \
                              AND lease_until > $1 \
                         THEN GREATEST(due_at, lease_until) ELSE due_at END) AS next \
             FROM infra_provisions WHERE due_at IS NOT NULL",
        )
        .bind(Utc::now())
        .fetch_one(&self.pool)
        .await
        .map_err(backend("reading due times"))?;
        row.try_get("next").map_err(backend("reading due times"))
    }

    async fn subscribe(&self) -> StoreResult<Option<Wakeups>> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(backend("connecting to LISTEN for new runs"))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(backend("listening for new runs"))?;
        // The stream ends when the connection drops (notices sent meanwhile are lost, so the
        // worker polls, then subscribes again).
        let stream = futures::stream::unfold(listener, |mut listener| async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        if let Ok(id) = n.payload().parse::<Uuid>() {
                            return Some((ProvisionId(id), listener));
                        }
                    }
                    Ok(None) | Err(_) => return None,
                }
            }
        });
        Ok(Some(Box::pin(stream)))
    }

    async fn events(&self, id: ProvisionId, after: u64) -> StoreResult<Vec<StoredEvent>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT seq, event::text AS event FROM gtm_events \
             WHERE provision_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(id.0)
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
async fn put_tier(conn: &mut sqlx::PgConnection, tier: &Tier) -> StoreResult<()> {
    let r = sqlx::query(&format!(
        "INSERT INTO infra_tiers ({TIER_COLUMNS}, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), now()) \
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
    .bind(tier.id.0)
    .bind(&tier.name)
    .bind(&tier.slug)
    .bind(int(i64::from(tier.domain_count), "domain_count", tier)?)
    .bind(int(
        i64::from(tier.mailboxes_per_domain),
        "mailboxes_per_domain",
        tier,
    )?)
    .bind(int(tier.setup_fee_cents, "setup_fee_cents", tier)?)
    .bind(int(tier.monthly_fee_cents, "monthly_fee_cents", tier)?)
    .bind(&tier.stripe_setup_price_id)
    .bind(&tier.stripe_monthly_price_id)
    .bind(tier.is_active)
    .bind(tier.sort_order)
    .execute(&mut *conn)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) => match constraint(&e) {
            Some((ErrorKind::UniqueViolation, c)) if c.contains("slug") => {
                Err(StoreError::DuplicateTierSlug(tier.slug.clone()))
            }
            _ => Err(backend("writing infra_tiers")(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_sql_numbers_every_placeholder() {
        let n = PROJECTED_COLUMNS.len();
        assert!(INSERT_PROVISION.contains(&format!("${}", n + 1)));
        assert!(!INSERT_PROVISION.contains(&format!("${}", n + 2)));
        assert!(SAVE_PROVISION.contains(&format!("${}", n + 3)));
        assert!(!SAVE_PROVISION.contains(&format!("${}", n + 4)));
        assert!(SAVE_PROVISION.contains("state = $19::jsonb"));
    }

    #[test]
    fn descriptions_and_errors_hide_the_password() {
        let url = "postgres://gtm:hunter2-secret@db.example:6543/gtm";
        let o = PgConnectOptions::from_str(url).unwrap();
        let d = describe(&o);
        assert_eq!(d, "postgres://gtm@db.example:6543/gtm");
        assert_eq!(redact(&format!("bad {url}"), url), "bad [URL]");
    }
}
