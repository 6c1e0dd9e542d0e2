//! The report as Markdown (for people and pull requests) and JSON (for tools).

use std::fmt::Write;

use super::{Report, Status};

pub fn json(report: &Report) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(report)?)
}

pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let (pass, warn, fail, unchecked) = report.counts();
    let _ = writeln!(out, "# Sunbridge security report: OWASP Top 10 (2021)\n");
    let _ = writeln!(
        out,
        "Generated {} for the {} environment on {}{}.\n",
        report.generated_at.format("%Y-%m-%d %H:%M UTC"),
        report.environment,
        report.database,
        report
            .url
            .as_deref()
            .map(|u| format!(", probing {u}"))
            .unwrap_or_else(|| ", without probing a running server".into())
    );
    let _ = writeln!(
        out,
        "**Overall: {}** — {pass} controls pass, {warn} warn, {fail} fail, {unchecked} not checked.\n",
        report.status.label()
    );
    let _ = writeln!(
        out,
        "Controls carry the ids of the security requirements (`S-…`). *Warn* is not a failure but deserves a look; *not checked* names the input the check needs.\n"
    );
    let _ = writeln!(out, "| Category | Status | Controls |");
    let _ = writeln!(out, "|---|---|---|");
    for c in &report.categories {
        let ids: Vec<&str> = c.controls.iter().map(|c| c.id).collect();
        let _ = writeln!(
            out,
            "| {} {} | {} | {} |",
            c.id,
            c.name,
            badge(c.status),
            ids.join(", ")
        );
    }
    for c in &report.categories {
        let _ = writeln!(out, "\n## {} {} — {}\n", c.id, c.name, badge(c.status));
        let _ = writeln!(out, "| Control | Status | Evidence |");
        let _ = writeln!(out, "|---|---|---|");
        for control in &c.controls {
            let _ = writeln!(
                out,
                "| {} {} | {} | {} |",
                control.id,
                cell(control.title),
                badge(control.status),
                cell(&control.evidence)
            );
        }
    }
    out
}

fn badge(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Warn => "**warn**",
        Status::Fail => "**FAIL**",
        Status::NotChecked => "not checked",
    }
}

/// Table cells hold one line and no column separator. Evidence is our own text, but it quotes
/// configuration values (URLs, e-mail addresses) and a reader's Markdown renderer may treat
/// HTML in them as markup, so angle brackets are escaped too.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security_report::{Category, Control};

    #[test]
    fn cells_cannot_break_the_table_or_carry_markup() {
        let report = Report {
            generated_at: chrono::Utc::now(),
            environment: "development".into(),
            database: "sqlite".into(),
            url: None,
            status: Status::Fail,
            categories: vec![Category {
                id: "A01",
                name: "Broken Access Control",
                status: Status::Fail,
                controls: vec![Control {
                    id: "S-AC-1",
                    title: "Deny by default",
                    status: Status::Fail,
                    evidence: "a | b\n<script>x</script>".into(),
                }],
            }],
        };
        let md = markdown(&report);
        assert!(md.contains("a \\| b &lt;script&gt;x&lt;/script&gt;"), "{md}");
        assert!(md.contains("**Overall: FAIL**"));
        assert!(md.contains("0 controls pass, 0 warn, 1 fail"));
    }
}
