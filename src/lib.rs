//! Sunbridge: the residential solar marketplace. `main.rs` is a thin CLI over this library;
//! the black-box tests build the same `Application` the binary runs.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod access;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod crews;
pub mod crypto;
pub mod db;
mod debug_routes;
pub mod defence;
mod demo;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod geo;
pub mod health;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod marketplace;
pub mod monitoring;
pub mod openapi;
pub mod orders;
pub mod outbound;
pub mod payments;
pub mod push;
pub mod quotes;
pub mod replica_sync;
pub mod sales;
pub mod scheduling;
pub mod security_report;
pub mod sites;
pub mod sizing;
pub mod staff;
pub mod startup;
pub mod state;
pub mod supervisor;
pub mod support;
pub mod telemetry;
mod tls;
pub mod values;
pub mod web;
pub mod webhooks;

pub use config::Settings;
pub use startup::Application;
pub use state::AppState;
