-- Shared vendor rate budgets (`PgRateLimiter`): one GCRA cell per (vendor key hash, bucket).
-- `key_hash` is the SHA-256 of the vendor name and the API key (never the key itself); `tat`
-- is the cell's theoretical arrival time; `blocked_until` is the 429 gate every process
-- waits for. Rows are tiny and there is one per key and bucket.
CREATE TABLE IF NOT EXISTS gtm_rate_limits (
  key_hash TEXT NOT NULL,
  bucket TEXT NOT NULL,
  tat TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  blocked_until TIMESTAMPTZ,
  PRIMARY KEY (key_hash, bucket)
);

-- On Supabase, keep the table away from the public API: service role only.
DO $$
BEGIN
  IF to_regprocedure('auth.role()') IS NULL THEN
    RETURN;
  END IF;
  ALTER TABLE gtm_rate_limits ENABLE ROW LEVEL SECURITY;
  IF NOT EXISTS (
    SELECT 1 FROM pg_policies
    WHERE schemaname = current_schema() AND tablename = 'gtm_rate_limits'
      AND policyname = 'Service role manages gtm_rate_limits'
  ) THEN
    CREATE POLICY "Service role manages gtm_rate_limits" ON gtm_rate_limits
      FOR ALL USING (auth.role() = 'service_role');
  END IF;
END
$$;
