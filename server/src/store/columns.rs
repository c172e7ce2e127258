//! Columns that hold more than plain text or a number, and how a typed row reads them: they are TEXT on
//! both engines, decoded as one of these wrappers and converted with `#[sqlx(try_from = "…")]`:
//!
//! ```ignore
//! #[derive(sqlx::FromRow)]
//! struct Row {
//!     #[sqlx(try_from = "JsonText")]   // a JSON object
//!     public_metadata: Metadata,
//!     #[sqlx(try_from = "NameText")]   // an enum by its wire name
//!     status: SessionStatus,
//!     #[sqlx(try_from = "SecretText")] // a nullable secret
//!     signing_key: Option<TemplateKey>,
//!     #[sqlx(try_from = "Flag")]       // a boolean as BIGINT 0/1 (SQLite has no BOOLEAN)
//!     admin_delete_enabled: bool,
//! }
//! ```
//!
//! Writes bind the plain text ([`json`], `as_str()`, `expose()`). A value that does not parse is a
//! decode error naming the column (the handler's 500), never a panic.

use hallpass_protocol::{InvitationStatus, JwtAlgorithm, Metadata, PermissionType, SessionStatus};
use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, Type};

use crate::secret::TemplateKey;

/// A TEXT column holding a JSON object.
pub struct JsonText(String);

/// A TEXT column holding an enum's wire name (`"active"`, `"RS256"`).
pub struct NameText(String);

/// A nullable TEXT column holding a secret; it goes straight into its redacting type.
pub struct SecretText(Option<String>);

macro_rules! text_column {
    ($name:ident, $inner:ty) => {
        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <String as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <String as Type<Any>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                <$inner as Decode<'r, Any>>::decode(value).map($name)
            }
        }
    };
}

text_column!(JsonText, String);
text_column!(NameText, String);
text_column!(SecretText, Option<String>);

/// A BIGINT column holding a boolean, `0` or `1` (written with [`flag`]).
pub struct Flag(i64);

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<'r, Any>>::decode(value).map(Flag)
    }
}

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0 != 0
    }
}

/// A boolean as the BIGINT a [`Flag`] column holds.
pub fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// An enum name the code does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown name `{0}`")]
pub struct UnknownName(String);

impl TryFrom<JsonText> for Metadata {
    type Error = serde_json::Error;
    fn try_from(text: JsonText) -> Result<Self, Self::Error> {
        serde_json::from_str(&text.0)
    }
}

impl TryFrom<NameText> for SessionStatus {
    type Error = UnknownName;
    fn try_from(text: NameText) -> Result<Self, Self::Error> {
        SessionStatus::parse(&text.0).ok_or(UnknownName(text.0))
    }
}

impl TryFrom<NameText> for JwtAlgorithm {
    type Error = UnknownName;
    fn try_from(text: NameText) -> Result<Self, Self::Error> {
        JwtAlgorithm::parse(&text.0).ok_or(UnknownName(text.0))
    }
}

impl TryFrom<NameText> for InvitationStatus {
    type Error = UnknownName;
    fn try_from(text: NameText) -> Result<Self, Self::Error> {
        InvitationStatus::parse(&text.0).ok_or(UnknownName(text.0))
    }
}

impl TryFrom<NameText> for PermissionType {
    type Error = UnknownName;
    fn try_from(text: NameText) -> Result<Self, Self::Error> {
        PermissionType::parse(&text.0).ok_or(UnknownName(text.0))
    }
}

impl From<SecretText> for Option<TemplateKey> {
    fn from(text: SecretText) -> Self {
        text.0.map(TemplateKey::new)
    }
}

/// A JSON object as the TEXT the columns hold.
pub fn json(m: &Metadata) -> String {
    // Serialising a map of JSON values cannot fail (no non-string keys, no custom serialisers).
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}
