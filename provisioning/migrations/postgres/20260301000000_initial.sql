-- GTM infrastructure store, PostgreSQL: the seed's tables (`infra_tiers`, `infra_provisions`,
-- `infra_domains`, with the seed's column names, types and CHECK constraints, so the seed's
-- frontend keeps reading them), plus the engine's columns and its event log.
--
-- Everything is created `IF NOT EXISTS`, so this also runs on a database where the seed's own
-- Supabase migration (`20260206120000_infrastructure_tables.sql`) already ran: then it only
-- adds the engine's columns (`ADD COLUMN IF NOT EXISTS`) and its table. It never drops,
-- renames or retypes a seed column, and it leaves the seed's rows alone.
--
-- Differences from the seed's migration, all conditional:
-- - `infra_provisions.student_id REFERENCES bootcamp_students(id)`: the foreign key is created
--   only if a `bootcamp_students` table exists (the host's customer table); otherwise
--   `student_id` is a plain UUID.
-- - Row-level security and the seed's policies use Supabase's `auth.jwt()` / `auth.role()`:
--   they are enabled only if those functions exist (a Supabase database). Elsewhere RLS is
--   left off: the engine connects as the tables' owner (who bypasses RLS anyway), and access
--   is the database's ordinary GRANTs.
-- - The seed's default tiers are not inserted here: `Store::seed_default_tiers` does it when
--   there are no tiers at all.

CREATE TABLE IF NOT EXISTS infra_tiers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  slug TEXT UNIQUE NOT NULL,
  domain_count INT NOT NULL,
  mailboxes_per_domain INT NOT NULL DEFAULT 2,
  setup_fee_cents INT NOT NULL,
  monthly_fee_cents INT NOT NULL,
  stripe_setup_price_id TEXT,
  stripe_monthly_price_id TEXT,
  is_active BOOLEAN DEFAULT TRUE,
  sort_order INT DEFAULT 0,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS infra_provisions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The seed's `REFERENCES bootcamp_students(id)` is added below if that table exists.
  student_id UUID NOT NULL,
  tier_id UUID NOT NULL REFERENCES infra_tiers(id),
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
  heyreach_list_id BIGINT,
  -- JSON array of the seed's ProvisioningStep (camelCase keys).
  provisioning_log JSONB DEFAULT '[]',
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW(),
  UNIQUE(student_id)
);

-- The engine's columns. `state` (the whole ProvisionState) is the source of truth; every other
-- column is projected from it when it is saved. They are nullable so that they can be added
-- to a seed table that already has rows (rows the engine never wrote have no `state`).
ALTER TABLE infra_provisions ADD COLUMN IF NOT EXISTS state JSONB;
-- Optimistic-concurrency version, bumped by every save and claim (the fencing token).
ALTER TABLE infra_provisions ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE infra_provisions ADD COLUMN IF NOT EXISTS lease_owner TEXT;
ALTER TABLE infra_provisions ADD COLUMN IF NOT EXISTS lease_until TIMESTAMPTZ;
-- When the live run is next due; NULL when there is no live run.
ALTER TABLE infra_provisions ADD COLUMN IF NOT EXISTS due_at TIMESTAMPTZ;
ALTER TABLE infra_provisions ADD COLUMN IF NOT EXISTS customer_name TEXT;
ALTER TABLE infra_provisions ADD COLUMN IF NOT EXISTS tier_slug TEXT;

-- The seed's foreign key to the host's customer table, when there is one.
DO $$
BEGIN
  IF to_regclass('bootcamp_students') IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM pg_constraint
    WHERE conrelid = 'infra_provisions'::regclass
      AND contype = 'f'
      AND confrelid = to_regclass('bootcamp_students')
  ) THEN
    ALTER TABLE infra_provisions
      ADD CONSTRAINT infra_provisions_student_id_fkey
      FOREIGN KEY (student_id) REFERENCES bootcamp_students(id);
  END IF;
END
$$;

CREATE TABLE IF NOT EXISTS infra_domains (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  provision_id UUID NOT NULL REFERENCES infra_provisions(id) ON DELETE CASCADE,
  domain_name TEXT NOT NULL,
  zapmail_domain_id TEXT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'purchasing', 'dns_pending', 'connected', 'active', 'failed')),
  -- JSON array of {username, email, zapmail_mailbox_id, plusvibe_account_id}.
  mailboxes JSONB DEFAULT '[]',
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Append-only log of progress events (the engine's, not the seed's).
CREATE TABLE IF NOT EXISTS gtm_events (
  seq BIGSERIAL PRIMARY KEY,
  provision_id UUID NOT NULL REFERENCES infra_provisions(id) ON DELETE CASCADE,
  run_id UUID,
  at TIMESTAMPTZ NOT NULL,
  step INT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  -- The whole ProgressEvent.
  event JSONB NOT NULL
);

CREATE OR REPLACE FUNCTION gtm_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'gtm_events is append-only';
END
$$;

DROP TRIGGER IF EXISTS gtm_events_append_only ON gtm_events;
CREATE TRIGGER gtm_events_append_only BEFORE UPDATE ON gtm_events
  FOR EACH ROW EXECUTE FUNCTION gtm_events_append_only();

-- The seed's indexes, and the engine's.
CREATE INDEX IF NOT EXISTS idx_infra_provisions_student ON infra_provisions(student_id);
CREATE INDEX IF NOT EXISTS idx_infra_provisions_status ON infra_provisions(status);
CREATE INDEX IF NOT EXISTS idx_infra_domains_provision ON infra_domains(provision_id);
CREATE INDEX IF NOT EXISTS idx_infra_tiers_active ON infra_tiers(is_active, sort_order);
CREATE INDEX IF NOT EXISTS idx_infra_provisions_due ON infra_provisions(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_infra_provisions_created ON infra_provisions(created_at);
CREATE INDEX IF NOT EXISTS idx_gtm_events_provision ON gtm_events(provision_id, seq);

-- Row-level security and the seed's policies, on Supabase only (where `auth.jwt()` and
-- `auth.role()` exist). Policies are created by name if missing, so the seed's own stay.
-- `gtm_events` gets RLS with only the service-role policy: students read progress through
-- `infra_provisions.provisioning_log`, as in the seed.
DO $$
DECLARE
  p RECORD;
BEGIN
  IF to_regprocedure('auth.jwt()') IS NULL OR to_regprocedure('auth.role()') IS NULL THEN
    RETURN;
  END IF;
  ALTER TABLE infra_tiers ENABLE ROW LEVEL SECURITY;
  ALTER TABLE infra_provisions ENABLE ROW LEVEL SECURITY;
  ALTER TABLE infra_domains ENABLE ROW LEVEL SECURITY;
  ALTER TABLE gtm_events ENABLE ROW LEVEL SECURITY;
  FOR p IN SELECT * FROM (VALUES
    ('infra_tiers', 'Anyone can read active tiers',
     'FOR SELECT USING (is_active = true)'),
    ('infra_provisions', 'Students read own provisions',
     'FOR SELECT USING (student_id IN (SELECT id FROM bootcamp_students WHERE email = auth.jwt() ->> ''email''))'),
    ('infra_domains', 'Students read own domains',
     'FOR SELECT USING (provision_id IN (SELECT id FROM infra_provisions WHERE student_id IN (SELECT id FROM bootcamp_students WHERE email = auth.jwt() ->> ''email'')))'),
    ('infra_tiers', 'Service role manages infra_tiers',
     'FOR ALL USING (auth.role() = ''service_role'')'),
    ('infra_provisions', 'Service role manages infra_provisions',
     'FOR ALL USING (auth.role() = ''service_role'')'),
    ('infra_domains', 'Service role manages infra_domains',
     'FOR ALL USING (auth.role() = ''service_role'')'),
    ('gtm_events', 'Service role manages gtm_events',
     'FOR ALL USING (auth.role() = ''service_role'')')
  ) AS v(tbl, pol, body)
  LOOP
    -- The student policies need the host's customer table.
    CONTINUE WHEN p.body LIKE '%bootcamp_students%' AND to_regclass('bootcamp_students') IS NULL;
    IF NOT EXISTS (
      SELECT 1 FROM pg_policies
      WHERE schemaname = current_schema() AND tablename = p.tbl AND policyname = p.pol
    ) THEN
      EXECUTE format('CREATE POLICY %I ON %I %s', p.pol, p.tbl, p.body);
    END IF;
  END LOOP;
END
$$;
