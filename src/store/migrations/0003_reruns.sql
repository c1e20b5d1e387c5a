-- Rerun batches (重跑历史). The batch is one JSON document (its items list grows with the
-- range); status and job are columns for the queries.
CREATE TABLE reruns (
  id BIGINT PRIMARY KEY,
  job_id BIGINT NOT NULL,
  status TEXT NOT NULL,
  document TEXT NOT NULL
);
CREATE INDEX reruns_by_job ON reruns (job_id, id);
CREATE INDEX reruns_by_status ON reruns (status);
