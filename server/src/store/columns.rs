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
//!     #[sqlx(try_from = "SecretText")] // a nullable secret (or, as `Secret`, a required one)
//!     signing_key: Option<TemplateKey>,
//!     #[sqlx(try_from = "Flag")]       // a boolean as BIGINT 0/1 (SQLite has no BOOLEAN)
//!     admin_delete_enabled: bool,
//! }
//! ```
//!
//! Writes bind the plain text ([`json`], `as_str()`, `expose()`). A value that does not parse is a
//! decode error naming the column (the handler's 500), never a panic.

use hallpass_protocol::{
    DeliveryStatus, DisabledReason, EmailStatus, EventType, InvitationStatus, JwtAlgorithm, Metadata,
    PermissionType, SessionStatus, SignInStatus, SignUpStatus, Strategy, VerificationStatus,
};
use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, Type};

use crate::secret::{Secret, TemplateKey};

/// A TEXT column holding a JSON object.
pub struct JsonText(String);

/// A TEXT column holding an enum's wire name (`"active"`, `"RS256"`).
pub struct NameText(String);

/// A nullable TEXT column holding a secret; it goes straight into its redacting type.
pub struct SecretText(Option<String>);

/// A nullable TEXT column holding an enum's wire name.
pub struct NullableNameText(Option<String>);

/// A nullable TEXT column holding a JSON array of webhook event types (NULL: every type).
pub struct EventTypesText(Option<String>);

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
text_column!(NullableNameText, Option<String>);
text_column!(EventTypesText, Option<String>);

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

impl TryFrom<NameText> for EventType {
    type Error = UnknownName;
    fn try_from(text: NameText) -> Result<Self, Self::Error> {
        EventType::parse(&text.0).ok_or(UnknownName(text.0))
    }
}

impl TryFrom<NameText> for DeliveryStatus {
    type Error = UnknownName;
    fn try_from(text: NameText) -> Result<Self, Self::Error> {
        DeliveryStatus::parse(&text.0).ok_or(UnknownName(text.0))
    }
}

/// `TryFrom<NameText>` for unit enums with `parse` (their wire names).
macro_rules! by_name {
    ($($ty:ty),*) => {$(
        impl TryFrom<NameText> for $ty {
            type Error = UnknownName;
            fn try_from(text: NameText) -> Result<Self, Self::Error> {
                <$ty>::parse(&text.0).ok_or(UnknownName(text.0))
            }
        }
    )*};
}
by_name!(EmailStatus, Strategy, VerificationStatus, SignUpStatus, SignInStatus);

impl TryFrom<NullableNameText> for Option<Strategy> {
    type Error = UnknownName;
    fn try_from(text: NullableNameText) -> Result<Self, Self::Error> {
        text.0.map(|name| Strategy::parse(&name).ok_or(UnknownName(name))).transpose()
    }
}

impl TryFrom<NullableNameText> for Option<DisabledReason> {
    type Error = UnknownName;
    fn try_from(text: NullableNameText) -> Result<Self, Self::Error> {
        text.0.map(|name| DisabledReason::parse(&name).ok_or(UnknownName(name))).transpose()
    }
}

impl TryFrom<EventTypesText> for Option<Vec<EventType>> {
    type Error = UnknownName;
    fn try_from(text: EventTypesText) -> Result<Self, Self::Error> {
        let Some(json) = text.0 else { return Ok(None) };
        let names: Vec<String> = serde_json::from_str(&json).map_err(|_| UnknownName(json.clone()))?;
        names
            .into_iter()
            .map(|n| EventType::parse(&n).ok_or(UnknownName(n)))
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

/// Event types as the TEXT the column holds (`None`: NULL, every type).
pub fn event_types(types: Option<&[EventType]>) -> Option<String> {
    types.map(|t| serde_json::Value::from(t.iter().map(|t| t.as_str()).collect::<Vec<_>>()).to_string())
}

/// A NULL in a column that a secret must fill.
#[derive(Debug, thiserror::Error)]
#[error("a required secret is NULL")]
pub struct MissingSecret;

impl TryFrom<SecretText> for Secret {
    type Error = MissingSecret;
    fn try_from(text: SecretText) -> Result<Self, Self::Error> {
        text.0.map(Secret::new).ok_or(MissingSecret)
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
