//! Outbox partitions: how several nodes on one PostgreSQL relay the outbox side by side.
//!
//! Every event belongs to partition `conversation_id mod RELAY_PARTITIONS` (events of no
//! conversation — contacts, agents — to partition 0). A relay takes partitions for one batch
//! at a time: it opens a transaction, takes `pg_try_advisory_xact_lock(RELAY_LOCK_CLASS,
//! partition)` for each partition with waiting rows, reads the unmarked rows of those it got
//! in id order, publishes them, hands them to the consumer, marks them and commits, which
//! releases the locks. So:
//!
//! - **no duplicate publishes**: while one node holds a partition, another skips it (`try`, no
//!   waiting), and once the holder commits its marks the next reader no longer sees the rows;
//! - **per-conversation order**: a conversation lives in one partition, whose batches follow
//!   each other in id order, and [`EventBus::publish_batch`](super::EventBus::publish_batch)
//!   returns only once a batch has left the node, before it is marked;
//! - **load spread**: a committing writer wakes its own node's relay, which takes the
//!   partitions it just wrote to; idle nodes poll every half second and take any partition
//!   with work that nobody holds;
//! - **takeover**: nothing is owned between batches, and a dead node's transaction (with its
//!   lock) ends when its connection drops, so its partitions are relayed at the next poll of any
//!   other node, within a second.
//!
//! No `LISTEN/NOTIFY`: a pending `NOTIFY` takes a global lock at commit. SQLite has one
//! process per database (a lock file refuses a second), so its relay reads the whole outbox.
//!
//! The partition count is a constant, not a setting: every node must use the same one, or two
//! nodes could relay one conversation under different locks.

/// How many partitions the outbox is relayed in (PostgreSQL). More than the nodes one expects,
/// so that the busiest conversations spread; each costs a lock attempt only when it has work.
pub const RELAY_PARTITIONS: i64 = 16;

/// The first key of the relay's advisory locks (`"kefu"` in ASCII), so they cannot collide
/// with other advisory locks in the same database.
pub const RELAY_LOCK_CLASS: i32 = 0x6B65_6675;

/// The partition of an event of `conversation_id`.
pub fn partition_of(conversation_id: Option<i64>) -> i32 {
    // rem_euclid of a positive modulus is in 0..RELAY_PARTITIONS, which fits an i32.
    i32::try_from(conversation_id.unwrap_or(0).rem_euclid(RELAY_PARTITIONS)).unwrap_or(0)
}

/// The SQL condition "row is in one of the partitions `$2`" (a `{1,5}` array literal) with
/// `$1` = [`RELAY_PARTITIONS`]; it must say what [`partition_of`] says (conversation ids are
/// positive, so `MOD` agrees with it).
pub(super) const PARTITIONS_FILTER: &str =
    "MOD(COALESCE(conversation_id, 0), $1) = ANY(CAST($2 AS bigint[]))";

/// Tries to take each of the partitions `$2` (a `{1,5}` array literal) for the transaction on
/// the connection; returns those taken, as `p`. Each attempt is a `try`: none waits, so two
/// relays asking for overlapping sets cannot deadlock, they split them.
pub(super) const TRY_LOCK_ANY: &str =
    "SELECT p FROM unnest(CAST($2 AS int[])) AS p WHERE pg_try_advisory_xact_lock($1, p)";

/// The partitions of `conversation_ids` (the oldest unmarked rows), each once, in the order
/// they first appear: the partition with the oldest waiting event goes first.
pub(super) fn partitions_in(conversation_ids: impl IntoIterator<Item = Option<i64>>) -> Vec<i32> {
    let mut seen = [false; RELAY_PARTITIONS as usize];
    let mut out = Vec::new();
    for c in conversation_ids {
        let p = partition_of(c);
        let slot = &mut seen[usize::try_from(p).unwrap_or(0)];
        if !*slot {
            *slot = true;
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_without_a_conversation_share_partition_zero_and_order_is_first_seen() {
        assert_eq!(partition_of(None), 0);
        assert_eq!(partition_of(Some(16)), 0);
        assert_eq!(partition_of(Some(17)), 1);
        assert_eq!(
            partitions_in([Some(5), None, Some(21), Some(3), Some(16)]),
            vec![5, 0, 3]
        );
    }
}
