-- 0400: the console (issue 6): sessions, magic links, policy proposals, exemption requests.

-- A signed-in browser. The cookie carries a random secret; only its SHA-256 is stored.
CREATE TABLE console_sessions (
  token_hash    TEXT PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('account', 'employee')),
  subject       TEXT NOT NULL,                 -- account or employee email (lower-case)
  csrf_token    TEXT NOT NULL,                 -- per-session synchroniser token
  created_at    TEXT NOT NULL,
  expires_at    TEXT NOT NULL,
  revoked_at    TEXT
) WITHOUT ROWID;
CREATE INDEX console_sessions_subject ON console_sessions(subject);

-- Employee sign-in links: single use, short-lived; only the SHA-256 of the secret is stored.
CREATE TABLE magic_links (
  token_hash  TEXT PRIMARY KEY,
  email       TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT
) WITHOUT ROWID;
CREATE INDEX magic_links_email ON magic_links(email, created_at);

-- A policy change waiting for a second person: exactly this YAML, previewed, then approved.
CREATE TABLE policy_proposals (
  id             TEXT PRIMARY KEY,
  slug           TEXT NOT NULL,
  source         TEXT NOT NULL,                -- the YAML as proposed
  digest         TEXT NOT NULL,                -- of the parsed policy
  base_version   INTEGER,                      -- the version in force when proposed
  reason         TEXT NOT NULL,
  lead_override  TEXT NOT NULL DEFAULT '',
  author         TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('proposed', 'applied', 'rejected', 'withdrawn')),
  decided_by     TEXT,
  decided_at     TEXT,
  applied_version INTEGER
);
CREATE INDEX policy_proposals_status ON policy_proposals(status, created_at);

-- An exemption someone asked for; an approver other than the requester grants it.
CREATE TABLE exemption_requests (
  id           TEXT PRIMARY KEY,
  target_kind  TEXT NOT NULL CHECK (target_kind IN ('device', 'employee')),
  target       TEXT NOT NULL,
  policy       TEXT NOT NULL,
  reason       TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('requested', 'granted', 'declined')),
  decided_by   TEXT,
  decided_at   TEXT,
  exemption_id TEXT
);
CREATE INDEX exemption_requests_status ON exemption_requests(status, created_at);
CREATE INDEX exemption_requests_target ON exemption_requests(target, created_at);

-- Console search and filters without scanning: employees by name, audit by actor, full
-- assessments by time (partial ones, after a check-in, record empty counts).
CREATE INDEX employees_name ON employees(name COLLATE NOCASE);
CREATE INDEX audit_events_actor ON audit_events(actor, seq);
