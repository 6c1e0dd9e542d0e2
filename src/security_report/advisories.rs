//! A06: the RustSec advisories that affect the exact dependency versions this binary was built
//! from. The `Cargo.lock` is compiled in, so the answer is about the running build, not about
//! whatever checkout happens to be next to it.

use std::path::Path;
use std::str::FromStr;

use rustsec::{Database, Lockfile, database::Query};

use super::{Control, Status};

const LOCKFILE: &str = include_str!("../../Cargo.lock");

pub fn check(advisory_db: Option<&Path>) -> Control {
    let id = "S-VC-1";
    let title = "No RustSec advisory affects the dependencies";
    let Some(path) = advisory_db else {
        return Control {
            id,
            title,
            status: Status::NotChecked,
            evidence: "No advisory database given: run `sunbridge audit --advisory-db <path to a RustSec advisory-db checkout>`. CI fails the build on any advisory (cargo audit)."
                .into(),
        };
    };
    match advisories(path) {
        Ok(found) => found,
        Err(err) => Control {
            id,
            title,
            status: Status::Fail,
            evidence: format!(
                "The advisory database at {} could not be read: {err}",
                path.display()
            ),
        },
    }
}

fn advisories(path: &Path) -> anyhow::Result<Control> {
    let db = Database::open(path)?;
    let lockfile = Lockfile::from_str(LOCKFILE)?;
    let vulnerabilities = db.vulnerabilities(&lockfile);
    // Informational advisories (unmaintained, unsound) are not vulnerabilities, but a reviewer
    // wants to see them.
    let informational: Vec<String> = db
        .query_vulnerabilities(&lockfile, &Query::crate_scope().informational(true))
        .iter()
        .map(|v| format!("{} {} ({})", v.package.name, v.package.version, v.advisory.id))
        .collect();
    let packages = lockfile.packages.len();
    let known = db.iter().count();
    let (status, evidence) = if !vulnerabilities.is_empty() {
        let list: Vec<String> = vulnerabilities
            .iter()
            .map(|v| {
                format!(
                    "{} {}: {} ({})",
                    v.package.name, v.package.version, v.advisory.id, v.advisory.title
                )
            })
            .collect();
        (
            Status::Fail,
            format!(
                "{} advisories affect this build: {}. Upgrade the crates (cargo update -p …) and rebuild.",
                list.len(),
                list.join("; ")
            ),
        )
    } else if !informational.is_empty() {
        (
            Status::Warn,
            format!(
                "No vulnerability among {packages} locked packages ({known} advisories known); informational advisories: {}.",
                informational.join("; ")
            ),
        )
    } else {
        (
            Status::Pass,
            format!(
                "No advisory affects the {packages} packages locked in this build's Cargo.lock ({known} advisories in {}).",
                path.display()
            ),
        )
    };
    Ok(Control {
        id: "S-VC-1",
        title: "No RustSec advisory affects the dependencies",
        status,
        evidence,
    })
}
