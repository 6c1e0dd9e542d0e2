//! Staff administration: invitations, roles, disabling, and the access review.

pub mod api;
mod error;
pub mod pages;
pub mod review;
pub mod service;
