-- Schema version 15: the snoozed conversations' index is bounded by `snoozed_until IS NOT NULL`
-- instead of `status = 3`. Only snoozed conversations keep a `snoozed_until`, so it holds the
-- same rows. SQLite re-planned every statement binding `status = ?` against the old condition
-- each time it ran; PostgreSQL takes the same index so that both engines hold the same schema.

DROP INDEX conversations_snoozed;
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE snoozed_until IS NOT NULL;
