-- Schema version 2: conversation counts kept by triggers, so the list's four counts and /meta
-- read a few hundred rows instead of counting every conversation; and conversation labels kept
-- in the order they were added.
--
-- One row per (account, status, inbox, team, assignee) combination that has conversations;
-- team_id and assignee_id are 0 where the conversation has none. Triggers keep it exact inside
-- the same transaction as every insert, delete (cascades included) and change of those columns.
-- n is an integer so that SUM(n) is a bigint (the sum of a bigint is numeric).

CREATE TABLE conversation_counts (
    account_id  bigint  NOT NULL,
    status      integer NOT NULL,
    inbox_id    bigint  NOT NULL,
    team_id     bigint  NOT NULL,
    assignee_id bigint  NOT NULL,
    n           integer NOT NULL,
    PRIMARY KEY (account_id, status, inbox_id, team_id, assignee_id)
);

-- Adds delta (1 or -1) to one bucket; a bucket left with no conversations is removed.
CREATE FUNCTION conversation_counts_add(
    p_account_id bigint, p_status integer, p_inbox_id bigint, p_team_id bigint,
    p_assignee_id bigint, delta integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    remaining integer;
BEGIN
    IF delta > 0 THEN
        INSERT INTO conversation_counts AS c (account_id, status, inbox_id, team_id, assignee_id, n)
        VALUES (p_account_id, p_status, p_inbox_id, COALESCE(p_team_id, 0), COALESCE(p_assignee_id, 0),
                delta)
        ON CONFLICT (account_id, status, inbox_id, team_id, assignee_id) DO UPDATE SET n = c.n + delta;
    ELSE
        UPDATE conversation_counts SET n = n + delta
         WHERE account_id = p_account_id AND status = p_status AND inbox_id = p_inbox_id
           AND team_id = COALESCE(p_team_id, 0) AND assignee_id = COALESCE(p_assignee_id, 0)
        RETURNING n INTO remaining;
        IF remaining <= 0 THEN
            DELETE FROM conversation_counts
             WHERE account_id = p_account_id AND status = p_status AND inbox_id = p_inbox_id
               AND team_id = COALESCE(p_team_id, 0) AND assignee_id = COALESCE(p_assignee_id, 0);
        END IF;
    END IF;
END;
$$;

CREATE FUNCTION conversation_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM conversation_counts_add(
        NEW.account_id, NEW.status, NEW.inbox_id, NEW.team_id, NEW.assignee_id, 1);
    RETURN NULL;
END;
$$;

CREATE FUNCTION conversation_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM conversation_counts_add(
        OLD.account_id, OLD.status, OLD.inbox_id, OLD.team_id, OLD.assignee_id, -1);
    RETURN NULL;
END;
$$;

-- A conversation that changes bucket leaves one row and joins another. Both rows stay locked
-- until commit, so they are taken in the order of the bucket key: every transaction then locks
-- buckets in one global order, and two that move conversations in opposite directions wait for
-- each other instead of deadlocking.
CREATE FUNCTION conversation_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.account_id, OLD.status, OLD.inbox_id, COALESCE(OLD.team_id, 0), COALESCE(OLD.assignee_id, 0))
     < (NEW.account_id, NEW.status, NEW.inbox_id, COALESCE(NEW.team_id, 0), COALESCE(NEW.assignee_id, 0))
    THEN
        PERFORM conversation_counts_add(
            OLD.account_id, OLD.status, OLD.inbox_id, OLD.team_id, OLD.assignee_id, -1);
        PERFORM conversation_counts_add(
            NEW.account_id, NEW.status, NEW.inbox_id, NEW.team_id, NEW.assignee_id, 1);
    ELSE
        PERFORM conversation_counts_add(
            NEW.account_id, NEW.status, NEW.inbox_id, NEW.team_id, NEW.assignee_id, 1);
        PERFORM conversation_counts_add(
            OLD.account_id, OLD.status, OLD.inbox_id, OLD.team_id, OLD.assignee_id, -1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER conversation_counts_insert AFTER INSERT ON conversations
FOR EACH ROW EXECUTE FUNCTION conversation_counts_insert();

CREATE TRIGGER conversation_counts_delete AFTER DELETE ON conversations
FOR EACH ROW EXECUTE FUNCTION conversation_counts_delete();

CREATE TRIGGER conversation_counts_update
AFTER UPDATE OF account_id, status, inbox_id, team_id, assignee_id ON conversations
FOR EACH ROW
WHEN ((OLD.account_id, OLD.status, OLD.inbox_id, OLD.team_id, OLD.assignee_id)
      IS DISTINCT FROM (NEW.account_id, NEW.status, NEW.inbox_id, NEW.team_id, NEW.assignee_id))
EXECUTE FUNCTION conversation_counts_update();

-- Conversations written by version 1.
INSERT INTO conversation_counts (account_id, status, inbox_id, team_id, assignee_id, n)
SELECT account_id, status, inbox_id, COALESCE(team_id, 0), COALESCE(assignee_id, 0), COUNT(*)
  FROM conversations
 GROUP BY 1, 2, 3, 4, 5;

-- Labels keep the order they were added in (Chatwoot lists them in tagging order), so the table
-- gets an id. Labels written by version 1 are numbered in the order version 1 listed them.
ALTER TABLE conversation_labels DROP CONSTRAINT conversation_labels_pkey;
ALTER TABLE conversation_labels ADD COLUMN id bigint;
UPDATE conversation_labels l
   SET id = o.id
  FROM (SELECT conversation_id, title,
               row_number() OVER (ORDER BY conversation_id, title COLLATE "C") AS id
          FROM conversation_labels) o
 WHERE l.conversation_id = o.conversation_id AND l.title = o.title;
ALTER TABLE conversation_labels
    ALTER COLUMN id SET NOT NULL,
    ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY,
    ADD PRIMARY KEY (id),
    ADD UNIQUE (conversation_id, title);
SELECT setval(pg_get_serial_sequence('conversation_labels', 'id'), MAX(id)) FROM conversation_labels;
