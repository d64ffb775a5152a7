-- v18 (issue 13): when the channel was handed an outbox row. A row a
-- delivery run took ('sending') whose started_at is still NULL never reached
-- the channel: after a restart it is simply sent. One whose transaction had
-- begun may have gone out, so it is shown unconfirmed instead of sent twice.
ALTER TABLE outbox ADD COLUMN started_at INTEGER;
