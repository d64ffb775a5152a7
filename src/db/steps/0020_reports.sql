-- v20 (issue 14): what the supervision reports read.

-- Each stretch an agent spent in one presence (ready, not_ready, paused),
-- written by the database when it ends; the current one is agent_presence.
CREATE TABLE presence_spans (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    status      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER NOT NULL
);
CREATE INDEX presence_spans_user ON presence_spans(user_id, ended_at);
CREATE TRIGGER presence_spans_end AFTER UPDATE OF status ON agent_presence
WHEN old.status <> new.status BEGIN
    INSERT INTO presence_spans (user_id, status, started_at, ended_at)
    VALUES (old.user_id, old.status, old.since, new.since);
END;

-- The Atendimentos report pages through a period by start time.
CREATE INDEX conversations_created ON conversations(created_at, id);

-- The scheduled reopening report reads only these timeline lines.
CREATE INDEX messages_reopen ON messages(created_at)
    WHERE kind = 'system' AND body IN ('ev.reopen_scheduled', 'ev.reopen_canceled', 'ev.reopened_scheduled', 'ev.reopen_skipped');

-- Conversations received and lost in the queue per business day and local
-- hour (0-23) of the business time zone: the heat map by hour of the week.
CREATE TABLE metric_hours (
    day           INTEGER NOT NULL,
    hour          INTEGER NOT NULL,
    queue_id      INTEGER NOT NULL,
    team_id       INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    received_n    INTEGER NOT NULL DEFAULT 0,
    lost_queue_n  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, hour, queue_id, team_id, channel)
) WITHOUT ROWID;

-- The longest single wait of each day's rollup (Filas: maior espera).
ALTER TABLE metric_days ADD COLUMN wait_max INTEGER NOT NULL DEFAULT 0;

-- The local hour (0-23) of each fact, for the heat map's drill-down.
ALTER TABLE metric_facts ADD COLUMN hour INTEGER NOT NULL DEFAULT 0;

-- Finished conversations per closing reason (the closing script's answer),
-- per business day, queue, team, agent and channel.
CREATE TABLE metric_reasons (
    day        INTEGER NOT NULL,
    queue_id   INTEGER NOT NULL,
    team_id    INTEGER NOT NULL,
    agent_id   INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    reason_id  INTEGER NOT NULL,
    n          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, queue_id, team_id, agent_id, channel, reason_id)
) WITHOUT ROWID;

-- The closing reason of a finish with the script ('scripted' facts).
ALTER TABLE metric_facts ADD COLUMN reason_id INTEGER;

-- The handling times (TMA) of each business day and team as a histogram of
-- two significant digits, so a year's median and p90 read a few thousand rows.
CREATE TABLE metric_spread (
    day      INTEGER NOT NULL,
    team_id  INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    n        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, team_id, bucket)
) WITHOUT ROWID;

-- Fill metric_hours from the facts on the next start.
INSERT OR IGNORE INTO metric_backfill (id) VALUES (1);
