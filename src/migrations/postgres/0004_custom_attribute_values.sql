-- Schema version 4: indexes for filters. Custom attribute values get one row per (conversation
-- or contact, key), so that filters on a custom attribute read an index instead of parsing the
-- JSON of every conversation.
--
-- On SQLite, triggers explode `custom_attributes` with json_each and fold(). Here the store
-- writes these rows itself, in the transaction that writes `custom_attributes`
-- (docs/storage.md §4): `folded` must be Rust's character-by-character fold, which no
-- PostgreSQL lower() reproduces for every character. Nothing is filled in here: no PostgreSQL
-- database held conversations before this step (support for it arrived with all fifteen), and
-- `migrate` copies these rows from SQLite.
--
-- A row holds one JSON value, typed as json_each names it:
--   type 'text'               text_value is the string;
--   type 'array' or 'object'  text_value is its JSON text;
--   type 'integer' or 'real'  number_value is the number;
--   type 'true' or 'false'    bool_value is 1 or 0;
--   type 'null'               all three are NULL.
-- `folded` is what SQLite's fold(value) gives: the text folded, numbers as Rust writes them,
-- true and false as '1' and '0', NULL for null. Filters on text compare it.

CREATE TABLE conversation_attribute_values (
    conversation_id bigint           NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    key             text             NOT NULL,
    type            text             NOT NULL
                    CHECK (type IN ('null', 'true', 'false', 'integer', 'real', 'text', 'array', 'object')),
    text_value      text,
    number_value    double precision,
    bool_value      smallint         CHECK (bool_value IN (0, 1)),
    folded          text,
    PRIMARY KEY (conversation_id, key)
);
-- Text filters read `folded`; numbers, checkboxes (by type) and presence read the typed index,
-- as SQLite's (key, type, value).
CREATE INDEX conversation_attribute_values_folded ON conversation_attribute_values (key, folded);
CREATE INDEX conversation_attribute_values_typed
    ON conversation_attribute_values (key, type, number_value);

CREATE TABLE contact_attribute_values (
    contact_id   bigint           NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    key          text             NOT NULL,
    type         text             NOT NULL
                 CHECK (type IN ('null', 'true', 'false', 'integer', 'real', 'text', 'array', 'object')),
    text_value   text,
    number_value double precision,
    bool_value   smallint         CHECK (bool_value IN (0, 1)),
    folded       text,
    PRIMARY KEY (contact_id, key)
);
CREATE INDEX contact_attribute_values_folded ON contact_attribute_values (key, folded);
CREATE INDEX contact_attribute_values_typed ON contact_attribute_values (key, type, number_value);

-- The day of a date attribute, or NULL when the text is not a date, where a cast would fail the
-- whole query: Chatwoot's filters let a value that is not a date match nothing. It gives the day
-- SQLite's date(value) gives for a date and time: YYYY-MM-DD, then optionally HH:MM[:SS[.fff]]
-- after spaces or 'T', then optionally 'Z' or an offset +HH:MM / -HH:MM. Like SQLite, it lets a
-- day past the month's end run into the next month, and it works out the day from the instant
-- (time and offset, in UTC) only where SQLite does: for an offset, or a day past the 28th.
-- Immutable, so that an index can hold it.
CREATE FUNCTION wootlite_date(value text) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT CASE
       WHEN NOT (y >= 1 AND mo BETWEEN 1 AND 12 AND d BETWEEN 1 AND 31
                 AND h <= 24 AND mi <= 59 AND s <= 59 AND tz_h <= 14 AND tz_m <= 59) THEN NULL
       WHEN d <= 28 AND tz_h = 0 AND tz_m = 0 THEN make_date(y, mo, d)
       ELSE (make_date(y, mo, 1) + (d - 1)
             + make_interval(hours => h, mins => mi)
             - tz_sign * make_interval(hours => tz_h, mins => tz_m))::date
       END
  FROM (SELECT regexp_match(value,
                 '^([0-9]{4})-([0-9]{2})-([0-9]{2})[ \t\n\v\f\rT]*'
                 '(?:([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?[ \t\n\v\f\r]*'
                 '(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))?[ \t\n\v\f\r]*)?$') AS p) AS matched,
       LATERAL (SELECT p[1]::int AS y, p[2]::int AS mo, p[3]::int AS d,
                       COALESCE(p[4]::int, 0) AS h, COALESCE(p[5]::int, 0) AS mi,
                       COALESCE(p[6]::int, 0) AS s,
                       CASE p[7] WHEN '-' THEN -1 ELSE 1 END AS tz_sign,
                       COALESCE(p[8]::int, 0) AS tz_h, COALESCE(p[9]::int, 0) AS tz_m) AS parts
 WHERE p IS NOT NULL
$$;

-- Date filters compare the day of a text value.
CREATE INDEX conversation_attribute_values_dated
    ON conversation_attribute_values (key, wootlite_date(text_value));
CREATE INDEX contact_attribute_values_dated ON contact_attribute_values (key, wootlite_date(text_value));

-- The filter's date keys (and the list sorted by date across statuses) read these.
CREATE INDEX conversations_by_created ON conversations (account_id, created_at);
CREATE INDEX conversations_by_activity ON conversations (account_id, last_activity_at);

-- The remaining standard filter keys: priority, campaign, and the additional_attributes keys
-- (the expressions must be the compiler's, character for character, for the planner to use
-- them).
CREATE INDEX conversations_by_priority ON conversations (account_id, priority);
CREATE INDEX conversations_by_campaign ON conversations (account_id, campaign_id)
    WHERE campaign_id IS NOT NULL;
CREATE INDEX conversations_browser_language
    ON conversations (account_id, (additional_attributes::jsonb ->> 'browser_language'));
CREATE INDEX conversations_conversation_language
    ON conversations (account_id, (additional_attributes::jsonb ->> 'conversation_language'));
CREATE INDEX conversations_country_code
    ON conversations (account_id, (additional_attributes::jsonb ->> 'country_code'));
CREATE INDEX conversations_referer
    ON conversations (account_id, (additional_attributes::jsonb ->> 'referer'));
CREATE INDEX conversations_mail_subject
    ON conversations (account_id, (additional_attributes::jsonb ->> 'mail_subject'));
