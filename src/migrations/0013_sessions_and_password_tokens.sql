-- Schema version 13: browser sessions and set-password links.
--
-- A session is what the agent app's cookie stands for: only a SHA-256 of the cookie's value is
-- kept, with the user, the token the app must echo in `X-CSRF-Token` on every change, and when it
-- ends. Signing out deletes the row; an expired row authenticates nothing and is pruned later.
--
-- A password token lets whoever holds a mailed (or printed) link choose a user's password, once:
-- only its SHA-256 is kept, and using it deletes the row.

CREATE TABLE sessions (
    id                 INTEGER PRIMARY KEY,
    token_sha256       TEXT    NOT NULL UNIQUE,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token         TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE password_tokens (
    id                 INTEGER PRIMARY KEY,
    token_sha256       TEXT    NOT NULL UNIQUE,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at         INTEGER NOT NULL,
    created_at         INTEGER NOT NULL
);
CREATE INDEX password_tokens_by_user ON password_tokens (user_id);
