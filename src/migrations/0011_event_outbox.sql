-- Schema version 11: the event outbox. Every event that has somewhere to go is written here in
-- the transaction of the change that caused it, with its payload frozen as that change left the
-- database, and one delivery row per target. Senders read the deliveries; nothing builds a
-- payload later. Targets' URLs and secrets are not copied here: they are read at send time.

CREATE TABLE outbound_events (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    -- The message an event is about, for what a final failure does to it (reference §3.4).
    message_id  INTEGER,
    conversation_id INTEGER,
    created_at  INTEGER NOT NULL
);

-- target_kind: 0 an account webhook, 1 an API inbox's webhook_url, 2 an agent bot.
-- state: 0 pending, 1 delivered, 2 given up.
-- ordering_key: deliveries to one target with one key go out one after another, in id order.
CREATE TABLE event_deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES outbound_events(id) ON DELETE CASCADE,
    target_kind     INTEGER NOT NULL CHECK (target_kind IN (0, 1, 2)),
    target_id       INTEGER NOT NULL,
    ordering_key    TEXT    NOT NULL,
    delivery_id     TEXT    NOT NULL,
    state           INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX event_deliveries_due ON event_deliveries (next_attempt_at, id) WHERE state = 0;
CREATE INDEX event_deliveries_in_order
    ON event_deliveries (target_kind, target_id, ordering_key, id) WHERE state = 0;
CREATE INDEX event_deliveries_finished ON event_deliveries (finished_at) WHERE state <> 0;
CREATE INDEX event_deliveries_by_event ON event_deliveries (event_id);
