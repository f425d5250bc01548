//! Pure helpers the SQL stores share (no I/O, no database driver): one piece of code per
//! storage rule, so the SQLite and PostgreSQL stores cannot drift apart.
//!
//! # Document rows
//!
//! The non-ledger contexts store each record as a JSON document next to the few columns they
//! filter on. A document carries its schema version in the field [`DOC_VERSION_FIELD`] so a
//! later release can tell which shape it reads:
//!
//! * a document without the field was written before versioning (version 0), whose shape
//!   is version 1's: it reads as is;
//! * a document of a newer version than this build knows is refused as corrupt rather than
//!   misread (a rollback of the binary over data of a newer one);
//! * fields this build does not know (added by a newer minor change) are ignored, so adding
//!   an optional field never needs a migration.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{BankError, BankResult};

/// The schema version written into every document row.
pub const DOC_SCHEMA_VERSION: u64 = 1;

/// The field of a document row that holds its schema version. The leading underscore keeps
/// it apart from the records' own (camelCase or snake_case) fields.
pub const DOC_VERSION_FIELD: &str = "_v";

/// Encodes a record as a document row: its JSON object plus the schema version.
pub fn encode_doc<T: Serialize>(record: &T) -> BankResult<String> {
    let mut value = serde_json::to_value(record)
        .map_err(|_| BankError::internal("record does not serialise"))?;
    let Value::Object(fields) = &mut value else {
        return Err(BankError::internal("a document row must be a JSON object"));
    };
    fields.insert(DOC_VERSION_FIELD.into(), Value::from(DOC_SCHEMA_VERSION));
    serde_json::to_string(&value).map_err(|_| BankError::internal("record does not serialise"))
}

/// Decodes a document row written by this version or an earlier one (see the module docs).
/// `Err(None)` when the text is not a document of a known version; the store maps that to
/// its own "stored value is corrupt" error.
pub fn decode_doc<T: DeserializeOwned>(text: &str) -> Result<T, Option<BankError>> {
    let mut value: Value = serde_json::from_str(text).map_err(|_| None)?;
    let Value::Object(fields) = &mut value else {
        return Err(None);
    };
    match fields.remove(DOC_VERSION_FIELD) {
        None => {}
        Some(v) => match v.as_u64() {
            Some(v) if v <= DOC_SCHEMA_VERSION => {}
            Some(v) => {
                return Err(Some(BankError::Invariant(format!(
                    "a stored document has schema version {v}; this build reads up to \
                     {DOC_SCHEMA_VERSION}"
                ))))
            }
            None => return Err(None),
        },
    }
    serde_json::from_value(value).map_err(|_| None)
}

/// "Zero rows means not found": an update or delete of one row by key that changed nothing
/// names the missing resource.
pub fn found(rows_affected: u64, resource: &'static str) -> BankResult<()> {
    if rows_affected == 0 {
        return Err(BankError::NotFound { resource });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Rec {
        id: u32,
        #[serde(default)]
        note: Option<String>,
    }

    #[test]
    fn documents_carry_their_version_and_round_trip() {
        let r = Rec {
            id: 7,
            note: Some("n".into()),
        };
        let text = encode_doc(&r).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[DOC_VERSION_FIELD], Value::from(DOC_SCHEMA_VERSION));
        assert_eq!(decode_doc::<Rec>(&text).unwrap(), r);
    }

    #[test]
    fn unversioned_and_extended_documents_read() {
        // As the previous version wrote it: no version field.
        assert_eq!(
            decode_doc::<Rec>(r#"{"id":1,"note":null}"#).unwrap(),
            Rec { id: 1, note: None }
        );
        // A field this build does not know.
        assert_eq!(
            decode_doc::<Rec>(r#"{"_v":1,"id":2,"note":null,"addedLater":{"x":1}}"#).unwrap(),
            Rec { id: 2, note: None }
        );
    }

    #[test]
    fn newer_or_malformed_documents_are_refused() {
        let newer = decode_doc::<Rec>(r#"{"_v":2,"id":1}"#).unwrap_err();
        assert!(matches!(newer, Some(BankError::Invariant(_))), "{newer:?}");
        assert!(decode_doc::<Rec>(r#"{"_v":"one","id":1}"#)
            .unwrap_err()
            .is_none());
        assert!(decode_doc::<Rec>("[1]").unwrap_err().is_none());
        assert!(encode_doc(&5u32).is_err());
    }

    #[test]
    fn zero_rows_is_not_found() {
        assert!(found(1, "user").is_ok());
        assert_eq!(
            found(0, "user").unwrap_err(),
            BankError::NotFound { resource: "user" }
        );
    }
}
