-- Change capture for events (the twin of the temporary triggers in src/store/event_capture.rs).
-- PostgreSQL has no temporary triggers, so these triggers are permanent and write into the
-- session's own temporary table `event_changes`, which each writing session of a node creates
-- before its first write. A session without that table (psql, `migrate`, `generate`) notes
-- nothing. Rows of a rolled-back transaction or savepoint vanish with it.
--
-- What is noted belongs to the running wootlite rather than to the data, as it does on SQLite,
-- so this file is applied again at every start instead of being a numbered step.

-- A text column's JSON, or NULL where it is not JSON (SQLite's `json_valid` guard).
CREATE OR REPLACE FUNCTION wootlite_jsonb(value text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN value::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION wootlite_capturing() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT to_regclass('pg_temp.event_changes') IS NOT NULL $$;

-- The columns an event reports before and after a change, one function per table.
CREATE OR REPLACE FUNCTION wootlite_conversation_columns(c conversations) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('status', c.status, 'priority', c.priority,
        'assignee_id', c.assignee_id, 'team_id', c.team_id, 'snoozed_until', c.snoozed_until,
        'custom_attributes', c.custom_attributes, 'waiting_since', c.waiting_since,
        'first_reply_created_at', c.first_reply_created_at,
        'additional_attributes', c.additional_attributes, 'updated_at', c.updated_at)
$$;

CREATE OR REPLACE FUNCTION wootlite_message_columns(m messages) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('content', m.content, 'status', m.status,
        'content_attributes', m.content_attributes, 'private', m.private,
        'updated_at', m.updated_at)
$$;

CREATE OR REPLACE FUNCTION wootlite_contact_columns(c contacts) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('name', c.name, 'email', c.email, 'phone_number', c.phone_number,
        'identifier', c.identifier, 'blocked', c.blocked,
        'additional_attributes', c.additional_attributes,
        'custom_attributes', c.custom_attributes, 'updated_at', c.updated_at)
$$;

CREATE OR REPLACE FUNCTION wootlite_capture_conversation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT wootlite_capturing() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id) VALUES ('conversation_created', NEW.id);
        RETURN NULL;
    END IF;
    IF OLD.status IS DISTINCT FROM NEW.status OR OLD.priority IS DISTINCT FROM NEW.priority
       OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
       OR OLD.team_id IS DISTINCT FROM NEW.team_id
       OR OLD.snoozed_until IS DISTINCT FROM NEW.snoozed_until
       OR OLD.custom_attributes IS DISTINCT FROM NEW.custom_attributes
       OR OLD.waiting_since IS DISTINCT FROM NEW.waiting_since
       OR OLD.first_reply_created_at IS DISTINCT FROM NEW.first_reply_created_at
       OR (wootlite_jsonb(OLD.additional_attributes) -> 'conversation_language')
          IS DISTINCT FROM (wootlite_jsonb(NEW.additional_attributes) -> 'conversation_language')
    THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id, before, after)
        VALUES ('conversation_updated', NEW.id, wootlite_conversation_columns(OLD)::text,
            wootlite_conversation_columns(NEW)::text);
    END IF;
    IF OLD.contact_last_seen_at IS DISTINCT FROM NEW.contact_last_seen_at THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id) VALUES ('conversation_read', NEW.id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER wootlite_capture_conversation
AFTER INSERT OR UPDATE ON conversations
FOR EACH ROW EXECUTE FUNCTION wootlite_capture_conversation();

CREATE OR REPLACE FUNCTION wootlite_capture_label() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT wootlite_capturing() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id, after)
        VALUES ('label_added', NEW.conversation_id, to_json(NEW.title)::text);
    ELSE
        INSERT INTO pg_temp.event_changes (kind, subject_id, before)
        VALUES ('label_removed', OLD.conversation_id, to_json(OLD.title)::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER wootlite_capture_label
AFTER INSERT OR DELETE ON conversation_labels
FOR EACH ROW EXECUTE FUNCTION wootlite_capture_label();

CREATE OR REPLACE FUNCTION wootlite_capture_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT wootlite_capturing() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.message_type = 2 THEN
            INSERT INTO pg_temp.event_changes (kind, subject_id) VALUES ('activity_created', NEW.id);
        ELSE
            INSERT INTO pg_temp.event_changes (kind, subject_id) VALUES ('message_created', NEW.id);
        END IF;
        RETURN NULL;
    END IF;
    IF NEW.message_type IN (0, 1, 3) AND (OLD.content IS DISTINCT FROM NEW.content
       OR OLD.status IS DISTINCT FROM NEW.status
       OR OLD.content_attributes IS DISTINCT FROM NEW.content_attributes
       OR OLD.deleted IS DISTINCT FROM NEW.deleted OR OLD.private IS DISTINCT FROM NEW.private
       OR OLD.content_type IS DISTINCT FROM NEW.content_type
       OR OLD.additional_attributes IS DISTINCT FROM NEW.additional_attributes)
    THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id, before, after)
        VALUES ('message_updated', NEW.id, wootlite_message_columns(OLD)::text,
            wootlite_message_columns(NEW)::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER wootlite_capture_message
AFTER INSERT OR UPDATE ON messages
FOR EACH ROW EXECUTE FUNCTION wootlite_capture_message();

CREATE OR REPLACE FUNCTION wootlite_capture_contact() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT wootlite_capturing() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id) VALUES ('contact_created', NEW.id);
        RETURN NULL;
    END IF;
    IF OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
       OR OLD.phone_number IS DISTINCT FROM NEW.phone_number
       OR OLD.identifier IS DISTINCT FROM NEW.identifier
       OR OLD.blocked IS DISTINCT FROM NEW.blocked
       OR OLD.additional_attributes IS DISTINCT FROM NEW.additional_attributes
       OR OLD.custom_attributes IS DISTINCT FROM NEW.custom_attributes
    THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id, before, after)
        VALUES ('contact_updated', NEW.id, wootlite_contact_columns(OLD)::text,
            wootlite_contact_columns(NEW)::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER wootlite_capture_contact
AFTER INSERT OR UPDATE ON contacts
FOR EACH ROW EXECUTE FUNCTION wootlite_capture_contact();

CREATE OR REPLACE FUNCTION wootlite_inbox_columns(inbox inboxes) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('name', inbox.name, 'greeting_enabled', inbox.greeting_enabled,
        'greeting_message', inbox.greeting_message,
        'enable_email_collect', inbox.enable_email_collect,
        'csat_survey_enabled', inbox.csat_survey_enabled,
        'enable_auto_assignment', inbox.enable_auto_assignment,
        'working_hours_enabled', inbox.working_hours_enabled,
        'out_of_office_message', inbox.out_of_office_message, 'timezone', inbox.timezone,
        'allow_messages_after_resolved', inbox.allow_messages_after_resolved,
        'lock_to_single_conversation', inbox.lock_to_single_conversation,
        'business_name', inbox.business_name, 'webhook_url', inbox.webhook_url,
        'updated_at', inbox.updated_at)
$$;

CREATE OR REPLACE FUNCTION wootlite_capture_inbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT wootlite_capturing() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id) VALUES ('inbox_created', NEW.id);
    ELSIF wootlite_inbox_columns(OLD)::jsonb IS DISTINCT FROM wootlite_inbox_columns(NEW)::jsonb
    THEN
        INSERT INTO pg_temp.event_changes (kind, subject_id, before, after)
        VALUES ('inbox_updated', NEW.id, wootlite_inbox_columns(OLD)::text,
            wootlite_inbox_columns(NEW)::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER wootlite_capture_inbox
AFTER INSERT OR UPDATE ON inboxes
FOR EACH ROW EXECUTE FUNCTION wootlite_capture_inbox();

-- The directory's version (see src/db/directory.rs): every statement that changes who may call
-- or what an account is made of moves it, in its own transaction, and each node compares it
-- with the one it last saw, so that a token revoked through one node stops working on all.
-- SQLite's one writer learns the same from temporary triggers.
CREATE TABLE IF NOT EXISTS wootlite_directory_version (
    one     boolean PRIMARY KEY DEFAULT TRUE CHECK (one),
    version bigint  NOT NULL
);
INSERT INTO wootlite_directory_version (version) VALUES (0) ON CONFLICT (one) DO NOTHING;

CREATE OR REPLACE FUNCTION wootlite_directory_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wootlite_directory_version SET version = version + 1;
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    watched text;
BEGIN
    FOREACH watched IN ARRAY ARRAY['users', 'account_users', 'access_tokens', 'agent_bots',
        'agent_bot_inboxes', 'inboxes', 'inbox_members', 'teams', 'team_members', 'labels',
        'custom_attribute_definitions']
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER wootlite_directory_%s
                        AFTER INSERT OR UPDATE OR DELETE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION wootlite_directory_changed()',
                       watched, watched);
    END LOOP;
END;
$$;

-- `accounts` but for its display id counter, which every new conversation moves.
CREATE OR REPLACE TRIGGER wootlite_directory_accounts
AFTER INSERT OR DELETE OR UPDATE OF id, name, locale, domain, support_email, created_at, updated_at
ON accounts
FOR EACH STATEMENT EXECUTE FUNCTION wootlite_directory_changed();

-- How far the search outbox has been pruned (see src/store/search_feed.rs): rows whose
-- transaction id is below it are gone. A node whose search replica has applied less than that
-- rebuilds it.
CREATE TABLE IF NOT EXISTS wootlite_search_floor (
    one     boolean PRIMARY KEY DEFAULT TRUE CHECK (one),
    xact_id xid8    NOT NULL
);
INSERT INTO wootlite_search_floor (xact_id) VALUES ('0') ON CONFLICT (one) DO NOTHING;

-- `/cable` broadcasts across nodes (see src/store/cable_feed.rs): each write transaction adds
-- what it noted for subscribers just before it commits, and every node follows the table by
-- snapshot and publishes what it reads to its own sockets. Rows are kept for minutes; the floor
-- says how far they have been pruned.
CREATE TABLE IF NOT EXISTS wootlite_cable_feed (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xact_id xid8   NOT NULL DEFAULT pg_current_xact_id(),
    event   text   NOT NULL,
    data    text   NOT NULL,
    streams text   NOT NULL
);
CREATE INDEX IF NOT EXISTS wootlite_cable_feed_by_xact ON wootlite_cable_feed (xact_id);
CREATE TABLE IF NOT EXISTS wootlite_cable_floor (
    one     boolean PRIMARY KEY DEFAULT TRUE CHECK (one),
    xact_id xid8    NOT NULL
);
INSERT INTO wootlite_cable_floor (xact_id) VALUES ('0') ON CONFLICT (one) DO NOTHING;

-- Dev mode across nodes (see src/api/dev/shared.rs): the clock's setting (the frozen time, or
-- the offset from the system clock) with a version moved by each change, and a count of resets.
-- Every node in dev mode reads the row every 100 ms and follows it.
CREATE TABLE IF NOT EXISTS wootlite_dev_state (
    one           boolean PRIMARY KEY DEFAULT TRUE CHECK (one),
    clock_version bigint  NOT NULL DEFAULT 0,
    clock_at      bigint  NOT NULL DEFAULT 0,
    clock_frozen  bigint  NOT NULL DEFAULT 0,
    resets        bigint  NOT NULL DEFAULT 0
);
INSERT INTO wootlite_dev_state (one) VALUES (TRUE) ON CONFLICT (one) DO NOTHING;

-- Who was seen lately (see src/store/presence.rs): the last time each user or contact of an
-- account was seen through any node. Only the last few seconds matter, so the table is not
-- written to the WAL: a crash of the database forgets who was online, as a restart does.
CREATE UNLOGGED TABLE IF NOT EXISTS wootlite_presence (
    account_id bigint   NOT NULL,
    kind       bigint   NOT NULL,
    subject_id bigint   NOT NULL,
    seen_at    bigint   NOT NULL,
    PRIMARY KEY (account_id, kind, subject_id)
);

-- Which accounts some node has /cable subscribers for (see src/realtime/watching.rs): a write
-- shares its broadcasts only where a row says someone may listen. A node adds its row before
-- it confirms the account's first subscription there, refreshes it while it has subscribers,
-- and drops it after; rows of a node that died go once they are stale. The time is the
-- database's own, in Unix seconds, so every node reads one clock.
CREATE TABLE IF NOT EXISTS wootlite_cable_watch (
    account_id bigint NOT NULL,
    node       text   NOT NULL,
    seen_at    bigint NOT NULL,
    PRIMARY KEY (account_id, node)
);
