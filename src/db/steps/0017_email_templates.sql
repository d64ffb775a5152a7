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
