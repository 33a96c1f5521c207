-- 0003: what each committed transaction changed, so that a running server can pick up writes
-- made by another process (the CLI) without a restart. Appended in the same transaction as the
-- change; the server polls max(seq) and reloads only what the new entries name.
CREATE TABLE change_log (
  seq   INTEGER PRIMARY KEY,
  kind  TEXT NOT NULL,     -- device | employee | policy | exemption | attestation | verdicts
  key   TEXT NOT NULL,     -- device key, email, slug, id ('' for "all")
  writer TEXT NOT NULL,    -- which store (process) wrote it; a server skips its own
  at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
