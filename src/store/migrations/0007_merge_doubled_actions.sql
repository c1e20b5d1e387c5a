-- An action is one (job, scheduled time). Rerun batches used to create a second action for a
-- time that had one; each such pair becomes one action, keeping every run: the one kept is
-- the scheduled action if there is one, else the oldest, and the others' runs and rerun items
-- point at it.
CREATE TEMP TABLE action_merge AS
  SELECT a.id AS old_id,
         (SELECT k.id FROM actions k
            WHERE k.job_id = a.job_id AND k.scheduled_time = a.scheduled_time
            ORDER BY k.manual, k.id LIMIT 1) AS keep_id
  FROM actions a
  WHERE (SELECT COUNT(*) FROM actions d
           WHERE d.job_id = a.job_id AND d.scheduled_time = a.scheduled_time) > 1;
DELETE FROM action_merge WHERE old_id = keep_id;

UPDATE runs SET action_id = (SELECT keep_id FROM action_merge WHERE old_id = runs.action_id)
  WHERE action_id IN (SELECT old_id FROM action_merge);

-- Rerun documents list their items as [time, action id]: the merged ids are replaced.
UPDATE reruns SET document = json_set(document, '$.items', (
    SELECT json_group_array(json_array(
             json_extract(item.value, '$[0]'),
             COALESCE((SELECT keep_id FROM action_merge
                        WHERE old_id = json_extract(item.value, '$[1]')),
                      json_extract(item.value, '$[1]'))))
    FROM json_each(document, '$.items') AS item))
  WHERE EXISTS (SELECT 1 FROM json_each(document, '$.items') AS item
                  WHERE json_extract(item.value, '$[1]') IN (SELECT old_id FROM action_merge));

-- Upstream links (JSON arrays of ids) to a merged action follow it too.
UPDATE actions SET upstream = (
    SELECT json_group_array(COALESCE((SELECT keep_id FROM action_merge WHERE old_id = up.value),
                                     up.value))
    FROM json_each(actions.upstream) AS up)
  WHERE EXISTS (SELECT 1 FROM json_each(actions.upstream) AS up
                  WHERE up.value IN (SELECT old_id FROM action_merge));

DELETE FROM actions WHERE id IN (SELECT old_id FROM action_merge);
DROP TABLE action_merge;
