//! Staff administration: invitations, roles, disabling, and the access review.

pub mod api;
pub mod pages;
pub mod review;
pub mod service;
