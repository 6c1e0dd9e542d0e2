//! Sales: the pipeline of leads by stage and week.

pub mod api;
pub mod pages;
pub mod service;
