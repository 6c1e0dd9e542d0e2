//! Black-box tests: one binary, one module per concern.

mod access;
mod browser_sessions;
mod cli;
mod client_ip;
mod conformance;
mod credentials;
mod errors;
mod grants;
mod headers;
mod health;
mod helpers;
mod helpers_proxy;
mod helpers_roles;
mod housekeeping;
mod limits;
mod logging;
mod login;
mod mail;
mod mfa;
mod openapi;
mod pages;
mod shutdown;
mod signup;
mod sites;
mod staff_admin;
mod tls;
