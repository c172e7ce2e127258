//! Email: codes, links and invitations, written on the transaction of the request that needs them and
//! sent by a worker.
//!
//! The path of an email:
//! 1. a handler composes it ([`outgoing`]: the template, its [`templates`] text and HTML, the status
//!    the instance's delivery gives it) and the store writes it on the request's own transaction
//!    (`crate::store::emails`), with its `email.created` webhook event;
//! 2. with a mail server configured, the [`worker`] of any replica leases it, sends it through the
//!    [`transport`] (SMTP with STARTTLS or TLS, credentials; every send has a deadline) and records the
//!    outcome; a failure is retried with backoff ([`schedule`]), a permanent refusal or the last
//!    failure leaves it `failed` — in the Backend API (`GET /v1/emails?status=failed`) and the log;
//! 3. without one, it stays in the development mailbox (`GET /v1/emails`); with `--email-delivery app`
//!    the app sends it from the `email.created` event.

pub mod outgoing;
pub mod schedule;
pub mod templates;
pub mod transport;
pub mod worker;
