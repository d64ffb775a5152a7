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
