-- 0001: the compliance core (inventory, policies, verdicts, exemptions, audit, tokens)

CREATE TABLE employees (
  id          INTEGER PRIMARY KEY,
  email       TEXT NOT NULL UNIQUE,           -- lower-case
  name        TEXT NOT NULL DEFAULT '',
  locale      TEXT NOT NULL DEFAULT 'en',
  timezone    TEXT NOT NULL DEFAULT 'UTC',
  department  TEXT NOT NULL DEFAULT '',
  country     TEXT NOT NULL DEFAULT '',
  groups      TEXT NOT NULL DEFAULT '[]',     -- JSON array of names
  manager     TEXT NOT NULL DEFAULT '',
  updated_at  TEXT NOT NULL
);

CREATE TABLE devices (
  id            INTEGER PRIMARY KEY,
  key           TEXT NOT NULL UNIQUE,
  owner_email   TEXT,                         -- may name an employee not synced yet
  platform      TEXT NOT NULL,
  ownership     TEXT NOT NULL,
  visibility    TEXT NOT NULL,
  os_version    TEXT NOT NULL DEFAULT '',
  android_patch TEXT,
  mail_access   INTEGER NOT NULL DEFAULT 0,
  name          TEXT NOT NULL DEFAULT '',
  model         TEXT NOT NULL DEFAULT '',
  serial        TEXT NOT NULL DEFAULT '',
  source        TEXT NOT NULL DEFAULT '',
  last_seen_at  TEXT,
  updated_at    TEXT NOT NULL
);
CREATE INDEX devices_owner ON devices(owner_email);

CREATE TABLE device_identities (
  kind       TEXT NOT NULL,                   -- eas | cert | imap
  value      TEXT NOT NULL,
  device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX device_identities_device ON device_identities(device_id);

CREATE TABLE apps (
  id           INTEGER PRIMARY KEY,
  platform     TEXT NOT NULL,
  identifier   TEXT NOT NULL,                 -- '' for name-only rows
  name_folded  TEXT NOT NULL,                 -- '' unless name-only
  name         TEXT NOT NULL DEFAULT '',
  publisher    TEXT NOT NULL DEFAULT '',
  UNIQUE (platform, identifier, name_folded)
);

-- one row per (device, app); written as diffs. No (app, device) index on purpose: the
-- in-memory inverted index answers "who has app X", and the index would cost ~10x on writes.
CREATE TABLE device_apps (
  device_id      INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  app_id         INTEGER NOT NULL REFERENCES apps(id),
  version        TEXT NOT NULL DEFAULT '',
  first_seen_at  TEXT NOT NULL,
  PRIMARY KEY (device_id, app_id)
) WITHOUT ROWID;

CREATE TABLE app_events (
  seq        INTEGER PRIMARY KEY,
  device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  app_id     INTEGER NOT NULL REFERENCES apps(id),
  event      TEXT NOT NULL CHECK (event IN ('installed', 'removed')),
  at         TEXT NOT NULL,
  source     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX app_events_device ON app_events(device_id, seq);

CREATE TABLE policy_versions (
  slug          TEXT NOT NULL,
  version       INTEGER NOT NULL,
  spec          TEXT NOT NULL,                -- canonical JSON
  source        TEXT NOT NULL,                -- the YAML as applied
  digest        TEXT NOT NULL,
  published_at  TEXT NOT NULL,
  deadline_at   TEXT,
  applied_by    TEXT NOT NULL,
  reason        TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (slug, version)
);

CREATE TABLE policies (
  slug             TEXT PRIMARY KEY,
  current_version  INTEGER NOT NULL,
  active           INTEGER NOT NULL DEFAULT 1,
  FOREIGN KEY (slug, current_version) REFERENCES policy_versions(slug, version)
);

-- sparse: only verdicts that are not plainly compliant
CREATE TABLE verdicts (
  device       TEXT NOT NULL,
  policy       TEXT NOT NULL,
  version      INTEGER NOT NULL,
  status       TEXT NOT NULL,
  action       TEXT NOT NULL,
  findings     TEXT NOT NULL,                 -- JSON
  deadline     TEXT,
  until        TEXT,
  since        TEXT,
  enforce_at   TEXT,
  exemption    TEXT NOT NULL DEFAULT '',
  assessed_at  TEXT NOT NULL,
  PRIMARY KEY (device, policy)
) WITHOUT ROWID;
CREATE INDEX verdicts_policy_status ON verdicts(policy, status);

CREATE TABLE assessments (
  id           INTEGER PRIMARY KEY,
  at           TEXT NOT NULL,                 -- the `now` assessed at
  started_at   TEXT NOT NULL,
  duration_ms  REAL NOT NULL,
  trigger      TEXT NOT NULL,
  counts       TEXT NOT NULL,                 -- JSON {policy: {status: n}}
  transitions  INTEGER NOT NULL
);

CREATE TABLE transitions (
  id             INTEGER PRIMARY KEY,
  assessment_id  INTEGER REFERENCES assessments(id),
  device         TEXT NOT NULL,
  policy         TEXT NOT NULL,
  kind           TEXT NOT NULL,
  old_status     TEXT,
  new_status     TEXT NOT NULL,
  detail         TEXT NOT NULL,               -- JSON: apps, deadline, until
  at             TEXT NOT NULL
);
CREATE INDEX transitions_device ON transitions(device, id);
CREATE INDEX transitions_policy ON transitions(policy, id);

CREATE TABLE exemptions (
  id             TEXT PRIMARY KEY,
  target_kind    TEXT NOT NULL CHECK (target_kind IN ('device', 'employee')),
  target         TEXT NOT NULL,
  policy         TEXT NOT NULL,
  reason         TEXT NOT NULL,
  approver       TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  expires_at     TEXT NOT NULL,
  revoked_at     TEXT,
  revoked_by     TEXT,
  revoke_reason  TEXT
);

CREATE TABLE attestations (
  id          TEXT PRIMARY KEY,
  device      TEXT NOT NULL,
  policy      TEXT NOT NULL,
  employee    TEXT NOT NULL,
  statement   TEXT NOT NULL,
  signed_at   TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  signature   TEXT NOT NULL,
  revoked_at  TEXT
);
CREATE INDEX attestations_device ON attestations(device, policy);

CREATE TABLE audit_events (
  seq        INTEGER PRIMARY KEY,
  at         TEXT NOT NULL,
  type       TEXT NOT NULL,
  actor      TEXT NOT NULL,
  subject    TEXT NOT NULL,
  body       TEXT NOT NULL,                   -- canonical JSON that was hashed
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE INDEX audit_events_type ON audit_events(type, seq);
CREATE INDEX audit_events_subject ON audit_events(subject, seq);

CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  role          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,         -- SHA-256 of the secret; the secret is never stored
  created_by    TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  last_used_at  TEXT,
  revoked_at    TEXT
);

CREATE TABLE meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
