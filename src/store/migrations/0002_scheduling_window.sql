-- The engine loads the scheduling window (yesterday .. end of tomorrow) of every job at start.
CREATE INDEX actions_by_time ON actions (scheduled_time);
-- Actions created by a manual or API run (not by the schedule) never gate other actions.
ALTER TABLE actions ADD COLUMN manual INTEGER NOT NULL DEFAULT 0;
