//! Business hours (issue 21): schedules that say when an inbox is staffed.
//!
//! - [`Hours`] ([`hours`]): the pure calculator — a time zone, opening intervals per weekday
//!   (several for split shifts), holidays and extra workdays — with [`Hours::is_open`],
//!   [`Hours::next_open`] and [`Hours::business_seconds`].

pub mod hours;

pub use hours::{Hours, HoursError, Weekly};

#[cfg(test)]
mod tests;
