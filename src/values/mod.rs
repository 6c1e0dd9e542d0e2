//! The value types every module shares: roles, validated contact fields, money, energy and
//! what a job photo shows (ids are in `ids`). A leaf: it imports nothing of the application, so anything may import
//! it.

mod contact;
mod energy;
mod idempotency;
mod money;
mod photo;
mod role;

pub use contact::{EmailAddress, EmailProblem, NameProblem, PersonName, PhoneNumber, PhoneProblem};
pub use energy::{Kw, Kwh};
pub use idempotency::IdempotencyKey;
pub use money::{Money, group_thousands};
pub use photo::PhotoSubject;
pub use role::{Role, UnknownRole};
