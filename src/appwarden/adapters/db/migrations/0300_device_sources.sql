-- 0300: several sources, one device (issue 5).
-- What each source last said about each device, the identifiers that tie reports from different
-- sources to one device, the conflicts merging found, and employee aliases (UPN -> email).

CREATE TABLE device_sources (
  device_id    INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  source       TEXT NOT NULL,                 -- checkin | intune | jamf | google-amapi | ... | native
  source_id    TEXT NOT NULL DEFAULT '',      -- the device's id in that source
  observed_at  TEXT NOT NULL,                 -- when the source last heard from the device
  facts        TEXT NOT NULL,                 -- JSON {values, identities, visibility}
  apps         TEXT,                          -- JSON app rows; kept only while the device has
                                              -- more than one source (else device_apps is it)
  sequence     INTEGER NOT NULL DEFAULT 0,    -- last check-in sequence applied (agent source)
  PRIMARY KEY (device_id, source)
) WITHOUT ROWID;

-- identifiers that name one physical device in every source: kind = source | serial | imei
CREATE TABLE device_keys (
  kind       TEXT NOT NULL,
  value      TEXT NOT NULL,
  device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX device_keys_device ON device_keys(device_id);

CREATE TABLE device_conflicts (
  device_id      INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  field          TEXT NOT NULL,
  chosen         TEXT NOT NULL,
  chosen_source  TEXT NOT NULL,
  others         TEXT NOT NULL,               -- JSON [[source, value], ...]
  first_seen_at  TEXT NOT NULL,
  last_seen_at   TEXT NOT NULL,
  PRIMARY KEY (device_id, field)
) WITHOUT ROWID;

CREATE TABLE employee_aliases (
  alias  TEXT PRIMARY KEY,                    -- lower-case UPN or secondary address
  email  TEXT NOT NULL                        -- the employee's primary email (lower-case)
) WITHOUT ROWID;
CREATE INDEX employee_aliases_email ON employee_aliases(email);

-- Devices written before this migration: one snapshot from their current row.
INSERT INTO device_sources (device_id, source, source_id, observed_at, facts)
SELECT
  d.id,
  CASE WHEN d.source IN ('', 'csv', 'json', 'jsonl') THEN 'native' ELSE d.source END,
  '',
  COALESCE(d.last_seen_at, d.updated_at),
  json_object(
    'values', json_object(
      'owner', COALESCE(d.owner_email, ''),
      'platform', d.platform,
      'ownership', CASE d.ownership WHEN 'unknown' THEN '' ELSE d.ownership END,
      'os_version', d.os_version,
      'android_patch', COALESCE(d.android_patch, ''),
      'name', d.name,
      'model', d.model,
      'serial', d.serial,
      'mail_access', CASE d.mail_access WHEN 1 THEN '1' ELSE '' END
    ),
    'identities', json((SELECT json_group_array(i.kind || ':' || i.value)
                        FROM device_identities i WHERE i.device_id = d.id)),
    'visibility', d.visibility
  )
FROM devices d;

INSERT OR IGNORE INTO device_keys (kind, value, device_id)
SELECT 'serial', upper(replace(serial, ' ', '')), id FROM devices WHERE length(trim(serial)) >= 4;
