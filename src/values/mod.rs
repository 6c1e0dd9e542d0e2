//! The value types every module shares: roles, validated contact fields, money and energy
//! (ids are in `ids`). A leaf: it imports nothing of the application, so anything may import
//! it.

mod contact;
mod energy;
mod money;
mod role;

pub use contact::{EmailAddress, EmailProblem, NameProblem, PersonName, PhoneNumber, PhoneProblem};
pub use energy::{Kw, Kwh};
pub use money::{Money, group_thousands};
pub use role::{Role, UnknownRole};
