-- v13 (issue 13): the e-mail channel.

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
