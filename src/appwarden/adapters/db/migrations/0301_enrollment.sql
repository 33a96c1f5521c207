-- 0301: device enrolment (one-time codes) and per-device check-in credentials (issue 5).
-- Secrets are never stored: only SHA-256 hashes of the 256-bit random values.

CREATE TABLE enrollment_codes (
  id           TEXT PRIMARY KEY,
  code_hash    TEXT NOT NULL UNIQUE,
  owner        TEXT,                          -- employee the enrolled device belongs to
  ownership    TEXT NOT NULL DEFAULT 'unknown',
  device_key   TEXT,                          -- bind to this existing device (re-enrolment)
  created_by   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  used_at      TEXT,
  used_by      TEXT                           -- the device key it enrolled
);

CREATE TABLE device_credentials (
  id            TEXT PRIMARY KEY,
  device_id     INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  secret_hash   TEXT NOT NULL UNIQUE,
  code_id       TEXT REFERENCES enrollment_codes(id),
  created_at    TEXT NOT NULL,
  revoked_at    TEXT,
  revoked_by    TEXT,
  last_used_at  TEXT
);
CREATE INDEX device_credentials_device ON device_credentials(device_id);
