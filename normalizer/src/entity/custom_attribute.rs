//! The `custom_attributes` table: the definitions of contacts' custom attributes.

use sea_orm::entity::prelude::*;

/// One row of `custom_attributes`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_attributes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique, snake_case; the key in `contacts.attributes`.
    pub key: String,
    /// What the console shows.
    pub label: String,
    /// What kind of value the attribute takes.
    pub kind: AttributeKind,
    /// For `list`: the values allowed (a JSON array of strings); `[]` otherwise.
    #[sea_orm(column_type = "Json")]
    pub options: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What kind of value a custom attribute takes, stored under its snake_case name.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    /// A string of at most 1,000 characters.
    #[sea_orm(string_value = "text")]
    Text,
    /// A JSON number.
    #[sea_orm(string_value = "number")]
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    #[sea_orm(string_value = "date")]
    Date,
    /// One of the definition's `options`.
    #[sea_orm(string_value = "list")]
    List,
    /// `true` or `false`.
    #[sea_orm(string_value = "checkbox")]
    Checkbox,
    /// An `http` or `https` URL.
    #[sea_orm(string_value = "link")]
    Link,
}
