//! Channel settings described for people: the JSON Schema a factory publishes so the console
//! can build the inbox form.
//!
//! A channel crate derives [`schemars::JsonSchema`] on its settings struct and returns
//! [`settings_schema`] of it from [`ChannelFactory::settings_schema`](crate::ChannelFactory::settings_schema):
//!
//! - the first doc-comment line written as `# Title` becomes the field's `title`, the rest its
//!   `description` (English);
//! - `#[schemars(extend("x-i18n" = {"zh-CN": {"title": "…", "description": "…"}}))]` adds
//!   translations, keyed by language tag;
//! - secrets carry `writeOnly: true` (and are listed in
//!   [`ChannelFactory::secret_fields`](crate::ChannelFactory::secret_fields)).

pub use schemars;

/// The JSON Schema (draft 2020-12) of a settings type, with every subschema inlined so a form
/// builder needs no `$ref` resolution.
pub fn settings_schema<T: schemars::JsonSchema>() -> serde_json::Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}
