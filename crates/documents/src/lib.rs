//! Pacta's documents: what an answer says when it is meant to be printed
//! or published rather than read by a program.
//!
//! - [`report`]: the annual report for a regional assembly;
//! - [`dossier`]: termination dossiers for lawyers and auditors;
//!
//! each as a printable HTML page or as plain text, in Czech (the default)
//! or English ([`Lang`]); and
//!
//! - [`open_data`]: the partnerships in force on a day and the log's
//!   events as CSV, with their CSV on the Web (CSVW) metadata.
//!
//! Everything is built from the registry's own
//! views (`pacta_registry::report::AnnualReport`,
//! `pacta_registry::audit::Dossiers`, listing rows, records), so the HTTP
//! API and the command line print the same thing. Every document ends by stating what it
//! rests on: when it was made, as known when, the log's head it rests on,
//! how evidence was read, and how to verify it later.
//!
//! The words of each language are one table ([`lang::Words`]); partial
//! dates are put into words at their precision ("1. pololetí 2011",
//! "mezi 24. února 2022 a 1. března 2022").
//!
//! Not here: HTTP (content negotiation is the server's), the JSON answers
//! (the server's DTOs) and argument parsing (the binary).
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod describe;
mod doc;
pub mod dossier;
pub mod lang;
pub mod open_data;
pub mod report;
pub mod web;

pub use describe::PartyNames;
pub use lang::Lang;
