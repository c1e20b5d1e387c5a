-- Backfills (补数据): a header document per backfill and a row per node (one action it runs),
-- so that a node's change writes one small row, not the whole backfill.
CREATE TABLE backfills (
  id BIGINT PRIMARY KEY,
  status TEXT NOT NULL,
  document TEXT NOT NULL
);
CREATE INDEX backfills_by_status ON backfills (status);
CREATE TABLE backfill_nodes (
  backfill_id BIGINT NOT NULL,
  idx INTEGER NOT NULL,
  job_id BIGINT NOT NULL,
  scheduled_time BIGINT NOT NULL,
  action_id BIGINT NOT NULL,  -- 0: not created yet
  state TEXT NOT NULL,
  upstream TEXT NOT NULL,     -- JSON array of node indices
  PRIMARY KEY (backfill_id, idx)
);
