//! The claim and sweep SQL of webhook deliveries. A claim is a conditional update that takes
//! a lease on every delivery of a batch that is due, unfinished and first in its
//! conversation's order (no earlier delivery of the same conversation to the same endpoint is
//! unfinished), in one statement. A claim whose lease ran out (its worker died mid-attempt) may
//! be taken again, and the sweep finds deliveries whose job was lost.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kefu_normalizer::Db;
use kefu_normalizer::WebhookDeliveryStatus;
use kefu_normalizer::entity::webhook_delivery;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::outbound::lease::{self, Lease, Lost};

/// No earlier delivery of the same conversation to the same endpoint is unfinished.
static FIRST_IN_ORDER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
         WHERE p.endpoint_id = webhook_deliveries.endpoint_id \
         AND p.conversation_id = webhook_deliveries.conversation_id \
         AND p.id < webhook_deliveries.id \
         AND p.status IN ('{}', '{}'))",
        WebhookDeliveryStatus::Pending.as_str(),
        WebhookDeliveryStatus::Sending.as_str()
    )
});

/// Claimed by an attempt whose lease ran out (its worker died mid-attempt).
fn lease_expired(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Sending))
        .add(webhook_delivery::Column::LockedUntil.lt(now))
}

/// Claims every delivery in `ids` that is due, unfinished and first in its conversation's
/// order, in one statement; answers each id with its claimed row. An id asked for twice in one
/// batch gets the row once.
pub(super) async fn claim_batch(
    db: Db,
    lease: Lease,
    ids: Vec<i64>,
) -> Vec<Result<Option<webhook_delivery::Model>, String>> {
    let claimed = async {
        // A write transaction, so on SQLite the claim queues on Kefu's writer lock instead of
        // SQLite's sleep-and-retry busy handler.
        let tx = db.begin_write().await?;
        let now = Utc::now();
        let until = lease.until(now);
        let slack = lease::due_by(now);
        let rows = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::Status,
                Expr::value(WebhookDeliveryStatus::Sending),
            )
            .col_expr(webhook_delivery::Column::LockedUntil, Expr::value(until))
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_delivery::Column::Id.is_in(ids.clone()))
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
                    .add(lease_expired(now)),
            )
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::NextAttemptAt.is_null())
                    .add(webhook_delivery::Column::NextAttemptAt.lte(slack)),
            )
            .filter(Expr::cust(FIRST_IN_ORDER.as_str()))
            .exec_with_returning(&tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sea_orm::DbErr>(rows)
    }
    .await;
    match claimed {
        Ok(rows) => {
            let mut by_id: HashMap<i64, webhook_delivery::Model> =
                rows.into_iter().map(|d| (d.id, d)).collect();
            ids.iter().map(|id| Ok(by_id.remove(id))).collect()
        }
        Err(e) => {
            let e = format!("cannot claim webhook deliveries: {e}");
            ids.iter().map(|_| Err(e.clone())).collect()
        }
    }
}

/// Deliveries whose job was lost, oldest first (at most 1,000): pending and due for over a
/// minute, never attempted for over a minute although first in their conversation's order,
/// or claimed by an attempt whose lease ran out.
pub(super) async fn lost(db: &Db, now: DateTime<Utc>) -> Result<Vec<Lost>, sea_orm::DbErr> {
    let overdue = now - chrono::Duration::seconds(60);
    let stuck: Vec<(i64, i32)> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .column(webhook_delivery::Column::Attempts)
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
                        .add(webhook_delivery::Column::NextAttemptAt.lt(overdue)),
                )
                .add(
                    // Never attempted although nothing before it is unfinished.
                    Condition::all()
                        .add(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
                        .add(webhook_delivery::Column::NextAttemptAt.is_null())
                        .add(webhook_delivery::Column::CreatedAt.lt(overdue))
                        .add(Expr::cust(FIRST_IN_ORDER.as_str())),
                )
                .add(lease_expired(now)),
        )
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(1000)
        .into_tuple()
        .all(db.conn())
        .await?;
    Ok(stuck.into_iter().map(Lost::from).collect())
}
