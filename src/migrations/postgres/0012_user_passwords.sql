-- Schema version 12: users' passwords, for `POST /auth/sign_in`. An Argon2id hash as a PHC
-- string (salt and parameters included), set with `wootlite user password`; NULL when the user
-- has none, and then signing in with a password always fails.

ALTER TABLE users ADD COLUMN password_hash text;
