-- 0410: the console's campaign pages (issue 6, phase 2).

-- The last preview of a campaign, as the console showed it: the blast radius, the samples and
-- the digest an approval from that page binds. A cache of NoticeService.preview's answer, so the
-- page renders without re-planning; the campaign row keeps the digest of record.
CREATE TABLE campaign_previews (
  campaign_id  TEXT PRIMARY KEY REFERENCES campaigns(id),
  digest       TEXT NOT NULL,
  taken_by     TEXT NOT NULL,
  taken_at     TEXT NOT NULL,
  body         TEXT NOT NULL                  -- JSON: counts, breakdowns, capped lists, samples
) WITHOUT ROWID;

-- The campaign list, newest first, one page at a time.
CREATE INDEX campaigns_created ON campaigns(created_at, id);
