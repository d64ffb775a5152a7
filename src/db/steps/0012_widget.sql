-- The web chat widget's look per queue ('' = defaults: the business name,
-- no greeting, the standard blue).
ALTER TABLE queues ADD COLUMN widget_title TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN widget_greeting TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN widget_color TEXT NOT NULL DEFAULT '';

-- Sites refused by a queue's allowed list, newest first on the queue's page:
-- one row per (queue, origin), upserted, at most 20 per queue.
CREATE TABLE widget_refused_origins (
    queue_id  INTEGER NOT NULL REFERENCES queues(id),
    origin    TEXT NOT NULL,
    last_at   INTEGER NOT NULL,
    hits      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (queue_id, origin)
) WITHOUT ROWID;
