
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
