//! Contacts and contact inboxes (a contact as known to one inbox, by its `source_id`).

use std::collections::HashMap;

use super::attribute_values::{self, Owner};
use crate::db::{Conn, OptionalExtension, Row, Sql};
use crate::{params, sql};
use serde_json::{Map, Value};

use super::{json_object, one_row, page_window, StoreError, StoreResult};

pub const CONTACTS_PER_PAGE: i64 = 15;

#[derive(Clone, Debug)]
pub struct Contact {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub identifier: Option<String>,
    pub avatar_url: Option<String>,
    pub blocked: bool,
    pub additional_attributes: Value,
    pub custom_attributes: Value,
    pub last_activity_at: Option<i64>,
    pub created_at: i64,
}

/// One of a contact's inboxes, as the contact JSON lists them.
#[derive(Clone, Debug)]
pub struct ContactInbox {
    pub contact_id: i64,
    pub source_id: String,
    pub inbox_id: i64,
    pub inbox_name: String,
    pub channel_type: String,
    pub avatar_url: Option<String>,
}

const SELECT_CONTACT: &str =
    "SELECT id, account_id, name, email, phone_number, identifier, avatar_url, blocked,
        additional_attributes, custom_attributes, last_activity_at, created_at
   FROM contacts";

fn contact_from_row(row: &Row) -> crate::db::SqlResult<Contact> {
    Ok(Contact {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        email: row.get(3)?,
        phone_number: row.get(4)?,
        identifier: row.get(5)?,
        avatar_url: row.get(6)?,
        blocked: row.get(7)?,
        additional_attributes: json_object(&row.get::<String>(8)?),
        custom_attributes: json_object(&row.get::<String>(9)?),
        last_activity_at: row.get(10)?,
        created_at: row.get(11)?,
    })
}

/// The list's `sort` parameter: Chatwoot's keys, `-` prefix for descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Email,
    Name,
    PhoneNumber,
    LastActivityAt,
    CreatedAt,
    Company,
    City,
    Country,
}

impl SortKey {
    pub fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "email" => Self::Email,
            "name" => Self::Name,
            "phone_number" => Self::PhoneNumber,
            "last_activity_at" => Self::LastActivityAt,
            "created_at" => Self::CreatedAt,
            "company" => Self::Company,
            "city" => Self::City,
            "country" => Self::Country,
            _ => return None,
        })
    }
}

/// The list's ORDER BY: Chatwoot sorts NULLs last both ways; with no `sort` it gives no order,
/// and we use creation order so pages are stable.
/// Emails sort case-blind: by the column's NOCASE collation on SQLite, by `lower()` (ASCII, as
/// NOCASE) on PostgreSQL.
fn order_clause(sort: Option<(SortKey, bool)>, postgres: bool) -> &'static str {
    use SortKey::*;
    match sort {
        None => "id",
        Some((Email, false)) if postgres => "email IS NULL, lower(email), id",
        Some((Email, true)) if postgres => "email IS NULL, lower(email) DESC, id",
        Some((Email, false)) => "email IS NULL, email, id",
        Some((Email, true)) => "email IS NULL, email DESC, id",
        Some((Name, false)) => "name, id",
        Some((Name, true)) => "name DESC, id",
        Some((PhoneNumber, false)) => "phone_number IS NULL, phone_number, id",
        Some((PhoneNumber, true)) => "phone_number IS NULL, phone_number DESC, id",
        Some((LastActivityAt, false)) => "last_activity_at IS NULL, last_activity_at, id",
        Some((LastActivityAt, true)) => "last_activity_at IS NULL, last_activity_at DESC, id",
        Some((CreatedAt, false)) => "created_at, id",
        Some((CreatedAt, true)) => "created_at DESC, id",
        Some((Company, false)) => "company IS NULL, company, id",
        Some((Company, true)) => "company IS NULL, company DESC, id",
        Some((City, false)) => "city IS NULL, city, id",
        Some((City, true)) => "city IS NULL, city DESC, id",
        Some((Country, false)) => "country IS NULL, country, id",
        Some((Country, true)) => "country IS NULL, country DESC, id",
    }
}

/// Chatwoot lists only "resolved" contacts: those with an email, a phone number or an identifier.
const RESOLVED: &str = "account_id = ?1
    AND COALESCE(NULLIF(email, ''), NULLIF(phone_number, ''), NULLIF(identifier, '')) IS NOT NULL";

/// One page of the account's contacts and the number of contacts on all pages.
pub fn list(
    conn: &Conn,
    account_id: i64,
    page: i64,
    sort: Option<(SortKey, bool)>,
) -> StoreResult<(Vec<Contact>, i64)> {
    let (limit, offset) = page_window(page, CONTACTS_PER_PAGE);
    let postgres = conn.is_postgres();
    let extracted = if postgres {
        "wootlite_jsonb(additional_attributes) ->> 'company_name' AS company,
         wootlite_jsonb(additional_attributes) ->> 'city' AS city,
         wootlite_jsonb(additional_attributes) ->> 'country' AS country"
    } else {
        "json_extract(additional_attributes, '$.company_name') AS company,
         json_extract(additional_attributes, '$.city') AS city,
         json_extract(additional_attributes, '$.country') AS country"
    };
    let sql = format!(
        "SELECT * FROM (
            SELECT id, account_id, name, email, phone_number, identifier, avatar_url, blocked,
                   additional_attributes, custom_attributes, last_activity_at, created_at,
                   {extracted}
              FROM contacts WHERE {RESOLVED}) AS listed
          ORDER BY {} LIMIT ?2 OFFSET ?3",
        order_clause(sort, postgres)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let contacts = stmt
        .query_map(params![account_id, limit, offset], contact_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let count_sql = format!("SELECT COUNT(*) FROM contacts WHERE {RESOLVED}");
    let total = conn
        .prepare_cached(&count_sql)?
        .query_row([account_id], |row| row.get(0))?;
    Ok((contacts, total))
}

pub fn get(conn: &Conn, account_id: i64, contact_id: i64) -> StoreResult<Contact> {
    let sql = format!("{SELECT_CONTACT} WHERE account_id = ?1 AND id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([account_id, contact_id], contact_from_row)?)
}

/// A contact by its id alone, for callers that start from the row (event payloads).
pub fn get_by_id(conn: &Conn, contact_id: i64) -> StoreResult<Contact> {
    let sql = format!("{SELECT_CONTACT} WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([contact_id], contact_from_row)?)
}

/// Contacts by id, keyed by id, whatever their account (the caller checks it).
pub fn by_ids(
    conn: &Conn,
    ids: impl IntoIterator<Item = i64>,
) -> StoreResult<HashMap<i64, Contact>> {
    let sql = format!("{SELECT_CONTACT} WHERE {}", super::among_ids(conn, "id", 1));
    super::map_of(conn, &sql, [super::id_array(ids)], |row| {
        contact_from_row(row).map(|c| (c.id, c))
    })
}

/// The source id and hmac_verified flag of contact inboxes, keyed by contact inbox id.
pub fn inbox_sources(
    conn: &Conn,
    ids: impl IntoIterator<Item = i64>,
) -> StoreResult<HashMap<i64, (String, bool)>> {
    super::map_of(
        conn,
        &sql!(
            sqlite: "SELECT id, source_id, hmac_verified FROM contact_inboxes WHERE id IN rarray(?1)",
            postgres: "SELECT id, source_id, hmac_verified FROM contact_inboxes WHERE id = ANY(?1)",
        ),
        [super::id_array(ids)],
        |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))),
    )
}

/// The contact inboxes of the given contacts, keyed by contact id, in creation order.
pub fn inboxes_of(
    conn: &Conn,
    contact_ids: &[i64],
) -> StoreResult<HashMap<i64, Vec<ContactInbox>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ci.contact_id, ci.source_id, i.id, i.name, i.channel_type, i.avatar_url
           FROM contact_inboxes ci JOIN inboxes i ON i.id = ci.inbox_id
          WHERE ci.contact_id = ?1
          ORDER BY ci.id",
    )?;
    let mut by_contact = HashMap::new();
    for &contact_id in contact_ids {
        let rows = stmt
            .query_map([contact_id], |row| {
                Ok(ContactInbox {
                    contact_id: row.get(0)?,
                    source_id: row.get(1)?,
                    inbox_id: row.get(2)?,
                    inbox_name: row.get(3)?,
                    channel_type: row.get(4)?,
                    avatar_url: row.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        by_contact.insert(contact_id, rows);
    }
    Ok(by_contact)
}

/// The writable fields of a contact. On update, `None` leaves a field alone; `Some(None)` clears it.
#[derive(Default, Debug, Clone)]
pub struct ContactChange {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone_number: Option<Option<String>>,
    pub identifier: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub blocked: Option<bool>,
    /// Shallow-merged into the stored object, as Chatwoot's update does.
    pub additional_attributes: Option<Map<String, Value>>,
    pub custom_attributes: Option<Map<String, Value>>,
}

/// Rails' uniqueness validations, all reported at once.
fn check_unique(
    conn: &Conn,
    account_id: i64,
    contact_id: i64,
    contact: &Contact,
) -> StoreResult<()> {
    // One probe per column, each on its own unique index (an OR of the three scans every
    // contact of the account).
    let taken = |sql: &Sql, value: &Option<String>| -> StoreResult<Option<bool>> {
        match value {
            Some(value) => Ok(Some(super::exists(
                conn,
                sql,
                params![account_id, value, contact_id],
            )?)),
            None => Ok(None),
        }
    };
    let taken = (
        taken(
            &sql!(
                sqlite: "SELECT 1 FROM contacts WHERE account_id = ?1 AND email = ?2 AND id != ?3",
                postgres: "SELECT 1 FROM contacts
                            WHERE account_id = ?1 AND lower(email) = lower(?2) AND id != ?3",
            ),
            &contact.email,
        )?,
        taken(
            &Sql::same(
                "SELECT 1 FROM contacts WHERE account_id = ?1 AND phone_number = ?2 AND id != ?3",
            ),
            &contact.phone_number,
        )?,
        taken(
            &Sql::same(
                "SELECT 1 FROM contacts WHERE account_id = ?1 AND identifier = ?2 AND id != ?3",
            ),
            &contact.identifier,
        )?,
    );
    let mut messages = Vec::new();
    let mut attributes = Vec::new();
    for (is_taken, attribute, label) in [
        (taken.0, "email", "Email"),
        (taken.1, "phone_number", "Phone number"),
        (taken.2, "identifier", "Identifier"),
    ] {
        if is_taken == Some(true) {
            messages.push(format!("{label} has already been taken"));
            attributes.push(attribute.to_string());
        }
    }
    if messages.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            message: messages.join(", "),
            attributes,
        })
    }
}

fn apply(contact: &mut Contact, change: ContactChange) {
    if let Some(name) = change.name {
        contact.name = name;
    }
    if let Some(email) = change.email {
        contact.email = email;
    }
    if let Some(phone) = change.phone_number {
        contact.phone_number = phone;
    }
    if let Some(identifier) = change.identifier {
        contact.identifier = identifier;
    }
    if let Some(avatar) = change.avatar_url {
        contact.avatar_url = avatar;
    }
    if let Some(blocked) = change.blocked {
        contact.blocked = blocked;
    }
    merge_into(
        &mut contact.additional_attributes,
        change.additional_attributes,
    );
    merge_into(&mut contact.custom_attributes, change.custom_attributes);
}

fn merge_into(stored: &mut Value, change: Option<Map<String, Value>>) {
    if let (Value::Object(stored), Some(change)) = (stored, change) {
        stored.extend(change);
    }
}

pub fn create(conn: &Conn, account_id: i64, change: ContactChange, now: i64) -> StoreResult<i64> {
    let mut contact = Contact {
        id: 0,
        account_id,
        name: String::new(),
        email: None,
        phone_number: None,
        identifier: None,
        avatar_url: None,
        blocked: false,
        additional_attributes: Value::Object(Map::new()),
        custom_attributes: Value::Object(Map::new()),
        last_activity_at: None,
        created_at: now,
    };
    apply(&mut contact, change);
    check_unique(conn, account_id, 0, &contact)?;
    let id = super::insert(conn,
        "INSERT INTO contacts (account_id, name, email, phone_number, identifier, avatar_url, blocked,
                               additional_attributes, custom_attributes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id",
        params![
            account_id,
            contact.name,
            contact.email,
            contact.phone_number,
            contact.identifier,
            contact.avatar_url,
            contact.blocked,
            contact.additional_attributes.to_string(),
            contact.custom_attributes.to_string(),
            now
        ],
    )?;
    attribute_values::replace(conn, Owner::Contact, id, &contact.custom_attributes)?;
    Ok(id)
}

pub fn update(
    conn: &Conn,
    account_id: i64,
    contact_id: i64,
    change: ContactChange,
    now: i64,
) -> StoreResult<()> {
    let mut contact = get(conn, account_id, contact_id)?;
    apply(&mut contact, change);
    check_unique(conn, account_id, contact_id, &contact)?;
    one_row(super::execute(conn,
        "UPDATE contacts
            SET name = ?3, email = ?4, phone_number = ?5, identifier = ?6, avatar_url = ?7, blocked = ?8,
                additional_attributes = ?9, custom_attributes = ?10, updated_at = ?11
          WHERE account_id = ?1 AND id = ?2",
        params![
            account_id,
            contact_id,
            contact.name,
            contact.email,
            contact.phone_number,
            contact.identifier,
            contact.avatar_url,
            contact.blocked,
            contact.additional_attributes.to_string(),
            contact.custom_attributes.to_string(),
            now
        ],
    )?)?;
    attribute_values::replace(conn, Owner::Contact, contact_id, &contact.custom_attributes)
}

/// Deletes the contact with its contact inboxes, conversations and their messages (foreign keys
/// cascade; Chatwoot does the same in a background job).
/// Returns the storage keys of the attachment files that went with it.
pub fn delete(conn: &Conn, account_id: i64, contact_id: i64) -> StoreResult<Vec<String>> {
    let files = super::column(
        conn,
        "SELECT a.storage_key FROM attachments a
           JOIN messages m ON m.id = a.message_id JOIN conversations c ON c.id = m.conversation_id
          WHERE c.account_id = ?1 AND c.contact_id = ?2 AND a.storage_key IS NOT NULL",
        [account_id, contact_id],
    )?;
    one_row(super::execute(
        conn,
        "DELETE FROM contacts WHERE account_id = ?1 AND id = ?2",
        [account_id, contact_id],
    )?)?;
    Ok(files)
}

/// Finds the contact's inbox entry with this source id, or creates it; returns its id. A source
/// id already used in that inbox by another contact is refused with `taken`.
pub fn attach_inbox(
    conn: &Conn,
    contact_id: i64,
    inbox_id: i64,
    source_id: &str,
    now: i64,
    taken: impl FnOnce() -> StoreError,
) -> StoreResult<i64> {
    let owner: Option<(i64, i64)> = conn
        .prepare_cached(
            "SELECT id, contact_id FROM contact_inboxes WHERE inbox_id = ?1 AND source_id = ?2",
        )?
        .query_row(params![inbox_id, source_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    match owner {
        Some((id, owner)) if owner == contact_id => Ok(id),
        Some(_) => Err(taken()),
        None => {
            super::insert(conn,
                "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, pubsub_token, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
                params![contact_id, inbox_id, source_id, uuid::Uuid::new_v4().simple().to_string(), now],
            )
        }
    }
}

/// A contact inbox of the account by its source id: (id, contact_id, inbox_id).
pub fn contact_inbox_by_source(
    conn: &Conn,
    account_id: i64,
    source_id: &str,
) -> StoreResult<(i64, i64, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT ci.id, ci.contact_id, ci.inbox_id FROM contact_inboxes ci JOIN inboxes i ON i.id = ci.inbox_id
              WHERE i.account_id = ?1 AND ci.source_id = ?2 ORDER BY ci.id LIMIT 1",
        )?
        .query_row(params![account_id, source_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?)
}
