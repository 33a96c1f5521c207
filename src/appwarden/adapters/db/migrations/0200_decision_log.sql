-- 0200: the decision log. One row per gateway decision, written in batches off the hot path.
-- Identities and users are stored as masked by `decision_log_mask`; rows older than
-- `decision_log_keep` are pruned by the server.
CREATE TABLE decision_log (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  decision_id  TEXT NOT NULL,
  at           TEXT NOT NULL,                  -- ISO 8601 UTC, to the millisecond
  revision     INTEGER NOT NULL,               -- decision index revision
  protocol     TEXT NOT NULL,                  -- api | nginx | dovecot | postfix
  identity     TEXT NOT NULL DEFAULT '',       -- e.g. eas:ABC..., masked as configured
  user         TEXT NOT NULL DEFAULT '',       -- masked as configured
  device       TEXT NOT NULL DEFAULT '',       -- internal device key when known
  allow        INTEGER NOT NULL CHECK (allow IN (0, 1)),
  result       TEXT NOT NULL,                  -- allowed | denied | unknown | would_deny | exempt
  code         TEXT NOT NULL DEFAULT '',
  policies     TEXT NOT NULL DEFAULT ''        -- comma-separated slugs that denied / would deny
);
-- No index on `at`: rows arrive in time order, so pruning walks seq from the start (see
-- SqliteDecisionLog.prune) and inserts stay cheap.
