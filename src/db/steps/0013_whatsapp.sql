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
