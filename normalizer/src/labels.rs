//! [`Labels`]: the organisation's labels (a unique name and a colour) and which conversations
//! and contacts carry them. Setting a conversation's or a contact's labels replaces the whole
//! set in one transaction that also emits `conversation.labels_changed` or
//! `contact.labels_changed`, with what was added and removed.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::db::{Db, WriteTx};
use crate::entity::{contact, contact_label, conversation, conversation_label, label};
use crate::error::StoreError;
use crate::events::EventData;
use crate::views::{ContactLabelsView, ConversationLabelsView, LabelView};

/// The colour a label gets when none is given.
pub const DEFAULT_COLOR: &str = "#64748b";

/// The longest label name, in characters.
pub const MAX_NAME_CHARS: usize = 50;

/// The most labels one conversation or contact may carry.
pub const MAX_PER_ITEM: usize = 20;

impl From<&label::Model> for LabelView {
    fn from(l: &label::Model) -> Self {
        Self {
            id: l.id,
            name: l.name.clone(),
            color: l.color.clone(),
            created_at: l.created_at,
        }
    }
}

/// A label name as stored: trimmed, 1–50 characters, no commas (lists of names are
/// comma-separated in query strings) and no control characters.
pub fn check_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Invalid(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(|c| c == ',' || c.is_control()) {
        return Err(StoreError::Invalid(
            "name may not contain commas or control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// A colour as stored: `#rrggbb`, lower case.
pub fn check_color(color: &str) -> Result<String, StoreError> {
    let hex = color.trim().strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid(
            "color must be a hex colour such as #1f883d".into(),
        ));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// The label store.
#[derive(Debug, Clone)]
pub struct Labels {
    db: Db,
}

impl Labels {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    async fn name_taken(&self, name: &str, except: Option<i64>) -> Result<bool, StoreError> {
        let mut q = label::Entity::find().filter(label::Column::Name.eq(name));
        if let Some(id) = except {
            q = q.filter(label::Column::Id.ne(id));
        }
        Ok(q.one(self.db.conn()).await?.is_some())
    }

    /// Creates a label; `Conflict` when the name is taken.
    pub async fn create(&self, name: &str, color: Option<&str>) -> Result<LabelView, StoreError> {
        let name = check_name(name)?;
        let color = check_color(color.unwrap_or(DEFAULT_COLOR))?;
        if self.name_taken(&name, None).await? {
            return Err(StoreError::Conflict(format!(
                "a label named {name:?} exists"
            )));
        }
        let now = Utc::now();
        let row = label::ActiveModel {
            name: Set(name),
            color: Set(color),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .map_err(|e| taken_or(e.into()))?;
        Ok(LabelView::from(&row))
    }

    /// Every label, by name.
    pub async fn list(&self) -> Result<Vec<LabelView>, StoreError> {
        Ok(label::Entity::find()
            .order_by_asc(label::Column::Name)
            .all(self.db.conn())
            .await?
            .iter()
            .map(LabelView::from)
            .collect())
    }

    /// One label.
    pub async fn get(&self, id: i64) -> Result<LabelView, StoreError> {
        Ok(LabelView::from(&self.row(id).await?))
    }

    async fn row(&self, id: i64) -> Result<label::Model, StoreError> {
        label::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("label"))
    }

    /// Renames or recolours a label. Conversations and contacts keep it under its new name.
    pub async fn update(
        &self,
        id: i64,
        name: Option<&str>,
        color: Option<&str>,
    ) -> Result<LabelView, StoreError> {
        let row = self.row(id).await?;
        let name = name.map(check_name).transpose()?;
        let color = color.map(check_color).transpose()?;
        if let Some(n) = &name
            && self.name_taken(n, Some(id)).await?
        {
            return Err(StoreError::Conflict(format!("a label named {n:?} exists")));
        }
        let mut am: label::ActiveModel = row.into();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if let Some(c) = color {
            am.color = Set(c);
        }
        am.updated_at = Set(Utc::now());
        let row = am
            .update(self.db.conn())
            .await
            .map_err(|e| taken_or(e.into()))?;
        Ok(LabelView::from(&row))
    }

    /// Deletes a label; conversations and contacts stop carrying it.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        self.row(id).await?;
        let tx = self.db.begin_write().await?;
        conversation_label::Entity::delete_many()
            .filter(conversation_label::Column::LabelId.eq(id))
            .exec(&*tx)
            .await?;
        contact_label::Entity::delete_many()
            .filter(contact_label::Column::LabelId.eq(id))
            .exec(&*tx)
            .await?;
        label::Entity::delete_by_id(id).exec(&*tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The id of the label named `name`, if there is one.
    pub async fn id_of(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(label::Entity::find()
            .filter(label::Column::Name.eq(name.trim()))
            .one(self.db.conn())
            .await?
            .map(|l| l.id))
    }

    /// Replaces a conversation's labels with `names` (each an existing label) and emits
    /// `conversation.labels_changed` when that changed anything.
    pub async fn set_for_conversation(
        &self,
        conversation_id: i64,
        names: &[String],
    ) -> Result<ConversationLabelsView, StoreError> {
        let wanted = self.resolve(names).await?;
        let tx = self.db.begin_write().await?;
        crate::conversations::lock(&self.db, &tx, conversation_id).await?;
        let rows = conversation_label::Entity::find()
            .filter(conversation_label::Column::ConversationId.eq(conversation_id))
            .all(&*tx)
            .await?;
        let before: BTreeSet<i64> = rows.iter().map(|r| r.label_id).collect();
        let change = Change::new(&before, &wanted);
        conversation_label::Entity::delete_many()
            .filter(conversation_label::Column::ConversationId.eq(conversation_id))
            .filter(conversation_label::Column::LabelId.is_in(change.removed.clone()))
            .exec(&*tx)
            .await?;
        if !change.added.is_empty() {
            conversation_label::Entity::insert_many(change.added.iter().map(|l| {
                conversation_label::ActiveModel {
                    conversation_id: Set(conversation_id),
                    label_id: Set(*l),
                }
            }))
            .exec(&*tx)
            .await?;
        }
        let names = label_names(&*tx, &before, &wanted).await?;
        let view = ConversationLabelsView {
            conversation_id,
            labels: change.names(&names, &change.after),
            added: change.names(&names, &change.added),
            removed: change.names(&names, &change.removed),
        };
        if change.changed() {
            touch_conversation(&tx, conversation_id).await?;
            tx.emit(EventData::ConversationLabelsChanged(view.clone()))
                .await?;
        }
        tx.commit().await?;
        Ok(view)
    }

    /// Replaces a contact's labels with `names` (each an existing label) and emits
    /// `contact.labels_changed` when that changed anything.
    pub async fn set_for_contact(
        &self,
        contact_id: i64,
        names: &[String],
    ) -> Result<ContactLabelsView, StoreError> {
        let wanted = self.resolve(names).await?;
        let tx = self.db.begin_write().await?;
        contact::Entity::find_by_id(contact_id)
            .one(&*tx)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
        let rows = contact_label::Entity::find()
            .filter(contact_label::Column::ContactId.eq(contact_id))
            .all(&*tx)
            .await?;
        let before: BTreeSet<i64> = rows.iter().map(|r| r.label_id).collect();
        let change = Change::new(&before, &wanted);
        contact_label::Entity::delete_many()
            .filter(contact_label::Column::ContactId.eq(contact_id))
            .filter(contact_label::Column::LabelId.is_in(change.removed.clone()))
            .exec(&*tx)
            .await?;
        if !change.added.is_empty() {
            contact_label::Entity::insert_many(change.added.iter().map(|l| {
                contact_label::ActiveModel {
                    contact_id: Set(contact_id),
                    label_id: Set(*l),
                }
            }))
            .exec(&*tx)
            .await?;
        }
        let names = label_names(&*tx, &before, &wanted).await?;
        let view = ContactLabelsView {
            contact_id,
            labels: change.names(&names, &change.after),
            added: change.names(&names, &change.added),
            removed: change.names(&names, &change.removed),
        };
        if change.changed() {
            tx.emit(EventData::ContactLabelsChanged(view.clone()))
                .await?;
        }
        tx.commit().await?;
        Ok(view)
    }

    /// A contact's labels, by name.
    pub async fn of_contact(&self, contact_id: i64) -> Result<Vec<String>, StoreError> {
        let ids: BTreeSet<i64> = contact_label::Entity::find()
            .filter(contact_label::Column::ContactId.eq(contact_id))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|r| r.label_id)
            .collect();
        let names = label_names(self.db.conn(), &ids, &BTreeSet::new()).await?;
        let mut out: Vec<String> = names.into_values().collect();
        out.sort();
        Ok(out)
    }

    /// The ids of the labels named `names`; `Invalid` naming the first that does not exist.
    async fn resolve(&self, names: &[String]) -> Result<BTreeSet<i64>, StoreError> {
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for n in names {
            wanted.insert(
                check_name(n)
                    .map_err(|_| StoreError::Invalid(format!("{n:?} is not a label name")))?,
            );
        }
        if wanted.len() > MAX_PER_ITEM {
            return Err(StoreError::Invalid(format!(
                "at most {MAX_PER_ITEM} labels may be set at once"
            )));
        }
        let found: HashMap<String, i64> = label::Entity::find()
            .filter(label::Column::Name.is_in(wanted.iter().cloned()))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|l| (l.name, l.id))
            .collect();
        wanted
            .iter()
            .map(|n| {
                found.get(n).copied().ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "there is no label named {n:?}; create it in the settings first"
                    ))
                })
            })
            .collect()
    }
}

/// Conversations' labels by name, for a page of the list: `{conversation id: [name, ...]}`.
pub(crate) async fn of_conversations<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = conversation_label::Entity::find()
        .filter(conversation_label::Column::ConversationId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let label_ids: BTreeSet<i64> = rows.iter().map(|r| r.label_id).collect();
    let names = label_names(db, &label_ids, &BTreeSet::new()).await?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for r in rows {
        if let Some(n) = names.get(&r.label_id) {
            out.entry(r.conversation_id).or_default().push(n.clone());
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

/// Moves the labels of contact `other` to contact `keep` (a merge): `keep` ends up with both
/// sets, each label once.
pub(crate) async fn merge_contacts(tx: &WriteTx, keep: i64, other: i64) -> Result<(), StoreError> {
    let kept: Vec<i64> = contact_label::Entity::find()
        .filter(contact_label::Column::ContactId.eq(keep))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|r| r.label_id)
        .collect();
    contact_label::Entity::update_many()
        .col_expr(
            contact_label::Column::ContactId,
            sea_orm::sea_query::Expr::value(keep),
        )
        .filter(contact_label::Column::ContactId.eq(other))
        .filter(contact_label::Column::LabelId.is_not_in(kept))
        .exec(&**tx)
        .await?;
    contact_label::Entity::delete_many()
        .filter(contact_label::Column::ContactId.eq(other))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// The names of the labels in `a` and `b`.
async fn label_names<C: ConnectionTrait>(
    db: &C,
    a: &BTreeSet<i64>,
    b: &BTreeSet<i64>,
) -> Result<HashMap<i64, String>, StoreError> {
    let ids: BTreeSet<i64> = a.union(b).copied().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(label::Entity::find()
        .filter(label::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect())
}

/// A labelled thing changed: the list shows it as active again.
async fn touch_conversation(tx: &WriteTx, id: i64) -> Result<(), StoreError> {
    conversation::Entity::update_many()
        .col_expr(
            conversation::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(conversation::Column::Id.eq(id))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// A set of label ids before and after.
struct Change {
    after: Vec<i64>,
    added: Vec<i64>,
    removed: Vec<i64>,
}

impl Change {
    fn new(before: &BTreeSet<i64>, after: &BTreeSet<i64>) -> Self {
        Self {
            after: after.iter().copied().collect(),
            added: after.difference(before).copied().collect(),
            removed: before.difference(after).copied().collect(),
        }
    }

    fn changed(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty()
    }

    /// The names of `ids`, sorted.
    fn names(&self, names: &HashMap<i64, String>, ids: &[i64]) -> Vec<String> {
        let mut out: Vec<String> = ids.iter().filter_map(|i| names.get(i).cloned()).collect();
        out.sort();
        out
    }
}

/// A unique-index refusal is a name another writer took first.
fn taken_or(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::Conflict("a label with this name exists".into())
    } else {
        e
    }
}
