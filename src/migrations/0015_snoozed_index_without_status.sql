-- Schema version 15: the snoozed conversations' index is bounded by `snoozed_until IS NOT NULL`
-- instead of `status = 3`. Only snoozed conversations keep a `snoozed_until`, so it holds the
-- same rows. With `status = 3` as its condition, SQLite compared every statement's bound
-- `status = ?` with that condition while planning, and then planned the statement again each
-- time it was run with its parameters bound: every list, count and filter, about a tenth of a
-- list page's time. (Connections now also keep plans independent of bound values, with
-- `SQLITE_DBCONFIG_ENABLE_QPSG` in the db module; either change alone stops this re-planning.)

DROP INDEX conversations_snoozed;
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE snoozed_until IS NOT NULL;
