//! Webhooks: events about users, sessions and organizations sent to the app's endpoints, signed as
//! Svix signs them, at least once, in commit order per endpoint, retried on Svix's schedule.
//!
//! The path of an event:
//! 1. a store method that changes a user, a session or an organization emits the event inside its
//!    own transaction (`crate::store::outbox`): the event exists if and only if the change
//!    committed, with a sequence number in commit order, and a pending delivery for each endpoint
//!    that receives it;
//! 2. the [`worker`] of any replica claims the endpoint (a lease, `crate::store::webhook_deliveries`),
//!    sends its deliveries in sequence order through the [`client`] — the body written by [`js_json`],
//!    signed by [`signature`] — and records every attempt;
//! 3. a failed attempt is tried again on the [`schedule`]; an endpoint that answers `410 Gone`, or fails
//!    for days, is disabled.
//!
//! Endpoints and what they receive are managed through the Backend API (`crate::routes`); URLs are
//! checked by [`address`] when set and again, on the resolved address, at every delivery.

pub mod address;
pub mod client;
pub mod js_json;
pub mod schedule;
pub mod signature;
pub mod worker;
