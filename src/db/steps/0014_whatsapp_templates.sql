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
