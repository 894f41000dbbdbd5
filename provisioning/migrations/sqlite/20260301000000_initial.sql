-- GTM infrastructure store: the SQLite flavour of the seed's Postgres tables
-- (`infra_tiers`, `infra_provisions`, `infra_domains`, same table and column names, so tools
-- written for the seed can read them), plus the engine's columns and its event log.
--
-- Flavour differences from the seed: ids are TEXT (hyphenated lower-case UUIDs); booleans are
-- INTEGER 0/1; timestamps are TEXT RFC 3339 in UTC (written by the store with a fixed width,
-- `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, so that they sort as text); JSONB is TEXT holding JSON.
-- `student_id` has no foreign key: the host's customer table is not part of this database.

CREATE TABLE infra_tiers (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  domain_count INTEGER NOT NULL,
  mailboxes_per_domain INTEGER NOT NULL DEFAULT 2,
  setup_fee_cents INTEGER NOT NULL,
  monthly_fee_cents INTEGER NOT NULL,
  stripe_setup_price_id TEXT,
  stripe_monthly_price_id TEXT,
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  sort_order INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE infra_provisions (
  id TEXT PRIMARY KEY NOT NULL,
  student_id TEXT NOT NULL,
  tier_id TEXT NOT NULL REFERENCES infra_tiers(id),
  status TEXT NOT NULL DEFAULT 'pending_payment'
    CHECK (status IN ('pending_payment', 'provisioning', 'active', 'failed', 'cancelled', 'upgrading')),
  stripe_checkout_session_id TEXT,
  stripe_subscription_id TEXT,
  stripe_customer_id TEXT,
  mailbox_pattern_1 TEXT NOT NULL,
  mailbox_pattern_2 TEXT NOT NULL,
  zapmail_workspace_id TEXT,
  -- The Zapmail workspace id again: it is the `x-workspace-key` value.
  zapmail_workspace_key TEXT,
  plusvibe_workspace_id TEXT,
  plusvibe_client_id TEXT,
  plusvibe_client_email TEXT,
  -- Sealed ciphertext only (`xc20p1:...`), never the plaintext password.
  plusvibe_client_password TEXT,
  heyreach_list_id INTEGER,
  -- JSON array of the seed's ProvisioningStep (camelCase keys).
  provisioning_log TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(provisioning_log)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  -- The engine's columns. `state` (the whole ProvisionState as JSON) is the source of truth;
  -- every other column is projected from it when it is saved.
  state TEXT NOT NULL CHECK (json_valid(state)),
  -- Optimistic-concurrency version, bumped by every save and claim (the fencing token).
  version INTEGER NOT NULL DEFAULT 1,
  lease_owner TEXT,
  lease_until TEXT,
  -- When the live run is next due; NULL when there is no live run.
  due_at TEXT,
  customer_name TEXT NOT NULL,
  tier_slug TEXT NOT NULL,
  UNIQUE (student_id)
);

CREATE TABLE infra_domains (
  id TEXT PRIMARY KEY NOT NULL,
  provision_id TEXT NOT NULL REFERENCES infra_provisions(id) ON DELETE CASCADE,
  domain_name TEXT NOT NULL,
  zapmail_domain_id TEXT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'purchasing', 'dns_pending', 'connected', 'active', 'failed')),
  -- JSON array of {username, email, zapmail_mailbox_id, plusvibe_account_id}.
  mailboxes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(mailboxes)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Append-only log of progress events (the engine's, not the seed's).
CREATE TABLE gtm_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  provision_id TEXT NOT NULL REFERENCES infra_provisions(id) ON DELETE CASCADE,
  run_id TEXT,
  at TEXT NOT NULL,
  step INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  -- The whole ProgressEvent as JSON.
  event TEXT NOT NULL CHECK (json_valid(event))
);

CREATE TRIGGER gtm_events_append_only BEFORE UPDATE ON gtm_events
BEGIN
  SELECT RAISE(ABORT, 'gtm_events is append-only');
END;

CREATE INDEX idx_infra_provisions_status ON infra_provisions(status);
CREATE INDEX idx_infra_provisions_due ON infra_provisions(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX idx_infra_provisions_created ON infra_provisions(created_at);
CREATE INDEX idx_infra_domains_provision ON infra_domains(provision_id);
CREATE INDEX idx_infra_tiers_active ON infra_tiers(is_active, sort_order);
CREATE INDEX idx_gtm_events_provision ON gtm_events(provision_id, seq);
