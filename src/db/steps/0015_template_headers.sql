-- v12 (issue 12): what a template needs beyond text. url_buttons lists the
-- URL buttons whose link ends in a parameter ([[index, url], …], JSON);
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
