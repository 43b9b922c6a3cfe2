-- Schema version 8: invitations. An administrator who adds, by email, a user who already exists
-- (a member of other accounts) does not add them at once: the user is invited by mail and joins
-- the account when they accept with the mailed token. Only a SHA-256 of the token is kept; an
-- accepted invitation is deleted, so a token works once. One pending invitation per account and
-- user: inviting again replaces the token, the membership settings and the expiry.

CREATE TABLE invitations (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The membership the user gets on acceptance, as the administrator chose it.
    role               INTEGER NOT NULL CHECK (role IN (0, 1)),
    availability       INTEGER NOT NULL CHECK (availability IN (0, 1, 2)),
    auto_offline       INTEGER NOT NULL,
    token_sha256       TEXT    NOT NULL UNIQUE,
    expires_at         INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    UNIQUE (account_id, user_id)
);
-- The cascade from a deleted user finds its invitations through this index.
CREATE INDEX invitations_by_user ON invitations (user_id);
