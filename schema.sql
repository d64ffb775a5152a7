-- Atende: the whole current schema. A fresh database runs this file once;
-- existing databases are upgraded by the append-only steps in src/db/migrate.rs.
-- Times are UTC unix seconds. Names are unique case-insensitively.

CREATE TABLE settings (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    business_name  TEXT NOT NULL,
    time_zone      TEXT NOT NULL,
    locale         TEXT NOT NULL CHECK (locale IN ('pt-BR', 'en')),
    updated_at     INTEGER NOT NULL
);
INSERT INTO settings (id, business_name, time_zone, locale, updated_at)
VALUES (1, 'Minha empresa', 'America/Sao_Paulo', 'pt-BR', 0);

-- Business hours: one row per weekday (0 = Monday .. 6 = Sunday), HH:MM local.
CREATE TABLE business_hours (
    weekday  INTEGER PRIMARY KEY CHECK (weekday BETWEEN 0 AND 6),
    open     INTEGER NOT NULL DEFAULT 0,
    opens    TEXT NOT NULL DEFAULT '08:00',
    closes   TEXT NOT NULL DEFAULT '18:00'
);
INSERT INTO business_hours (weekday, open) VALUES (0,1),(1,1),(2,1),(3,1),(4,1),(5,0),(6,0);

-- Access groups carry permissions (space-separated codes, see domain/users.rs).
CREATE TABLE access_groups (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL COLLATE NOCASE UNIQUE,
    permissions  TEXT NOT NULL DEFAULT '',
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL
);

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    login            TEXT NOT NULL COLLATE NOCASE UNIQUE,
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    access_group_id  INTEGER REFERENCES access_groups(id),
    locale           TEXT CHECK (locale IN ('pt-BR', 'en')),
    active           INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

CREATE TABLE user_teams (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id  INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, team_id)
) WITHOUT ROWID;
CREATE INDEX user_teams_team ON user_teams(team_id, user_id);

CREATE TABLE queues (
    id                       INTEGER PRIMARY KEY,
    name                     TEXT NOT NULL COLLATE NOCASE UNIQUE,
    channel                  TEXT NOT NULL CHECK (channel IN ('webchat', 'email', 'whatsapp')),
    team_id                  INTEGER NOT NULL REFERENCES teams(id),
    closing_script_required  INTEGER NOT NULL DEFAULT 0,
    offer_timeout_secs       INTEGER NOT NULL DEFAULT 30,
    agent_capacity           INTEGER NOT NULL DEFAULT 5,
    active                   INTEGER NOT NULL DEFAULT 1,
    created_at               INTEGER NOT NULL
);

CREATE TABLE pause_reasons (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL COLLATE NOCASE UNIQUE,
    limit_minutes  INTEGER NOT NULL,
    allowed_from   TEXT,
    allowed_to     TEXT,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL
);

CREATE TABLE closing_reasons (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL COLLATE NOCASE,
    scope       TEXT NOT NULL CHECK (scope IN ('conversation', 'contact')),
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    UNIQUE (scope, name)
);

CREATE TABLE contact_fields (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('text', 'number', 'date', 'choice')),
    options     TEXT NOT NULL DEFAULT '',
    required    INTEGER NOT NULL DEFAULT 0,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

-- Sessions: only the SHA-256 of the cookie token is stored.
CREATE TABLE sessions (
    token_hash    BLOB PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);

-- One-time links that create the first administrator.
CREATE TABLE setup_tokens (
    token_hash  BLOB PRIMARY KEY,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) WITHOUT ROWID;

-- Failed logins per account name (not per IP: a whole office shares one).
CREATE TABLE login_throttle (
    login          TEXT PRIMARY KEY COLLATE NOCASE,
    failures       INTEGER NOT NULL,
    window_start   INTEGER NOT NULL,
    blocked_until  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_action ON audit_log(action, id);
CREATE INDEX audit_actor ON audit_log(actor_id, id);
CREATE INDEX audit_at ON audit_log(at);

-- v2: the agent desk (issue 3): contacts, visitors, conversations, messages,
-- presence and queue connections.
CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    phone       TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

-- Web chat visitors: the browser keeps a random token; only its hash is stored.
CREATE TABLE visitors (
    token_hash  BLOB PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    queue_id          INTEGER NOT NULL REFERENCES queues(id),
    contact_id        INTEGER NOT NULL REFERENCES contacts(id),
    channel           TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('queued', 'offered', 'assigned', 'finished', 'archived')),
    agent_id          INTEGER REFERENCES users(id),
    offer_expires_at  INTEGER,
    queued_at         INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    last_activity_at  INTEGER NOT NULL,
    closed_at         INTEGER,
    agent_read_id     INTEGER NOT NULL DEFAULT 0,
    page_url          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX conversations_queue ON conversations(queue_id, status, queued_at);
CREATE INDEX conversations_agent ON conversations(agent_id, status, last_activity_at);
CREATE INDEX conversations_contact ON conversations(contact_id, status);
CREATE INDEX conversations_waiting ON conversations(status, queued_at, id);
CREATE INDEX conversations_offers ON conversations(offer_expires_at) WHERE status = 'offered';

-- Agents who declined (or let expire) the current offer round of a conversation.
CREATE TABLE offer_declines (
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    agent_id         INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (conversation_id, agent_id)
) WITHOUT ROWID;

-- Messages and timeline events of a conversation, in arrival order.
-- kind: in (customer), out (agent), system (timeline event; body is a catalog key).
CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    kind             TEXT NOT NULL CHECK (kind IN ('in', 'out', 'system')),
    author_id        INTEGER REFERENCES users(id),
    author_name      TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);

CREATE TABLE agent_presence (
    user_id           INTEGER PRIMARY KEY REFERENCES users(id),
    status            TEXT NOT NULL CHECK (status IN ('not_ready', 'ready', 'paused')),
    since             INTEGER NOT NULL,
    last_assigned_at  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE queue_connections (
    user_id   INTEGER NOT NULL REFERENCES users(id),
    queue_id  INTEGER NOT NULL REFERENCES queues(id),
    PRIMARY KEY (user_id, queue_id)
) WITHOUT ROWID;

-- Web chat widget settings per queue.
ALTER TABLE queues ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN offline_text TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN ask_name INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN ask_email INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN ask_phone INTEGER NOT NULL DEFAULT 0;

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

-- v4: the contact book (issue 5): search keys, who added a contact, merges,
-- extra field values, tags, timeline annotations.
ALTER TABLE contacts ADD COLUMN created_by INTEGER REFERENCES users(id);
ALTER TABLE contacts ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
-- A contact merged into another stays (old links resolve) but is hidden.
ALTER TABLE contacts ADD COLUMN merged_into INTEGER REFERENCES contacts(id);
-- The phone's digits reversed: "ends with these digits" is an index range.
ALTER TABLE contacts ADD COLUMN phone_rev TEXT NOT NULL DEFAULT '';
CREATE INDEX contacts_phone_rev ON contacts(phone_rev) WHERE phone_rev <> '';
-- E-mails are stored in lower case.
UPDATE contacts SET email = lower(email) WHERE email <> lower(email);
CREATE INDEX contacts_email ON contacts(email) WHERE email <> '';
CREATE INDEX contacts_created_by ON contacts(created_by) WHERE created_by IS NOT NULL;
CREATE INDEX conversations_contact_time ON conversations(contact_id, created_at);
CREATE INDEX messages_system ON messages(conversation_id, id) WHERE kind = 'system';

-- Name and e-mail words, accent-insensitive, for prefix search.
CREATE VIRTUAL TABLE contacts_fts USING fts5(
    name, email, content='contacts', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts (rowid, name, email) VALUES (new.id, new.name, new.email);
END;
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, name, email) VALUES ('delete', old.id, old.name, old.email);
END;
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF name, email ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, name, email) VALUES ('delete', old.id, old.name, old.email);
    INSERT INTO contacts_fts (rowid, name, email) VALUES (new.id, new.name, new.email);
END;
INSERT INTO contacts_fts (contacts_fts) VALUES ('rebuild');

-- Values of the admin-defined extra fields (campos extras).
CREATE TABLE contact_values (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    field_id    INTEGER NOT NULL REFERENCES contact_fields(id),
    value       TEXT NOT NULL,
    PRIMARY KEY (contact_id, field_id)
) WITHOUT ROWID;

CREATE TABLE contact_tags (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    tag_id      INTEGER NOT NULL REFERENCES tags(id),
    PRIMARY KEY (contact_id, tag_id)
) WITHOUT ROWID;

CREATE TABLE conversation_tags (
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    tag_id           INTEGER NOT NULL REFERENCES tags(id),
    PRIMARY KEY (conversation_id, tag_id)
) WITHOUT ROWID;

-- Manual timeline entries (anotações) and merges; the other timeline events
-- come from the conversations' event lines and the tasks.
CREATE TABLE contact_events (
    id          INTEGER PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    kind        TEXT NOT NULL CHECK (kind IN ('note', 'merged')),
    author_id   INTEGER REFERENCES users(id),
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX contact_events_contact ON contact_events(contact_id, created_at);

-- v5: inside the conversation (issue 5): internal notes, attachments, quick
-- replies, message search, the closing script, scheduled reopening and
-- outbound conversations.

-- Internal notes are messages of kind 'note'; widening the CHECK needs a
-- rebuild of the table.
CREATE TABLE messages_v5 (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    -- in (customer), out (agent), note (internal, agents only), system (timeline event).
    kind             TEXT NOT NULL CHECK (kind IN ('in', 'out', 'note', 'system')),
    author_id        INTEGER REFERENCES users(id),
    author_name      TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
INSERT INTO messages_v5 (id, conversation_id, kind, author_id, author_name, body, created_at)
    SELECT id, conversation_id, kind, author_id, author_name, body, created_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v5 RENAME TO messages;
CREATE INDEX messages_conversation ON messages(conversation_id, id);
CREATE INDEX messages_system ON messages(conversation_id, id) WHERE kind = 'system';

-- Message text search, accent-insensitive; timeline events are not indexed.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content='messages', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.kind <> 'system' BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.kind <> 'system' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE kind <> 'system';

-- Files sent with a message. The bytes live in their own table so listing
-- attachments never reads them.
CREATE TABLE attachments (
    id               INTEGER PRIMARY KEY,
    message_id       INTEGER NOT NULL REFERENCES messages(id),
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    name             TEXT NOT NULL,
    mime             TEXT NOT NULL,
    size             INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);
CREATE INDEX attachments_conversation ON attachments(conversation_id);
CREATE TABLE attachment_data (
    attachment_id  INTEGER PRIMARY KEY REFERENCES attachments(id),
    data           BLOB NOT NULL
);
-- Limits set by the administrator, in MB.
ALTER TABLE settings ADD COLUMN attach_file_mb INTEGER NOT NULL DEFAULT 16;
ALTER TABLE settings ADD COLUMN attach_conversation_mb INTEGER NOT NULL DEFAULT 200;

-- Quick replies (mensagens rápidas): an owner's personal ones, or global
-- (owner_id NULL). Shortcuts are unique per owner, ignoring case.
CREATE TABLE quick_replies (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER REFERENCES users(id),
    shortcut    TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX quick_replies_shortcut ON quick_replies(coalesce(owner_id, 0), lower(shortcut));

-- The closing script's answers, scheduled reopening, and who started an
-- outbound conversation (NULL: the customer did).
ALTER TABLE conversations ADD COLUMN closing_reason_id INTEGER REFERENCES closing_reasons(id);
ALTER TABLE conversations ADD COLUMN resolved INTEGER;
ALTER TABLE conversations ADD COLUMN reopen_at INTEGER;
ALTER TABLE conversations ADD COLUMN reopen_agent_id INTEGER REFERENCES users(id);
ALTER TABLE conversations ADD COLUMN started_by INTEGER REFERENCES users(id);
CREATE INDEX conversations_reopen ON conversations(reopen_at) WHERE reopen_at IS NOT NULL;

-- What the web chat visitor reads when the conversation ends ('' = default text).
ALTER TABLE queues ADD COLUMN end_text TEXT NOT NULL DEFAULT '';

-- v6: routing never strands a customer (issue 11).

-- Per queue: how long a conversation nobody else could take waits before it is
-- offered again to whoever declined it or let it expire; how many offers in a
-- row an agent may let expire before becoming Não pronto (0 = never); after
-- how many minutes of waiting the supervisors are alerted (0 = never).
ALTER TABLE queues ADD COLUMN reoffer_secs INTEGER NOT NULL DEFAULT 10;
ALTER TABLE queues ADD COLUMN missed_offers_limit INTEGER NOT NULL DEFAULT 2;
ALTER TABLE queues ADD COLUMN wait_alert_minutes INTEGER NOT NULL DEFAULT 5;

-- A decline (or an expired offer) holds the agent back from that conversation
-- until this time only; rows from before this step are already over.
ALTER TABLE offer_declines ADD COLUMN until_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX offer_declines_until ON offer_declines(until_at);

-- Offers an agent let expire in a row (an answer starts the count again).
ALTER TABLE agent_presence ADD COLUMN missed_offers INTEGER NOT NULL DEFAULT 0;

-- The queued_at of the wait the supervisors were alerted about (one alert per wait).
ALTER TABLE conversations ADD COLUMN wait_alerted_for INTEGER;
CREATE INDEX conversations_wait_alert ON conversations(queued_at)
    WHERE status IN ('queued', 'offered') AND wait_alerted_for IS NOT queued_at;
-- v8 (issue 11): a web chat conversation belongs to the browser (visitor
-- token) that started it; visitors who give a known phone or e-mail share
-- that contact, but each sees only their own conversations.
ALTER TABLE conversations ADD COLUMN visitor_hash BLOB;
CREATE INDEX conversations_visitor ON conversations(visitor_hash, queue_id, id) WHERE visitor_hash IS NOT NULL;

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

-- v9 (issue 11): the web chat widget.
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

-- v10 (issue 12): the WhatsApp Cloud API channel.

-- A WhatsApp queue's number. Secrets (access token, app secret) are written
-- here and never shown back; '' = not set.
CREATE TABLE whatsapp_numbers (
    queue_id         INTEGER PRIMARY KEY REFERENCES queues(id),
    phone_number_id  TEXT NOT NULL DEFAULT '',
    waba_id          TEXT NOT NULL DEFAULT '',
    access_token     TEXT NOT NULL DEFAULT '',
    app_secret       TEXT NOT NULL DEFAULT '',
    verify_token     TEXT NOT NULL,
    display_number   TEXT NOT NULL DEFAULT '',
    graph_version    TEXT NOT NULL DEFAULT 'v23.0',
    graph_base       TEXT NOT NULL DEFAULT 'https://graph.facebook.com',
    -- unchecked | ok | bad_token | bad_id | unreachable | error
    state            TEXT NOT NULL DEFAULT 'unchecked',
    last_error       TEXT NOT NULL DEFAULT '',
    checked_at       INTEGER,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX whatsapp_numbers_phone ON whatsapp_numbers(phone_number_id) WHERE phone_number_id <> '';

-- Who writes from WhatsApp: the wa_id exactly as Meta sends it (replies go
-- to it), the key that matches a contact's phone whatever Brazil's 9th digit,
-- and the contact.
CREATE TABLE whatsapp_identities (
    wa_id        TEXT PRIMARY KEY,
    match_key    TEXT NOT NULL,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id),
    profile_name TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX whatsapp_identities_key ON whatsapp_identities(match_key);

-- A channel's own ids of the messages received (wamid): a redelivery is
-- recognised and never makes a second message.
CREATE TABLE inbound_ids (
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    message_id   INTEGER NOT NULL REFERENCES messages(id),
    PRIMARY KEY (channel, external_id)
) WITHOUT ROWID;

-- The WhatsApp id a conversation answers to, and when its 24-hour
-- customer-service window ends (refreshed only by the customer's messages).
ALTER TABLE conversations ADD COLUMN wa_id TEXT;
ALTER TABLE conversations ADD COLUMN window_until INTEGER;
CREATE INDEX conversations_window ON conversations(window_until) WHERE window_until IS NOT NULL;

-- Every message an agent sends through a channel that delivers it (WhatsApp
-- today): written in the same transaction as the message, delivered by the
-- outbox job. state: pending (to send at next_at) | sending (handed to the
-- channel; a crash here is reconciled, never sent blindly again) | sent |
-- delivered | read | failed (error says why).
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL UNIQUE REFERENCES messages(id),
    channel      TEXT NOT NULL,
    queue_id     INTEGER NOT NULL REFERENCES queues(id),
    recipient    TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'delivered', 'read', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    external_id  TEXT,
    error        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state IN ('pending', 'sending');
CREATE UNIQUE INDEX outbox_external ON outbox(channel, external_id) WHERE external_id IS NOT NULL;

-- v11 (issue 12): WhatsApp templates, opt-in, media sent and the number's
-- throughput.

-- A number's message templates as Meta lists them (synchronised; statuses
-- also applied from the webhook), so the picker works offline. fields maps
-- a parameter's input to the contact field that prefills it (JSON).
CREATE TABLE whatsapp_templates (
    id             INTEGER PRIMARY KEY,
    queue_id       INTEGER NOT NULL REFERENCES queues(id),
    meta_id        TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL,
    language       TEXT NOT NULL,
    category       TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    named          INTEGER NOT NULL DEFAULT 0,
    header_kind    TEXT NOT NULL DEFAULT '',
    header         TEXT NOT NULL DEFAULT '',
    body           TEXT NOT NULL DEFAULT '',
    footer         TEXT NOT NULL DEFAULT '',
    buttons        TEXT NOT NULL DEFAULT '[]',
    button_params  INTEGER NOT NULL DEFAULT 0,
    fields         TEXT NOT NULL DEFAULT '{}',
    seen_at        INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (queue_id, name, language)
);

-- Every opt-in change of a contact: the latest row is the state; the rows
-- are the contact's timeline lines. source: agent (user_id set) | customer
-- (detail: the opt-out word they wrote).
CREATE TABLE whatsapp_optins (
    id          INTEGER PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    state       TEXT NOT NULL CHECK (state IN ('in', 'out')),
    source      TEXT NOT NULL CHECK (source IN ('agent', 'customer')),
    user_id     INTEGER REFERENCES users(id),
    detail      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX whatsapp_optins_contact ON whatsapp_optins(contact_id, id);

-- Per number: messages per second the outbox sends at most (Meta's default
-- 80), the words that opt a customer out, and the templates' last sync.
ALTER TABLE whatsapp_numbers ADD COLUMN rate_per_sec INTEGER NOT NULL DEFAULT 80;
ALTER TABLE whatsapp_numbers ADD COLUMN optout_words TEXT NOT NULL DEFAULT 'SAIR, PARAR';
ALTER TABLE whatsapp_numbers ADD COLUMN templates_synced_at INTEGER;
ALTER TABLE whatsapp_numbers ADD COLUMN templates_error TEXT NOT NULL DEFAULT '';
-- A number kept for conversations agents start (seed 002): listed first,
-- and named so, in Iniciar conversa.
ALTER TABLE whatsapp_numbers ADD COLUMN reserved_outbound INTEGER NOT NULL DEFAULT 0;

-- A file an agent sends on WhatsApp: uploaded to Meta by the outbox job
-- right before the message that names it.
ALTER TABLE outbox ADD COLUMN attachment_id INTEGER REFERENCES attachments(id);

-- Templates: URL buttons whose link ends in a parameter ([[index, url], …], JSON);
-- header_location is a LOCATION header's place (JSON: latitude, longitude,
-- name, address), set by an admin.
ALTER TABLE whatsapp_templates ADD COLUMN url_buttons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE whatsapp_templates ADD COLUMN header_location TEXT NOT NULL DEFAULT '';

-- The file an IMAGE, VIDEO or DOCUMENT header sends, uploaded by an admin;
-- each message sent with it carries its own copy as an attachment.
CREATE TABLE whatsapp_template_media (
    template_id  INTEGER PRIMARY KEY REFERENCES whatsapp_templates(id),
    name         TEXT NOT NULL,
    mime         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- A queue's mailbox: where customer mail is read (IMAP) and replies are sent
-- (SMTP). Passwords are never shown back. tls: tls | starttls | none (none
-- only for a server on this machine). The sync keeps the folder's
-- UIDVALIDITY and the last UID stored: a restart neither misses nor repeats
-- a message. state: unchecked | ok | auth | unreachable | error.
CREATE TABLE email_mailboxes (
    queue_id       INTEGER PRIMARY KEY REFERENCES queues(id),
    imap_host      TEXT NOT NULL DEFAULT '',
    imap_port      INTEGER NOT NULL DEFAULT 993,
    imap_tls       TEXT NOT NULL DEFAULT 'tls' CHECK (imap_tls IN ('tls', 'starttls', 'none')),
    imap_user      TEXT NOT NULL DEFAULT '',
    imap_password  TEXT NOT NULL DEFAULT '',
    folder         TEXT NOT NULL DEFAULT 'INBOX',
    smtp_host      TEXT NOT NULL DEFAULT '',
    smtp_port      INTEGER NOT NULL DEFAULT 587,
    smtp_tls       TEXT NOT NULL DEFAULT 'starttls' CHECK (smtp_tls IN ('tls', 'starttls', 'none')),
    smtp_user      TEXT NOT NULL DEFAULT '',
    smtp_password  TEXT NOT NULL DEFAULT '',
    from_name      TEXT NOT NULL DEFAULT '',
    from_address   TEXT NOT NULL DEFAULT '',
    reply_to       TEXT NOT NULL DEFAULT '',
    signature      TEXT NOT NULL DEFAULT '',
    poll_secs      INTEGER NOT NULL DEFAULT 60,
    reopen_days    INTEGER NOT NULL DEFAULT 7,
    -- Replies carry a Reply-To of from+c<conversation>-<signature>@domain
    -- (signed with thread_key), for servers that deliver plus addresses.
    plus_address   INTEGER NOT NULL DEFAULT 0,
    thread_key     TEXT NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    state          TEXT NOT NULL DEFAULT 'unchecked',
    last_error     TEXT NOT NULL DEFAULT '',
    checked_at     INTEGER,
    synced_at      INTEGER,
    uidvalidity    INTEGER,
    last_uid       INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL
);

-- What an e-mail message carried beyond its text: its headers for
-- threading (message ids without angle brackets, references space
-- separated), the addresses, and its HTML body already sanitised. Our own
-- replies have a row too: their Message-ID is what customers' replies name.
CREATE TABLE email_messages (
    message_id   INTEGER PRIMARY KEY REFERENCES messages(id),
    rfc_id       TEXT NOT NULL,
    in_reply_to  TEXT NOT NULL DEFAULT '',
    refs         TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    from_addr    TEXT NOT NULL DEFAULT '',
    to_addrs     TEXT NOT NULL DEFAULT '',
    cc_addrs     TEXT NOT NULL DEFAULT '',
    html         TEXT NOT NULL DEFAULT '',
    remote_images INTEGER NOT NULL DEFAULT 0,
    -- an auto-reply, bounce or mailing: never answered automatically
    automated    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX email_messages_rfc ON email_messages(rfc_id);

-- The people of an e-mail conversation (the customer and whoever was in
-- copy): a reply matched to it is accepted only from one of them.
CREATE TABLE email_participants (
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    address          TEXT NOT NULL,
    cc               INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, address)
) WITHOUT ROWID;

-- v17 (issue 13): Modelos HTML de e-mail. A template is a subject and an
-- HTML body (already sanitised) with placeholders; the default one wraps
-- every agent reply sent by e-mail ({{conteudo}} is the reply). Templates
-- are deactivated, never deleted, so tasks that name one keep working.
CREATE TABLE email_templates (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
    subject     TEXT NOT NULL DEFAULT '',
    html        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX email_templates_one_default ON email_templates(is_default) WHERE is_default = 1;
INSERT INTO email_templates (name, subject, html, is_default, created_at, updated_at) VALUES (
    'Padrão', '',
    '<div style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1f2328">{{conteudo}}</div>'
    || '<p style="margin-top:24px;font-family:Arial,Helvetica,sans-serif;font-size:12px;color:#6e7781">{{empresa}} · Atendimento nº {{protocolo}}</p>',
    1, unixepoch(), unixepoch());

-- An e-mail activity (task of kind 'email') names the template its e-mail uses.
ALTER TABLE tasks ADD COLUMN email_template_id INTEGER REFERENCES email_templates(id);

-- Who an agent's e-mail went to in blind copy (never shown to the customer).
ALTER TABLE email_messages ADD COLUMN bcc_addrs TEXT NOT NULL DEFAULT '';

-- When the channel was handed an outbox row (NULL: taken by a delivery run,
-- not started; a restart sends it normally).
ALTER TABLE outbox ADD COLUMN started_at INTEGER;

-- v19 (issue 14): metrics recorded when things happen (see
-- src/db/steps/0019_metrics.sql for what each column means).
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

-- A row means the metrics of the conversations that existed before v19 are
-- still to be backfilled (never on a fresh database).
CREATE TABLE metric_backfill (id INTEGER PRIMARY KEY CHECK (id = 1));

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
