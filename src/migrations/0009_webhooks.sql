-- Schema version 9: the account's webhooks (Chatwoot's account webhooks). Each has the events it
-- subscribes to, kept as a JSON array of event names, and its own signing secret, which
-- administrators see in the API as in Chatwoot. A URL appears once per account. Deleting the
-- account, or the inbox a webhook names, deletes the webhook too, as Chatwoot does.

CREATE TABLE webhooks (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    inbox_id           INTEGER REFERENCES inboxes(id) ON DELETE CASCADE,
    name               TEXT,
    url                TEXT    NOT NULL,
    subscriptions      TEXT    NOT NULL DEFAULT '[]',
    secret             TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (account_id, url)
);
-- The cascade from a deleted inbox finds its webhooks through this index.
CREATE INDEX webhooks_by_inbox ON webhooks (inbox_id);
