-- The three-pane workspace (issue 11). What the agent's lists show
-- is kept at write time, so the home and the lists cost the same whatever an
-- agent holds: the newest customer message and a preview of the last message
-- on each conversation, and per-agent / per-queue counters kept by triggers
-- in the same transaction as the change they count.

ALTER TABLE conversations ADD COLUMN last_in_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_preview TEXT NOT NULL DEFAULT '';
UPDATE conversations SET
    last_in_id = coalesce((SELECT max(id) FROM messages m WHERE m.conversation_id = conversations.id AND m.kind = 'in'), 0),
    last_preview = coalesce((SELECT substr(body, 1, 120) FROM messages m WHERE m.conversation_id = conversations.id
                             AND m.kind IN ('in', 'out') ORDER BY id DESC LIMIT 1), '');

CREATE TRIGGER messages_last AFTER INSERT ON messages WHEN new.kind IN ('in', 'out') BEGIN
    UPDATE conversations SET last_preview = substr(new.body, 1, 120),
        last_in_id = CASE WHEN new.kind = 'in' THEN new.id ELSE last_in_id END
    WHERE id = new.conversation_id;
END;

-- Finalizadas recentes: an agent's closed conversations, newest first.
CREATE INDEX conversations_closed ON conversations(agent_id, closed_at, id) WHERE status IN ('finished', 'archived');

-- Assigned and unread-assigned conversations per agent.
CREATE TABLE agent_counters (
    agent_id  INTEGER PRIMARY KEY,
    assigned  INTEGER NOT NULL DEFAULT 0,
    unread    INTEGER NOT NULL DEFAULT 0
);
-- Queued conversations per queue.
CREATE TABLE queue_counters (
    queue_id  INTEGER PRIMARY KEY,
    queued    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO agent_counters (agent_id, assigned, unread)
    SELECT agent_id, count(*), sum(last_in_id > agent_read_id) FROM conversations
    WHERE status = 'assigned' AND agent_id IS NOT NULL GROUP BY agent_id;
INSERT INTO queue_counters (queue_id, queued)
    SELECT queue_id, count(*) FROM conversations WHERE status = 'queued' GROUP BY queue_id;

CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO agent_counters (agent_id, assigned, unread)
        SELECT new.agent_id, 1, new.last_in_id > new.agent_read_id WHERE new.status = 'assigned' AND new.agent_id IS NOT NULL
        ON CONFLICT (agent_id) DO UPDATE SET assigned = assigned + 1, unread = unread + excluded.unread;
    INSERT INTO queue_counters (queue_id, queued) SELECT new.queue_id, 1 WHERE new.status = 'queued'
        ON CONFLICT (queue_id) DO UPDATE SET queued = queued + 1;
END;
CREATE TRIGGER conversations_count_update
AFTER UPDATE OF status, agent_id, queue_id, agent_read_id, last_in_id ON conversations BEGIN
    UPDATE agent_counters SET assigned = assigned - 1, unread = unread - (old.last_in_id > old.agent_read_id)
        WHERE agent_id = old.agent_id AND old.status = 'assigned';
    INSERT INTO agent_counters (agent_id, assigned, unread)
        SELECT new.agent_id, 1, new.last_in_id > new.agent_read_id WHERE new.status = 'assigned' AND new.agent_id IS NOT NULL
        ON CONFLICT (agent_id) DO UPDATE SET assigned = assigned + 1, unread = unread + excluded.unread;
    UPDATE queue_counters SET queued = queued - 1 WHERE queue_id = old.queue_id AND old.status = 'queued';
    INSERT INTO queue_counters (queue_id, queued) SELECT new.queue_id, 1 WHERE new.status = 'queued'
        ON CONFLICT (queue_id) DO UPDATE SET queued = queued + 1;
END;
CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations BEGIN
    UPDATE agent_counters SET assigned = assigned - 1, unread = unread - (old.last_in_id > old.agent_read_id)
        WHERE agent_id = old.agent_id AND old.status = 'assigned';
    UPDATE queue_counters SET queued = queued - 1 WHERE queue_id = old.queue_id AND old.status = 'queued';
END;
