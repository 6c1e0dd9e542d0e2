//! `sunbridge audit`: the OWASP Top 10 (2021) review a security reviewer writes by hand, run
//! against a configuration, its database and optionally a running URL. For each category it
//! lists the controls (the `S-…` ids of the security requirements), their live status and the
//! evidence it found. A control that fails makes the command exit non-zero.
//!
//! The checks read; they never change anything.

mod advisories;
mod checks;
mod deployment;
pub mod page;
mod probe;
pub mod render;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

pub use checks::{Inputs, run};
pub use page::router;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    /// Not a failure, but worth a look (a development setting, a key getting old).
    Warn,
    Fail,
    /// The check needs an input that was not given (a URL, the advisory database).
    NotChecked,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::NotChecked => "not checked",
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Control {
    /// The requirement id, e.g. `S-AU-3` (or the command whose rules it states, `check-config`).
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    /// What was found, in a sentence or a few.
    pub evidence: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Category {
    /// `A01` … `A10`.
    pub id: &'static str,
    pub name: &'static str,
    pub status: Status,
    pub controls: Vec<Control>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = SecurityReport)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    pub environment: String,
    pub database: String,
    /// The URL probed, if one was given.
    pub url: Option<String>,
    pub status: Status,
    pub categories: Vec<Category>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let all = self.categories.iter().flat_map(|c| &c.controls);
        let n = |s: Status| all.clone().filter(|c| c.status == s).count();
        (
            n(Status::Pass),
            n(Status::Warn),
            n(Status::Fail),
            n(Status::NotChecked),
        )
    }
}

/// The worst status of a list (a failure outweighs a warning outweighs a pass; "not checked"
/// counts only when nothing was checked).
pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
    let statuses: Vec<Status> = statuses.into_iter().collect();
    if statuses.contains(&Status::Fail) {
        Status::Fail
    } else if statuses.contains(&Status::Warn) {
        Status::Warn
    } else if statuses.contains(&Status::Pass) {
        Status::Pass
    } else {
        Status::NotChecked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_outweighs_everything_and_not_checked_counts_only_alone() {
        assert_eq!(worst([Status::Pass, Status::Fail, Status::Warn]), Status::Fail);
        assert_eq!(worst([Status::Pass, Status::Warn]), Status::Warn);
        assert_eq!(worst([Status::Pass, Status::NotChecked]), Status::Pass);
        assert_eq!(worst([Status::NotChecked]), Status::NotChecked);
    }
}
