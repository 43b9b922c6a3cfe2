-- Schema version 3: the search outbox. Every change to a message that the full-text index must
-- see leaves a row here, written by triggers in the same transaction as the change itself, so
-- no write path (API, cascades from deleting a conversation, contact, inbox or account) can
-- forget it. The indexer applies rows past the watermark stored in the index's own commit, then
-- prunes what the index has committed. AUTOINCREMENT keeps sequence numbers from being reused
-- after a prune empties the table.
--
-- A row names a message only: the indexer reads the message's current state, so applying a row
-- twice, or late, converges on the database.

CREATE TABLE search_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL
);

-- Incoming (0) and outgoing (1) messages are searchable; activity (2) and template (3) are not,
-- and a message's type never changes.
CREATE TRIGGER search_outbox_message_insert AFTER INSERT ON messages
WHEN NEW.message_type IN (0, 1) AND NEW.content IS NOT NULL
BEGIN
    INSERT INTO search_outbox (message_id) VALUES (NEW.id);
END;

CREATE TRIGGER search_outbox_message_update AFTER UPDATE OF content, deleted, message_type ON messages
WHEN OLD.message_type IN (0, 1) OR NEW.message_type IN (0, 1)
BEGIN
    INSERT INTO search_outbox (message_id) VALUES (NEW.id);
END;

CREATE TRIGGER search_outbox_message_delete AFTER DELETE ON messages
WHEN OLD.message_type IN (0, 1)
BEGIN
    INSERT INTO search_outbox (message_id) VALUES (OLD.id);
END;
