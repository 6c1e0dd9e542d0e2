//! Access control (S-AC-1 … S-AC-7): roles, the policy table, the route declarations that
//! deny by default, the extractors that put the permission in a handler's signature, masking
//! and the reasoned, expiring grants through which staff see a customer's personal data.

pub mod admission;
pub mod api;
mod error;
pub mod extract;
pub mod grants;
pub mod mask;
pub mod object;
pub mod policy;
pub mod routes;

pub use api::router;
pub use extract::{Caller, PageUser, SignedInForm};
pub use policy::{Permission, perm};
pub use routes::{Access, PUBLIC, Routes};

pub use crate::values::{Role, UnknownRole};
