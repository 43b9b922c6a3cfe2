-- Schema version 7: a compact copy of what the list's counts and order read from a
-- conversation. A search answers with many conversation ids; looking each one up in this index
-- reads tens of bytes where the table row holds hundreds (JSON attributes included).

CREATE INDEX conversations_summary ON conversations
    (id, account_id, status, assignee_id, inbox_id, team_id, last_activity_at, created_at, priority, waiting_since);
