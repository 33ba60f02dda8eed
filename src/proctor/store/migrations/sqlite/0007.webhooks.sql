-- depends: 0004.leases
-- Outbound approval webhooks (sqlite): one row per (approval request, configured webhook), written
-- by the `proctor serve` process that delivers it (proctor.approvals.webhooks, docs/adr/0024).
-- A request with no row yet has not been notified; a row is claimed (claimed_until) by one
-- delivering process at a time, so a crash mid-delivery is retried once the claim runs out.
-- No argument value and no URL is stored: the webhook is named by its configured name.
CREATE TABLE webhook_deliveries (
  approval_id TEXT NOT NULL,
  target TEXT NOT NULL,               -- the webhook's name in proctor.yaml (approvals.webhooks)
  state TEXT NOT NULL,                -- pending | delivered | failed | obsolete
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  next_attempt_at REAL,                 -- set while pending
  claimed_until REAL,                   -- a delivering process's claim
  delivered_at REAL,
  last_status INTEGER,                -- the receiver's last HTTP status, if it answered
  last_error TEXT,                    -- a short code, never a secret
  PRIMARY KEY (approval_id, target)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
