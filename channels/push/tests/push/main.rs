//! End-to-end tests of the app channel against local FCM and APNs servers.

mod conformance;
mod delivery;
mod ingress;
mod support;
