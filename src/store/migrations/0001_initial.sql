-- Hera schema, version 1 (DESIGN.md §5). Portable SQLite/PostgreSQL: see migrations.h.
-- Times are BIGINT microseconds since the Unix epoch (hera::ToMicros); the largest BIGINT means
-- "never" (absl::InfiniteFuture). Enums are stored by their wire names (core::Name).
-- Foreign keys between scheduling tables are DEFERRABLE INITIALLY DEFERRED so that one engine
-- batch may write rows in any order; they are checked when the batch commits.

-- The highest id ever written per kind ('group', 'job', 'action', 'run', 'user'), so that an id
-- is never reused after its row is deleted.
CREATE TABLE id_high_water (
  kind TEXT PRIMARY KEY,
  max_id BIGINT NOT NULL
);

CREATE TABLE groups (
  id BIGINT PRIMARY KEY,
  parent_id BIGINT REFERENCES groups (id) DEFERRABLE INITIALLY DEFERRED,  -- NULL: top level
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  configs TEXT NOT NULL,  -- JSON object of strings
  owner TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
-- A NULL parent would make every top-level name distinct under UNIQUE(parent_id, name).
CREATE UNIQUE INDEX groups_parent_name ON groups ((COALESCE(parent_id, 0)), name);

CREATE TABLE jobs (
  id BIGINT PRIMARY KEY,
  group_id BIGINT NOT NULL REFERENCES groups (id) DEFERRABLE INITIALLY DEFERRED,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL,  -- 0 or 1
  owner TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  -- core::JobDefinitionToJson; the columns above win over the same keys in it.
  definition TEXT NOT NULL,
  UNIQUE (group_id, name)
);

CREATE TABLE job_revisions (
  job_id BIGINT NOT NULL REFERENCES jobs (id) DEFERRABLE INITIALLY DEFERRED,
  version BIGINT NOT NULL,
  author TEXT NOT NULL,
  saved_at BIGINT NOT NULL,
  definition TEXT NOT NULL,      -- JSON, as the API shows the job
  changed_fields TEXT NOT NULL,  -- JSON array of field names
  PRIMARY KEY (job_id, version)
);

CREATE TABLE actions (
  id BIGINT PRIMARY KEY,
  job_id BIGINT NOT NULL REFERENCES jobs (id) DEFERRABLE INITIALLY DEFERRED,
  scheduled_time BIGINT NOT NULL,
  status TEXT NOT NULL,
  job_version BIGINT NOT NULL,
  upstream TEXT NOT NULL,  -- JSON array of action ids
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX actions_job_time ON actions (job_id, scheduled_time);
-- Start-up reads the unfinished few by status; IN (...) probes only their entries.
CREATE INDEX actions_status ON actions (status);

-- No foreign key on action_id: a run outlives a deleted action as history.
CREATE TABLE runs (
  id BIGINT PRIMARY KEY,
  job_id BIGINT NOT NULL REFERENCES jobs (id) DEFERRABLE INITIALLY DEFERRED,
  action_id BIGINT NOT NULL,
  trigger TEXT NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  job_version BIGINT NOT NULL,
  worker TEXT NOT NULL,
  created_by TEXT NOT NULL,
  queued_at BIGINT NOT NULL,
  started_at BIGINT,  -- NULL: not started
  ended_at BIGINT,    -- NULL: not ended
  exit_code INTEGER,  -- NULL: no exit code (running, signalled, lost)
  signal INTEGER,     -- NULL: not killed by a signal
  message TEXT NOT NULL
);
CREATE INDEX runs_job_id ON runs (job_id, id);
CREATE INDEX runs_action_id ON runs (action_id);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_queued_at ON runs (queued_at);

CREATE TABLE users (
  id BIGINT PRIMARY KEY,  -- assigned by the store from id_high_water ('user'): never reused
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL,  -- 0 or 1
  created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,  -- hex SHA-256 of the bearer token
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,  -- 'session' or 'api'
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
