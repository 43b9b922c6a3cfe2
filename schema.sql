-- wootlite schema, version 1.
--
-- Conventions:
--   * every *_at column is unix time in MICROseconds (INTEGER), so Chatwoot's float `updated_at`
--     keeps its precision and ordering is exact;
--   * JSON objects are stored as TEXT holding a JSON object (never NULL: '{}' by default);
--   * booleans are INTEGER 0/1; Chatwoot enums are stored as their Rails integers.

CREATE TABLE accounts (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL,
    locale             TEXT    NOT NULL DEFAULT 'en',
    domain             TEXT,
    support_email      TEXT,
    -- The last conversation display_id handed out; bumped with UPDATE ... RETURNING, never reused.
    last_display_id    INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL,
    display_name       TEXT,
    email              TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    avatar_url         TEXT,
    -- Agents added through the API start unconfirmed, as Chatwoot's (it mails them an invitation).
    confirmed          INTEGER NOT NULL DEFAULT 0,
    pubsub_token       TEXT    NOT NULL UNIQUE,
    custom_attributes  TEXT    NOT NULL DEFAULT '{}',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- A user's membership of an account. role: 0 agent, 1 administrator.
-- availability: 0 online, 1 offline, 2 busy (Chatwoot's enum).
CREATE TABLE account_users (
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role               INTEGER NOT NULL DEFAULT 0 CHECK (role IN (0, 1)),
    availability       INTEGER NOT NULL DEFAULT 0 CHECK (availability IN (0, 1, 2)),
    auto_offline       INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_id)
) WITHOUT ROWID;
CREATE INDEX account_users_by_user ON account_users (user_id, account_id);

-- Only a SHA-256 of each token is kept.
CREATE TABLE access_tokens (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_sha256       TEXT    NOT NULL UNIQUE,
    created_at         INTEGER NOT NULL
);
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);

-- The channel's own columns live on the inbox: wootlite serves API channels (channel_type
-- 'Channel::Api'); channel_id mirrors the inbox id.
CREATE TABLE inboxes (
    id                            INTEGER PRIMARY KEY,
    account_id                    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name                          TEXT    NOT NULL,
    channel_type                  TEXT    NOT NULL DEFAULT 'Channel::Api',
    webhook_url                   TEXT,
    hmac_token                    TEXT    NOT NULL,
    identifier                    TEXT    NOT NULL UNIQUE,
    hmac_mandatory                INTEGER NOT NULL DEFAULT 0,
    avatar_url                    TEXT,
    greeting_enabled              INTEGER NOT NULL DEFAULT 0,
    greeting_message              TEXT,
    enable_email_collect          INTEGER NOT NULL DEFAULT 1,
    csat_survey_enabled           INTEGER NOT NULL DEFAULT 0,
    enable_auto_assignment        INTEGER NOT NULL DEFAULT 1,
    auto_assignment_config        TEXT    NOT NULL DEFAULT '{}',
    working_hours_enabled         INTEGER NOT NULL DEFAULT 0,
    out_of_office_message         TEXT,
    timezone                      TEXT    NOT NULL DEFAULT 'UTC',
    allow_messages_after_resolved INTEGER NOT NULL DEFAULT 1,
    lock_to_single_conversation   INTEGER NOT NULL DEFAULT 0,
    sender_name_type              INTEGER NOT NULL DEFAULT 0,
    business_name                 TEXT,
    additional_attributes         TEXT    NOT NULL DEFAULT '{}',
    created_at                    INTEGER NOT NULL,
    updated_at                    INTEGER NOT NULL
);
CREATE INDEX inboxes_by_account ON inboxes (account_id, id);

CREATE TABLE inbox_members (
    inbox_id           INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, user_id)
) WITHOUT ROWID;
-- "Which inboxes may this agent see" is asked on every agent request.
CREATE INDEX inbox_members_by_user ON inbox_members (user_id, inbox_id);

CREATE TABLE teams (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name               TEXT    NOT NULL,
    description        TEXT,
    allow_auto_assign  INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE team_members (
    team_id            INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;
CREATE INDEX team_members_by_user ON team_members (user_id, team_id);

CREATE TABLE contacts (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name                  TEXT    NOT NULL DEFAULT '',
    email                 TEXT    COLLATE NOCASE,
    phone_number          TEXT,
    identifier            TEXT,
    avatar_url            TEXT,
    blocked               INTEGER NOT NULL DEFAULT 0,
    additional_attributes TEXT    NOT NULL DEFAULT '{}',
    custom_attributes     TEXT    NOT NULL DEFAULT '{}',
    last_activity_at      INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX contacts_by_account ON contacts (account_id, id);
CREATE UNIQUE INDEX contacts_email_per_account ON contacts (account_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX contacts_identifier_per_account ON contacts (account_id, identifier) WHERE identifier IS NOT NULL;
CREATE UNIQUE INDEX contacts_phone_per_account ON contacts (account_id, phone_number) WHERE phone_number IS NOT NULL;

-- A contact as seen through one inbox; source_id is the channel's id for the contact.
CREATE TABLE contact_inboxes (
    id                 INTEGER PRIMARY KEY,
    contact_id         INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    inbox_id           INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    source_id          TEXT    NOT NULL,
    hmac_verified      INTEGER NOT NULL DEFAULT 0,
    pubsub_token       TEXT    NOT NULL UNIQUE,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (inbox_id, source_id)
);
CREATE INDEX contact_inboxes_by_contact ON contact_inboxes (contact_id, inbox_id);

CREATE TABLE labels (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title              TEXT    NOT NULL,
    description        TEXT,
    color              TEXT    NOT NULL DEFAULT '#1f93ff',
    show_on_sidebar    INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (account_id, title)
);

-- attribute_display_type: 0 text, 1 number, 2 currency, 3 percent, 4 link, 5 date, 6 list, 7 checkbox.
-- attribute_model: 0 conversation_attribute, 1 contact_attribute.
CREATE TABLE custom_attribute_definitions (
    id                     INTEGER PRIMARY KEY,
    account_id             INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    attribute_display_name TEXT    NOT NULL,
    attribute_key          TEXT    NOT NULL,
    attribute_display_type INTEGER NOT NULL DEFAULT 0,
    attribute_model        INTEGER NOT NULL DEFAULT 0,
    attribute_description  TEXT,
    attribute_values       TEXT    NOT NULL DEFAULT '[]',
    default_value          TEXT,
    regex_pattern          TEXT,
    regex_cue              TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    UNIQUE (account_id, attribute_model, attribute_key)
);

-- status: 0 open, 1 resolved, 2 pending, 3 snoozed. priority: NULL, 0 low, 1 medium, 2 high, 3 urgent.
CREATE TABLE conversations (
    id                     INTEGER PRIMARY KEY,
    account_id             INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    display_id             INTEGER NOT NULL,
    uuid                   TEXT    NOT NULL UNIQUE,
    inbox_id               INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    contact_id             INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    contact_inbox_id       INTEGER REFERENCES contact_inboxes(id) ON DELETE SET NULL,
    status                 INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2, 3)),
    priority               INTEGER CHECK (priority IN (0, 1, 2, 3)),
    assignee_id            INTEGER REFERENCES users(id) ON DELETE SET NULL,
    team_id                INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    campaign_id            INTEGER,
    sla_policy_id          INTEGER,
    snoozed_until          INTEGER,
    additional_attributes  TEXT    NOT NULL DEFAULT '{}',
    custom_attributes      TEXT    NOT NULL DEFAULT '{}',
    agent_last_seen_at     INTEGER,
    assignee_last_seen_at  INTEGER,
    contact_last_seen_at   INTEGER,
    first_reply_created_at INTEGER,
    waiting_since          INTEGER,
    last_activity_at       INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    UNIQUE (account_id, display_id)
);
-- The list is ordered by last_activity_at within an account, filtered by status and one of
-- inbox / assignee / team; each index serves one of those shapes without a sort step.
CREATE INDEX conversations_list ON conversations (account_id, status, last_activity_at DESC);
CREATE INDEX conversations_by_inbox ON conversations (account_id, inbox_id, status, last_activity_at DESC);
CREATE INDEX conversations_by_assignee ON conversations (account_id, assignee_id, status, last_activity_at DESC);
CREATE INDEX conversations_by_team ON conversations (account_id, team_id, status, last_activity_at DESC);
CREATE INDEX conversations_by_contact ON conversations (contact_id, last_activity_at DESC);
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE status = 3;

-- Chatwoot's taggings: any title may be attached, whether or not a label of that name exists.
-- This table is the only record of a conversation's labels (Chatwoot's cached_label_list is
-- derived from it).
CREATE TABLE conversation_labels (
    conversation_id    INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    account_id         INTEGER NOT NULL,
    title              TEXT    NOT NULL,
    PRIMARY KEY (conversation_id, title)
) WITHOUT ROWID;
CREATE INDEX conversation_labels_by_title ON conversation_labels (account_id, title, conversation_id);

-- message_type: 0 incoming, 1 outgoing, 2 activity, 3 template.
-- status: 0 sent, 1 delivered, 2 read, 3 failed.
-- sender_type: 'Contact', 'User', 'AgentBot' or NULL.
CREATE TABLE messages (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    inbox_id              INTEGER NOT NULL,
    conversation_id       INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_type          INTEGER NOT NULL CHECK (message_type IN (0, 1, 2, 3)),
    content               TEXT,
    private               INTEGER NOT NULL DEFAULT 0,
    status                INTEGER NOT NULL DEFAULT 0,
    content_type          TEXT    NOT NULL DEFAULT 'text',
    content_attributes    TEXT    NOT NULL DEFAULT '{}',
    source_id             TEXT,
    echo_id               TEXT,
    sender_type           TEXT,
    sender_id             INTEGER,
    external_source_ids   TEXT    NOT NULL DEFAULT '{}',
    additional_attributes TEXT    NOT NULL DEFAULT '{}',
    deleted               INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE INDEX messages_by_conversation_type ON messages (conversation_id, message_type, created_at);
CREATE INDEX messages_by_source ON messages (inbox_id, source_id) WHERE source_id IS NOT NULL;

-- file_type: 0 image, 1 audio, 2 video, 3 file, 4 location, 5 fallback, 6 share, 7 story_mention, 8 contact.
CREATE TABLE attachments (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message_id         INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    file_type          INTEGER NOT NULL DEFAULT 3,
    file_name          TEXT,
    mime_type          TEXT,
    extension          TEXT,
    file_size          INTEGER,
    width              INTEGER,
    height             INTEGER,
    -- Path of the stored file relative to the data dir's attachment folder.
    storage_key        TEXT,
    external_url       TEXT,
    coordinates_lat    REAL,
    coordinates_long   REAL,
    fallback_title     TEXT,
    created_at         INTEGER NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id);
