//! The domain's enums as text columns. Reading decodes at the store's edge: a value the
//! enum does not know is an error naming the value (a corrupt row, or a database written
//! by a newer yuqing), never a silent default.

use crate::classify::tone::ToneLabel;
use crate::vocab::action::ActionKind;
use crate::vocab::ids::{IncidentId, TopicId};
use crate::vocab::severity::Severity;
use crate::vocab::state::{DeadlineKind, EvidenceState, IncidentStatus};
use sqlx::any::AnyTypeInfo;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Decode, Encode, Type};

macro_rules! text_column {
    ($ty:ty) => {
        impl Type<Any> for $ty {
            fn type_info() -> AnyTypeInfo {
                <str as Type<Any>>::type_info()
            }
        }

        impl<'r> Decode<'r, Any> for $ty {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <String as Decode<Any>>::decode(value)?;
                text.parse::<$ty>().map_err(|e| e.to_string().into())
            }
        }

        impl<'q> Encode<'q, Any> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Any>>::encode(self.as_str(), buf)
            }
        }
    };
}

text_column!(Severity);
text_column!(IncidentStatus);
text_column!(DeadlineKind);
text_column!(ActionKind);
text_column!(ToneLabel);
text_column!(EvidenceState);
text_column!(crate::vocab::role::Role);
text_column!(super::EvidenceWork);

/// An incident's number binds and reads as the integer it is.
impl Type<Any> for IncidentId {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }
}

impl<'r> Decode<'r, Any> for IncidentId {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<Any>>::decode(value).map(IncidentId)
    }
}

impl<'q> Encode<'q, Any> for IncidentId {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Any>>::encode(self.0, buf)
    }
}

/// A topic's id binds and reads as its text.
impl Type<Any> for TopicId {
    fn type_info() -> AnyTypeInfo {
        <str as Type<Any>>::type_info()
    }
}

impl<'r> Decode<'r, Any> for TopicId {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        <String as Decode<Any>>::decode(value).map(TopicId::from)
    }
}

impl<'q> Encode<'q, Any> for TopicId {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Any>>::encode(self.as_str().to_string(), buf)
    }
}

/// An item's topics read from their stored JSON array; another value is an error naming it.
impl Type<Any> for super::Topics {
    fn type_info() -> AnyTypeInfo {
        <str as Type<Any>>::type_info()
    }
}

impl<'r> Decode<'r, Any> for super::Topics {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<Any>>::decode(value)?;
        Ok(super::Topics::try_from(text)?)
    }
}

/// An item's topics are stored as the JSON array of their ids.
impl<'q> Encode<'q, Any> for super::Topics {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Any>>::encode(serde_json::to_string(&self.0)?, buf)
    }
}
