-- v6: routing never strands a customer (issue 11).

-- Per queue: how long a conversation nobody else could take waits before it is
-- offered again to whoever declined it or let it expire; how many offers in a
-- row an agent may let expire before becoming Não pronto (0 = never); after
-- how many minutes of waiting the supervisors are alerted (0 = never).
ALTER TABLE queues ADD COLUMN reoffer_secs INTEGER NOT NULL DEFAULT 10;
ALTER TABLE queues ADD COLUMN missed_offers_limit INTEGER NOT NULL DEFAULT 2;
ALTER TABLE queues ADD COLUMN wait_alert_minutes INTEGER NOT NULL DEFAULT 5;

-- A decline (or an expired offer) holds the agent back from that conversation
-- until this time only; rows from before this step are already over.
ALTER TABLE offer_declines ADD COLUMN until_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX offer_declines_until ON offer_declines(until_at);

-- Offers an agent let expire in a row (an answer starts the count again).
ALTER TABLE agent_presence ADD COLUMN missed_offers INTEGER NOT NULL DEFAULT 0;

-- The queued_at of the wait the supervisors were alerted about (one alert per wait).
ALTER TABLE conversations ADD COLUMN wait_alerted_for INTEGER;
CREATE INDEX conversations_wait_alert ON conversations(queued_at)
    WHERE status IN ('queued', 'offered') AND wait_alerted_for IS NOT queued_at;
