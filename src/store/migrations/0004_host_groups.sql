-- Host groups that exist: every group a worker has ever declared. A run for any other group
-- fails at once; one for a known group waits for a worker of it, even across master restarts.
CREATE TABLE host_groups (
  name TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);
