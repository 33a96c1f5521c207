-- 0002: people who use the console and the CLI, with their role.
-- (The console adds passwords and sessions; the notices work uses roles for approvals.)
CREATE TABLE accounts (
  email          TEXT PRIMARY KEY,              -- lower-case
  name           TEXT NOT NULL DEFAULT '',
  role           TEXT NOT NULL CHECK (role IN ('viewer', 'author', 'approver', 'admin')),
  locale         TEXT NOT NULL DEFAULT 'en',
  password_hash  TEXT,                          -- NULL until a password is set
  created_by     TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  disabled_at    TEXT
);
