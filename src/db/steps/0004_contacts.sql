
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
