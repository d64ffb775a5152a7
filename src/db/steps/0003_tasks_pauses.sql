
-- v3: tasks (tarefas), in-app notifications, and pauses (issue 4).
CREATE TABLE tasks (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('email', 'meeting', 'call', 'custom')),
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    due_at           INTEGER NOT NULL,
    -- Exactly one of assignee / team while waiting for a team; a taken team
    -- task keeps its team and gets an assignee.
    assignee_id      INTEGER REFERENCES users(id),
    team_id          INTEGER REFERENCES teams(id),
    contact_id       INTEGER REFERENCES contacts(id),
    conversation_id  INTEGER REFERENCES conversations(id),
    notify           INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'pending', 'done')),
    done_how         TEXT CHECK (done_how IN ('finished', 'archived')),
    created_by       INTEGER NOT NULL REFERENCES users(id),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    done_at          INTEGER,
    -- Set once the due notification went out; editing the due time clears it.
    fired_at         INTEGER,
    CHECK (assignee_id IS NOT NULL OR team_id IS NOT NULL)
);
-- The due job's only lookup: open tasks not yet fired, by due time.
CREATE INDEX tasks_due ON tasks(due_at) WHERE fired_at IS NULL AND status <> 'done';
CREATE INDEX tasks_assignee ON tasks(assignee_id, status, due_at);
CREATE INDEX tasks_team ON tasks(team_id, status, due_at) WHERE assignee_id IS NULL;
CREATE INDEX tasks_due_order ON tasks(due_at, id);
CREATE INDEX tasks_conversation ON tasks(conversation_id) WHERE status <> 'done';
CREATE INDEX tasks_contact ON tasks(contact_id) WHERE status <> 'done';

-- In-app notifications (the bell in the top bar).
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    -- What it is about, once per user: "task:<id>:<due_at>", "pause:<id>"…
    key         TEXT NOT NULL,
    task_id     INTEGER REFERENCES tasks(id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '',
    browser     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    read_at     INTEGER,
    UNIQUE (user_id, key)
);
CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;

-- Every pause an agent took, for the pause report.
CREATE TABLE pauses (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    reason_id     INTEGER NOT NULL REFERENCES pause_reasons(id),
    reason_name   TEXT NOT NULL,
    previous      TEXT NOT NULL CHECK (previous IN ('not_ready', 'ready')),
    started_at    INTEGER NOT NULL,
    limit_secs    INTEGER NOT NULL,
    limit_at      INTEGER NOT NULL,
    ended_at      INTEGER,
    ended_by      INTEGER REFERENCES users(id),
    end_reason    TEXT CHECK (end_reason IN ('agent', 'supervisor', 'limit', 'logout')),
    flagged_at    INTEGER,
    exceeded_by   INTEGER
);
CREATE UNIQUE INDEX pauses_open ON pauses(user_id) WHERE ended_at IS NULL;
CREATE INDEX pauses_limit ON pauses(limit_at) WHERE ended_at IS NULL AND flagged_at IS NULL;
CREATE INDEX pauses_user ON pauses(user_id, started_at);

-- What happens when a pause passes its limit: only flag it, or also end it.
ALTER TABLE pause_reasons ADD COLUMN on_limit TEXT NOT NULL DEFAULT 'flag' CHECK (on_limit IN ('flag', 'end'));
