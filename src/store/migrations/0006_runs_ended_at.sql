-- Retention purges finished runs by when they ended, oldest first.
CREATE INDEX runs_ended_at ON runs (ended_at);
