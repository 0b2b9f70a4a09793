use std::time::Duration;

use super::{at, conv};
use crate::routing::{Aging, QueuedConversation, effective_priority, order_queue};

fn minute() -> Aging {
    Aging {
        every: Some(Duration::from_secs(60)),
    }
}

#[test]
fn effective_priority_formula() {
    // (priority, enqueued at, now, aging, expected)
    let cases = [
        (0, 0, 0, minute(), 0),
        (0, 0, 59, minute(), 0),
        (0, 0, 60, minute(), 1),
        (5, 0, 150, minute(), 7),
        (-3, 100, 400, minute(), 2),
        (5, 0, 10_000, Aging { every: None }, 5),
        (
            5,
            0,
            10_000,
            Aging {
                every: Some(Duration::ZERO),
            },
            5,
        ),
        // Enqueued "in the future" (clock skew between nodes): no negative aging.
        (5, 500, 100, minute(), 5),
        (i32::MAX, 0, 120, minute(), i64::from(i32::MAX) + 2),
    ];
    for (priority, enqueued, now, aging, expected) in cases {
        let c = QueuedConversation {
            priority,
            enqueued_at: at(enqueued),
            ..conv(1)
        };
        assert_eq!(
            effective_priority(&c, at(now), aging),
            expected,
            "priority {priority}, enqueued {enqueued}, now {now}, {aging:?}"
        );
    }
}

#[test]
fn queue_order() {
    struct Case {
        name: &'static str,
        /// (id, priority, enqueued at)
        queue: &'static [(i64, i32, i64)],
        now: i64,
        aging: Aging,
        expected: &'static [i64],
    }
    let off = Aging { every: None };
    let cases = [
        Case {
            name: "higher priority first",
            queue: &[(1, 0, 0), (2, 10, 5), (3, 5, 1)],
            now: 10,
            aging: off,
            expected: &[2, 3, 1],
        },
        Case {
            name: "FIFO within a priority",
            queue: &[(1, 0, 30), (2, 0, 10), (3, 0, 20)],
            now: 40,
            aging: off,
            expected: &[2, 3, 1],
        },
        Case {
            name: "same instant: lower id first",
            queue: &[(9, 0, 0), (4, 0, 0)],
            now: 0,
            aging: off,
            expected: &[4, 9],
        },
        Case {
            name: "without aging a low priority waits forever",
            queue: &[(1, 0, 0), (2, 3, 3_600)],
            now: 7_200,
            aging: off,
            expected: &[2, 1],
        },
        Case {
            name: "aging: old low priority overtakes new high priority",
            // 1 waited 300 s: 0 + 5 = 5; 2 waited 60 s: 3 + 1 = 4.
            queue: &[(1, 0, 0), (2, 3, 240)],
            now: 300,
            aging: minute(),
            expected: &[1, 2],
        },
        Case {
            name: "aging: not yet long enough",
            // 1 waited 179 s: 0 + 2 = 2; 2 waited 29 s: 3 + 0 = 3.
            queue: &[(1, 0, 0), (2, 3, 150)],
            now: 179,
            aging: minute(),
            expected: &[2, 1],
        },
        Case {
            name: "aging keeps FIFO within a priority",
            queue: &[(1, 2, 50), (2, 2, 0), (3, 2, 59)],
            now: 110,
            aging: minute(),
            expected: &[2, 1, 3],
        },
    ];
    for case in cases {
        let mut queue: Vec<QueuedConversation> = case
            .queue
            .iter()
            .map(|&(id, priority, enqueued)| QueuedConversation {
                priority,
                enqueued_at: at(enqueued),
                ..conv(id)
            })
            .collect();
        order_queue(&mut queue, at(case.now), case.aging);
        let ids: Vec<i64> = queue.iter().map(|c| c.id).collect();
        assert_eq!(ids, case.expected, "{}", case.name);
    }
}
