-- v8 (issue 11): a web chat conversation belongs to the browser (visitor
-- token) that started it. A visitor who gives a phone or e-mail a contact
-- already has joins that contact's history, so several visitors may share a
-- contact; what the widget shows, accepts and lets download is still only
-- that visitor's own conversations. Existing ones go to the contact's first
-- visitor (before this step a contact had one visitor unless merged).
ALTER TABLE conversations ADD COLUMN visitor_hash BLOB;
UPDATE conversations SET visitor_hash = (
    SELECT v.token_hash FROM visitors v WHERE v.contact_id = conversations.contact_id
    ORDER BY v.created_at, v.token_hash LIMIT 1)
WHERE channel = 'webchat' AND started_by IS NULL;
CREATE INDEX conversations_visitor ON conversations(visitor_hash, queue_id, id) WHERE visitor_hash IS NOT NULL;
