//! The value types every module shares: roles and validated contact fields (ids are in
//! `ids`). A leaf: it imports nothing of the application, so anything may import it.

mod contact;
mod role;

pub use contact::{EmailAddress, EmailProblem, NameProblem, PersonName, PhoneNumber, PhoneProblem};
pub use role::{Role, UnknownRole};
