-- Engine start-up reads the unfinished actions from before its window: by status and time.
DROP INDEX actions_status;
CREATE INDEX actions_status_time ON actions (status, scheduled_time);
