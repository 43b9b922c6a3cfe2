-- Schema version 4: indexes for filters. Custom attribute values get one row per (conversation
-- or contact, key), kept by triggers in the same transaction as every write of
-- `custom_attributes`, so that filters on a custom attribute read an index instead of parsing
-- the JSON of every conversation.
--
-- `folded` is the value as text with each character lowercased by `fold()`, the function every
-- wootlite connection registers (filters on text attributes compare it). The triggers therefore
-- run only inside wootlite: a tool writing `custom_attributes` from outside must register it too.
-- Values are json_each's: JSON null has type 'null' and value NULL; objects and arrays are
-- their JSON text.

CREATE TABLE conversation_attribute_values (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    key             TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    value,
    folded          TEXT,
    PRIMARY KEY (conversation_id, key)
) WITHOUT ROWID;
CREATE INDEX conversation_attribute_values_folded ON conversation_attribute_values (key, folded);
CREATE INDEX conversation_attribute_values_typed ON conversation_attribute_values (key, type, value);

CREATE TABLE contact_attribute_values (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    value,
    folded     TEXT,
    PRIMARY KEY (contact_id, key)
) WITHOUT ROWID;
CREATE INDEX contact_attribute_values_folded ON contact_attribute_values (key, folded);
CREATE INDEX contact_attribute_values_typed ON contact_attribute_values (key, type, value);

CREATE TRIGGER conversation_attribute_values_insert AFTER INSERT ON conversations
BEGIN
    INSERT INTO conversation_attribute_values (conversation_id, key, type, value, folded)
    SELECT NEW.id, j.key, j.type, j.value, fold(j.value)
      FROM json_each(NEW.custom_attributes) j;
END;

CREATE TRIGGER conversation_attribute_values_update AFTER UPDATE OF custom_attributes ON conversations
BEGIN
    DELETE FROM conversation_attribute_values WHERE conversation_id = NEW.id;
    INSERT INTO conversation_attribute_values (conversation_id, key, type, value, folded)
    SELECT NEW.id, j.key, j.type, j.value, fold(j.value)
      FROM json_each(NEW.custom_attributes) j;
END;

CREATE TRIGGER contact_attribute_values_insert AFTER INSERT ON contacts
BEGIN
    INSERT INTO contact_attribute_values (contact_id, key, type, value, folded)
    SELECT NEW.id, j.key, j.type, j.value, fold(j.value)
      FROM json_each(NEW.custom_attributes) j;
END;

CREATE TRIGGER contact_attribute_values_update AFTER UPDATE OF custom_attributes ON contacts
BEGIN
    DELETE FROM contact_attribute_values WHERE contact_id = NEW.id;
    INSERT INTO contact_attribute_values (contact_id, key, type, value, folded)
    SELECT NEW.id, j.key, j.type, j.value, fold(j.value)
      FROM json_each(NEW.custom_attributes) j;
END;

INSERT INTO conversation_attribute_values (conversation_id, key, type, value, folded)
SELECT c.id, j.key, j.type, j.value, fold(j.value)
  FROM conversations c, json_each(c.custom_attributes) j;

INSERT INTO contact_attribute_values (contact_id, key, type, value, folded)
SELECT ct.id, j.key, j.type, j.value, fold(j.value)
  FROM contacts ct, json_each(ct.custom_attributes) j;

-- The filter's date keys (and the list sorted by date across statuses) read these.
CREATE INDEX conversations_by_created ON conversations (account_id, created_at);
CREATE INDEX conversations_by_activity ON conversations (account_id, last_activity_at);

-- The remaining standard filter keys: priority, campaign, and the additional_attributes keys
-- (the expressions are the compiler's, character for character, so SQLite can use them).
CREATE INDEX conversations_by_priority ON conversations (account_id, priority);
CREATE INDEX conversations_by_campaign ON conversations (account_id, campaign_id)
    WHERE campaign_id IS NOT NULL;
CREATE INDEX conversations_browser_language
    ON conversations (account_id, json_extract(additional_attributes, '$.browser_language'));
CREATE INDEX conversations_conversation_language
    ON conversations (account_id, json_extract(additional_attributes, '$.conversation_language'));
CREATE INDEX conversations_country_code
    ON conversations (account_id, json_extract(additional_attributes, '$.country_code'));
CREATE INDEX conversations_referer
    ON conversations (account_id, json_extract(additional_attributes, '$.referer'));
CREATE INDEX conversations_mail_subject
    ON conversations (account_id, json_extract(additional_attributes, '$.mail_subject'));
