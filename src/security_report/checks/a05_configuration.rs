//! The controls of A05 Security Misconfiguration.

use super::*;

pub(super) fn production_rules(s: &Settings) -> Control {
    let mut as_production = s.clone();
    as_production.env = Environment::Production;
    let problems = as_production.problems();
    let status = if problems.is_empty() {
        Status::Pass
    } else {
        shortfall(s)
    };
    control(
        "check-config",
        "Production refuses unsafe settings",
        status,
        if problems.is_empty() {
            "Every setting passes the production rules (`sunbridge check-config`).".to_owned()
        } else if s.is_production() {
            format!(
                "{} settings break the production rules: {}.",
                problems.len(),
                problems.join("; ")
            )
        } else {
            format!(
                "Development install: the server would refuse to start in production because {}.",
                problems.join("; ")
            )
        },
    )
}
