//! placeholder until the HTTP API lands.
#![deny(missing_docs)]
pub mod api;
