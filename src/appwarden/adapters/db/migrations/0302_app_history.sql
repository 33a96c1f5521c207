-- 0302: app history keeps "first seen" (the app was there at the device's first report).
-- Written when such an app is removed, so its history still says since when it was known.
CREATE TABLE app_events_new (
  seq        INTEGER PRIMARY KEY,
  device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  app_id     INTEGER NOT NULL REFERENCES apps(id),
  event      TEXT NOT NULL CHECK (event IN ('installed', 'removed', 'first_seen')),
  at         TEXT NOT NULL,
  source     TEXT NOT NULL DEFAULT ''
);
INSERT INTO app_events_new (seq, device_id, app_id, event, at, source)
  SELECT seq, device_id, app_id, event, at, source FROM app_events;
DROP TABLE app_events;
ALTER TABLE app_events_new RENAME TO app_events;
CREATE INDEX app_events_device ON app_events(device_id, seq);
