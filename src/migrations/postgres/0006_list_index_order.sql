-- Schema version 6: the list indexes in ascending order.
--
-- Lists are ordered by last activity with the id as tie-break in the same direction
-- ("last_activity_at DESC, id DESC"). SQLite, given indexes declared with last_activity_at
-- DESC, walked the account's activity index instead and read every row to check its status.
-- Ascending indexes walked backwards give exactly the list order, and forwards the oldest-first
-- order; PostgreSQL gets the same indexes so that both engines hold the same schema.

DROP INDEX conversations_list;
DROP INDEX conversations_by_inbox;
DROP INDEX conversations_by_assignee;
DROP INDEX conversations_by_team;
DROP INDEX conversations_by_contact;
CREATE INDEX conversations_list ON conversations (account_id, status, last_activity_at);
CREATE INDEX conversations_by_inbox ON conversations (account_id, inbox_id, status, last_activity_at);
CREATE INDEX conversations_by_assignee ON conversations (account_id, assignee_id, status, last_activity_at);
CREATE INDEX conversations_by_team ON conversations (account_id, team_id, status, last_activity_at);
CREATE INDEX conversations_by_contact ON conversations (contact_id, last_activity_at);
