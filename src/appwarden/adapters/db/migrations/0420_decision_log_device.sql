-- 0420: a device's recent gateway decisions, for the console's device page (issue 6).
-- Partial: decisions for identities AppWarden has never seen carry no device and cost no index
-- entry; the rest cost one small insert each, on the log's batch writer, off the hot path.
CREATE INDEX decision_log_device ON decision_log(device, seq) WHERE device <> '';
