-- v19 (issue 14): metrics recorded when things happen. The transaction that
-- changes a conversation records the fact here and bumps the day's rollup;
-- reports read rollups and these columns, never raw messages. Definitions:
-- src/domain/metrics (and the README).

-- Where a conversation's current cycle stands (a reopen starts a new cycle).
ALTER TABLE conversations ADD COLUMN cycle INTEGER NOT NULL DEFAULT 1;
ALTER TABLE conversations ADD COLUMN cycle_started_at INTEGER;
-- In the queue since (NULL while someone has it or it is closed).
ALTER TABLE conversations ADD COLUMN waiting_since INTEGER;
-- Time waited in the queue in this cycle, summed over re-queues.
ALTER TABLE conversations ADD COLUMN wait_secs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN first_assigned_at INTEGER;
ALTER TABLE conversations ADD COLUMN first_response_at INTEGER;
-- The oldest customer message no agent has answered yet.
ALTER TABLE conversations ADD COLUMN awaiting_since INTEGER;
-- When it was last finished or archived (kept across a reopen).
ALTER TABLE conversations ADD COLUMN last_closed_at INTEGER;

-- One row per fact, with the dimensions it counts under: the business day
-- (yyyymmdd in the business time zone), queue, its team, agent (0: none)
-- and channel; secs is the duration a fact measures (0 for a count).
CREATE TABLE metric_facts (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    kind             TEXT NOT NULL,
    at               INTEGER NOT NULL,
    day              INTEGER NOT NULL,
    queue_id         INTEGER NOT NULL,
    team_id          INTEGER NOT NULL,
    agent_id         INTEGER NOT NULL DEFAULT 0,
    channel          TEXT NOT NULL,
    secs             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX metric_facts_kind_day ON metric_facts(kind, day);
CREATE INDEX metric_facts_conversation ON metric_facts(conversation_id);

-- The day's rollup per queue, team, agent and channel: for each kind of
-- fact how many (_n) and their total duration (_secs).
CREATE TABLE metric_days (
    day        INTEGER NOT NULL,
    queue_id   INTEGER NOT NULL,
    team_id    INTEGER NOT NULL,
    agent_id   INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    received_n INTEGER NOT NULL DEFAULT 0, received_secs INTEGER NOT NULL DEFAULT 0,
    started_out_n INTEGER NOT NULL DEFAULT 0, started_out_secs INTEGER NOT NULL DEFAULT 0,
    queued_n INTEGER NOT NULL DEFAULT 0, queued_secs INTEGER NOT NULL DEFAULT 0,
    wait_n INTEGER NOT NULL DEFAULT 0, wait_secs INTEGER NOT NULL DEFAULT 0,
    assigned_n INTEGER NOT NULL DEFAULT 0, assigned_secs INTEGER NOT NULL DEFAULT 0,
    first_response_n INTEGER NOT NULL DEFAULT 0, first_response_secs INTEGER NOT NULL DEFAULT 0,
    first_response_assign_n INTEGER NOT NULL DEFAULT 0, first_response_assign_secs INTEGER NOT NULL DEFAULT 0,
    reply_n INTEGER NOT NULL DEFAULT 0, reply_secs INTEGER NOT NULL DEFAULT 0,
    transfer_n INTEGER NOT NULL DEFAULT 0, transfer_secs INTEGER NOT NULL DEFAULT 0,
    declined_n INTEGER NOT NULL DEFAULT 0, declined_secs INTEGER NOT NULL DEFAULT 0,
    expired_n INTEGER NOT NULL DEFAULT 0, expired_secs INTEGER NOT NULL DEFAULT 0,
    finished_n INTEGER NOT NULL DEFAULT 0, finished_secs INTEGER NOT NULL DEFAULT 0,
    handle_n INTEGER NOT NULL DEFAULT 0, handle_secs INTEGER NOT NULL DEFAULT 0,
    scripted_n INTEGER NOT NULL DEFAULT 0, scripted_secs INTEGER NOT NULL DEFAULT 0,
    resolved_n INTEGER NOT NULL DEFAULT 0, resolved_secs INTEGER NOT NULL DEFAULT 0,
    lost_queue_n INTEGER NOT NULL DEFAULT 0, lost_queue_secs INTEGER NOT NULL DEFAULT 0,
    abandoned_n INTEGER NOT NULL DEFAULT 0, abandoned_secs INTEGER NOT NULL DEFAULT 0,
    reopened_n INTEGER NOT NULL DEFAULT 0, reopened_secs INTEGER NOT NULL DEFAULT 0,
    reopened_7d_n INTEGER NOT NULL DEFAULT 0, reopened_7d_secs INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, queue_id, team_id, agent_id, channel)
) WITHOUT ROWID;

-- The conversations that exist are backfilled from their timelines
-- (src/domain/metrics/replay.rs) when the server first opens the upgraded
-- file, in one transaction, before it serves anything; a row here means the
-- backfill is still to run.
CREATE TABLE metric_backfill (id INTEGER PRIMARY KEY CHECK (id = 1));
INSERT INTO metric_backfill (id) VALUES (1);
