-- 0100: campaigns, notices, announced enforcement, and the outbox (issue 3).

CREATE TABLE campaigns (
  id                TEXT PRIMARY KEY,
  kind              TEXT NOT NULL CHECK (kind IN ('announce', 'correction')),
  mode              TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  policy            TEXT NOT NULL,
  version           INTEGER NOT NULL,
  status            TEXT NOT NULL,
  author            TEXT NOT NULL,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  deadline          TEXT,
  parent            TEXT NOT NULL DEFAULT '',
  reason            TEXT NOT NULL DEFAULT '',
  blocks            INTEGER NOT NULL DEFAULT 0,
  previewed_digest  TEXT NOT NULL DEFAULT '',
  approved_digest   TEXT NOT NULL DEFAULT '',
  approved_by       TEXT NOT NULL DEFAULT '',
  approved_at       TEXT,
  undo_until        TEXT,
  recipients        INTEGER NOT NULL DEFAULT 0,
  waves             INTEGER NOT NULL DEFAULT 0,
  released_wave     INTEGER NOT NULL DEFAULT 0,
  wave_released_at  TEXT,
  halt_reason       TEXT NOT NULL DEFAULT '',
  text_digest       TEXT NOT NULL DEFAULT ''      -- policy texts + templates the approval covers
);
CREATE INDEX campaigns_policy ON campaigns(policy, status);
CREATE INDEX campaigns_parent ON campaigns(parent);

-- A test campaign can never become live, nor a live one test.
CREATE TRIGGER campaigns_mode_fixed BEFORE UPDATE OF mode ON campaigns
WHEN NEW.mode <> OLD.mode
BEGIN
  SELECT RAISE(ABORT, 'a campaign''s mode never changes');
END;

CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  idem_key         TEXT NOT NULL UNIQUE,
  message_id       TEXT NOT NULL UNIQUE,
  to_addr          TEXT NOT NULL,
  mode             TEXT NOT NULL CHECK (mode IN ('live', 'test')),
  lane             TEXT NOT NULL CHECK (lane IN ('daily', 'urgent')),
  day              TEXT NOT NULL,                 -- the recipient's local date
  state            TEXT NOT NULL,
  not_before       TEXT NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT,
  last_error       TEXT NOT NULL DEFAULT '',
  relay            TEXT NOT NULL DEFAULT '',
  relay_reply      TEXT NOT NULL DEFAULT '',
  sent_at          TEXT,
  created_at       TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox(state, not_before);
-- at most one message per person per local day (the daily lane), enforced by the database
CREATE UNIQUE INDEX outbox_daily ON outbox(to_addr, day, mode)
  WHERE lane = 'daily' AND state <> 'cancelled';

-- Written in its own transaction the moment a relay accepts a message: a crash before the
-- full record is repaired from here on restart, without sending the message again.
CREATE TABLE outbox_receipts (
  message_id  TEXT PRIMARY KEY,
  reply       TEXT NOT NULL,
  at          TEXT NOT NULL
);

CREATE TABLE notices (
  id           INTEGER PRIMARY KEY,
  campaign_id  TEXT NOT NULL REFERENCES campaigns(id),
  kind         TEXT NOT NULL,
  employee     TEXT NOT NULL,
  locale       TEXT NOT NULL,
  timezone     TEXT NOT NULL,
  wave         INTEGER NOT NULL DEFAULT 1,
  state        TEXT NOT NULL,
  outbox_id    INTEGER REFERENCES outbox(id),
  token        TEXT NOT NULL UNIQUE,
  data         TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  sent_at      TEXT,
  replied      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notices_campaign ON notices(campaign_id, state, wave);
CREATE INDEX notices_outbox ON notices(outbox_id);
CREATE INDEX notices_employee ON notices(employee);

CREATE TABLE enforcements (
  campaign_id  TEXT NOT NULL REFERENCES campaigns(id),
  device       TEXT NOT NULL,
  policy       TEXT NOT NULL,
  version      INTEGER NOT NULL,
  deadline     TEXT NOT NULL,
  employee     TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('approved', 'armed', 'disarmed')),
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (campaign_id, device, policy)
) WITHOUT ROWID;
CREATE INDEX enforcements_employee ON enforcements(campaign_id, employee);
CREATE INDEX enforcements_live ON enforcements(policy, state);

CREATE TABLE campaign_reminders (
  campaign_id  TEXT NOT NULL REFERENCES campaigns(id),
  offset_s     INTEGER NOT NULL,
  at           TEXT NOT NULL,
  PRIMARY KEY (campaign_id, offset_s)
);
