//! `Duration` fields as whole seconds in JSON (`"overflow_after_secs": 120`), which is what an
//! admin writes by hand; serde's default `{secs, nanos}` is not.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// `Option<Duration>` as `null` or a number of seconds.
pub(crate) mod opt {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}
