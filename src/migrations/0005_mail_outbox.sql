-- Schema version 5: outgoing mail. A mail accepted by the API is a row here, written in the same
-- transaction as the request's other effects, and deleted once delivered; failed deliveries are
-- retried with backoff and given up after a bounded number of attempts (`failed_at` set).
-- Daily email counts per account and UTC day enforce `--emails-per-day` across restarts.

CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    failed_at       INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE failed_at IS NULL;

CREATE TABLE email_counts (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    day        TEXT    NOT NULL,
    sent       INTEGER NOT NULL,
    PRIMARY KEY (account_id, day)
) WITHOUT ROWID;
