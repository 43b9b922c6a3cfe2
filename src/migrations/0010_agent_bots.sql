-- Schema version 10: agent bots (Chatwoot's AgentBot), the inbox each one answers, and the
-- signing secret of every inbox.
--
-- A bot belongs to one account. Its access token is shown to administrators, as Chatwoot does,
-- so it is kept as issued; the lookup that authenticates a request goes through its SHA-256, as
-- for users' tokens. `secret` signs what is sent to the bot's `outgoing_url`. bot_type: 0 webhook.
-- Ids are never reused (AUTOINCREMENT), so nothing queued for a deleted bot reaches a new one.
CREATE TABLE agent_bots (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id           INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name                 TEXT    NOT NULL,
    description          TEXT,
    outgoing_url         TEXT,
    bot_type             INTEGER NOT NULL DEFAULT 0,
    bot_config           TEXT    NOT NULL DEFAULT '{}',
    access_token         TEXT    NOT NULL,
    access_token_sha256  TEXT    NOT NULL UNIQUE,
    secret               TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX agent_bots_by_account ON agent_bots (account_id, id);

-- Chatwoot's agent_bot_inboxes: the active bot of an inbox, one at most. Deleting the inbox or
-- the bot deletes the link.
CREATE TABLE agent_bot_inboxes (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    inbox_id           INTEGER NOT NULL UNIQUE REFERENCES inboxes(id) ON DELETE CASCADE,
    agent_bot_id       INTEGER NOT NULL REFERENCES agent_bots(id) ON DELETE CASCADE,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
-- "Is this bot attached in this account" is asked on every request made with a bot's token.
CREATE INDEX agent_bot_inboxes_by_bot ON agent_bot_inboxes (agent_bot_id, account_id);

-- The API channel's webhook signing secret (Chatwoot's channel_api.secret), distinct from the
-- hmac_token that verifies contacts. Existing inboxes get a random one.
ALTER TABLE inboxes ADD COLUMN secret TEXT NOT NULL DEFAULT '';
UPDATE inboxes SET secret = lower(hex(randomblob(24)));

-- A deleted bot's messages lose their sender (Chatwoot's dependent: :nullify); this finds them
-- without reading every message.
CREATE INDEX messages_by_bot_sender ON messages (sender_id) WHERE sender_type = 'AgentBot';
