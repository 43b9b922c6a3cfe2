-- Schema version 14: conversation changes in the search outbox. Beside the index, the indexer
-- keeps a copy of what the list's counts and order read from each conversation (account, status,
-- inbox, team, assignee and the sort times), so that a search counts and orders thousands of
-- matches without reading them from the database. Triggers note every change to those columns,
-- cascades included, in the same transaction; the copy then follows the database exactly as
-- the index does, and a search that waits for the index waits for the copy too.
--
-- A conversation's row has message_id 0 (no message has that id) and names the conversation;
-- the indexer reads its current state, so applying a row twice, or late, converges. Like every
-- outbox row it records its transaction in xact_id (step 3).

ALTER TABLE search_outbox ADD COLUMN conversation_id bigint;

CREATE FUNCTION search_outbox_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO search_outbox (message_id, conversation_id) VALUES (0, OLD.id);
    ELSE
        INSERT INTO search_outbox (message_id, conversation_id) VALUES (0, NEW.id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER search_outbox_conversation_insert AFTER INSERT ON conversations
FOR EACH ROW EXECUTE FUNCTION search_outbox_conversation();

CREATE TRIGGER search_outbox_conversation_update AFTER UPDATE OF
    account_id, status, inbox_id, team_id, assignee_id, last_activity_at, created_at, priority,
    waiting_since ON conversations
FOR EACH ROW EXECUTE FUNCTION search_outbox_conversation();

CREATE TRIGGER search_outbox_conversation_delete AFTER DELETE ON conversations
FOR EACH ROW EXECUTE FUNCTION search_outbox_conversation();
