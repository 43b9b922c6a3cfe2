-- Schema version 2: conversation counts kept by triggers, so the list's four counts and /meta
-- read a few hundred rows instead of counting every conversation; and conversation labels kept
-- in the order they were added.
--
-- One row per (account, status, inbox, team, assignee) combination that has conversations;
-- team_id and assignee_id are 0 where the conversation has none. Triggers keep it exact inside
-- the same transaction as every insert, delete (cascades included) and change of those columns.

CREATE TABLE conversation_counts (
    account_id  INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    inbox_id    INTEGER NOT NULL,
    team_id     INTEGER NOT NULL,
    assignee_id INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (account_id, status, inbox_id, team_id, assignee_id)
) WITHOUT ROWID;

CREATE TRIGGER conversation_counts_insert AFTER INSERT ON conversations
BEGIN
    INSERT INTO conversation_counts (account_id, status, inbox_id, team_id, assignee_id, n)
    VALUES (NEW.account_id, NEW.status, NEW.inbox_id, COALESCE(NEW.team_id, 0), COALESCE(NEW.assignee_id, 0), 1)
    ON CONFLICT (account_id, status, inbox_id, team_id, assignee_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER conversation_counts_delete AFTER DELETE ON conversations
BEGIN
    UPDATE conversation_counts SET n = n - 1
     WHERE account_id = OLD.account_id AND status = OLD.status AND inbox_id = OLD.inbox_id
       AND team_id = COALESCE(OLD.team_id, 0) AND assignee_id = COALESCE(OLD.assignee_id, 0);
    DELETE FROM conversation_counts
     WHERE account_id = OLD.account_id AND status = OLD.status AND inbox_id = OLD.inbox_id
       AND team_id = COALESCE(OLD.team_id, 0) AND assignee_id = COALESCE(OLD.assignee_id, 0) AND n <= 0;
END;

CREATE TRIGGER conversation_counts_update
AFTER UPDATE OF account_id, status, inbox_id, team_id, assignee_id ON conversations
WHEN OLD.account_id IS NOT NEW.account_id OR OLD.status IS NOT NEW.status OR OLD.inbox_id IS NOT NEW.inbox_id
  OR OLD.team_id IS NOT NEW.team_id OR OLD.assignee_id IS NOT NEW.assignee_id
BEGIN
    UPDATE conversation_counts SET n = n - 1
     WHERE account_id = OLD.account_id AND status = OLD.status AND inbox_id = OLD.inbox_id
       AND team_id = COALESCE(OLD.team_id, 0) AND assignee_id = COALESCE(OLD.assignee_id, 0);
    DELETE FROM conversation_counts
     WHERE account_id = OLD.account_id AND status = OLD.status AND inbox_id = OLD.inbox_id
       AND team_id = COALESCE(OLD.team_id, 0) AND assignee_id = COALESCE(OLD.assignee_id, 0) AND n <= 0;
    INSERT INTO conversation_counts (account_id, status, inbox_id, team_id, assignee_id, n)
    VALUES (NEW.account_id, NEW.status, NEW.inbox_id, COALESCE(NEW.team_id, 0), COALESCE(NEW.assignee_id, 0), 1)
    ON CONFLICT (account_id, status, inbox_id, team_id, assignee_id) DO UPDATE SET n = n + 1;
END;

-- Conversations written by version 1.
INSERT INTO conversation_counts (account_id, status, inbox_id, team_id, assignee_id, n)
SELECT account_id, status, inbox_id, COALESCE(team_id, 0), COALESCE(assignee_id, 0), COUNT(*)
  FROM conversations
 GROUP BY 1, 2, 3, 4, 5;

-- Labels keep the order they were added in (Chatwoot lists them in tagging order), so the table
-- gets a rowid.
CREATE TABLE conversation_labels_v2 (
    id                 INTEGER PRIMARY KEY,
    conversation_id    INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    account_id         INTEGER NOT NULL,
    title              TEXT    NOT NULL,
    UNIQUE (conversation_id, title)
);
INSERT INTO conversation_labels_v2 (conversation_id, account_id, title)
SELECT conversation_id, account_id, title FROM conversation_labels ORDER BY conversation_id, title;
DROP TABLE conversation_labels;
ALTER TABLE conversation_labels_v2 RENAME TO conversation_labels;
CREATE INDEX conversation_labels_by_title ON conversation_labels (account_id, title, conversation_id);
