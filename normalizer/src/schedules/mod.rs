//! Business hours (issue 21): schedules that say when an inbox is staffed.
//!
//! - [`Hours`] ([`hours`]): the pure calculator — a time zone, opening intervals per weekday
//!   (several for split shifts), holidays and extra workdays — with [`Hours::is_open`],
//!   [`Hours::next_open`], [`Hours::business_seconds`] and the business-time duration
//!   [`Hours::open_between`] with its inverses [`Hours::open_after`] and [`Hours::open_before`]
//!   (queue waits and overflow timers in the dispatcher count open time only).
//! - [`Schedules`] ([`store`]): stored schedules, which inboxes keep through `schedule_id`.
//! - [`OutOfOffice`] ([`away`]): the reply an inbox sends customers who write while its
//!   schedule is closed; [`OutOfOfficeReplies`] ([`replies`]) sends it, once per
//!   conversation and period, from the outbox's consumer.

pub mod away;
pub mod hours;
pub mod replies;
pub mod store;

pub use away::OutOfOffice;
pub use hours::{Hours, HoursError, Weekly};
pub use replies::{Arrival, OutOfOfficeReplies};
pub use store::{Closed, ScheduleError, ScheduleSpec, ScheduleView, Schedules};

#[cfg(test)]
mod open_tests;
#[cfg(test)]
mod replies_tests;
#[cfg(test)]
mod tests;
