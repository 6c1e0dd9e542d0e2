//! S-MC-3: what the deployment files say about how the server runs. The CI lint stage
//! (checkov, hadolint, kubernetes-validate) is the thorough check of the rendered manifests;
//! this reads the same files and states the properties the requirement names, so the report
//! carries them as evidence.

use std::path::Path;

use serde_yaml_ng::Value;

use super::{Control, Status};

const TITLE: &str = "Deployment runs non-root, read-only, least privilege (Dockerfile, Kubernetes)";

pub fn check(dir: Option<&Path>) -> Control {
    let Some(dir) = dir else {
        return Control {
            id: "S-MC-3",
            title: TITLE,
            status: Status::NotChecked,
            evidence: "No deployment directory given (`--deploy deploy`).".into(),
        };
    };
    let mut findings = Findings::default();
    dockerfile(&dir.join("Dockerfile"), &mut findings);
    let manifests = manifests(&dir.join("kubernetes"), &mut findings);
    kubernetes(&manifests, &mut findings);
    let status = if !findings.failures.is_empty() {
        Status::Fail
    } else if !findings.warnings.is_empty() {
        Status::Warn
    } else {
        Status::Pass
    };
    let mut evidence = format!("{}: {} manifests read. ", dir.display(), manifests.len());
    if !findings.failures.is_empty() {
        evidence.push_str(&format!("Failed: {}. ", findings.failures.join("; ")));
    }
    if !findings.warnings.is_empty() {
        evidence.push_str(&format!("To look at: {}. ", findings.warnings.join("; ")));
    }
    evidence.push_str(&format!("Holds: {}.", findings.holds.join("; ")));
    Control {
        id: "S-MC-3",
        title: TITLE,
        status,
        evidence,
    }
}

#[derive(Default)]
struct Findings {
    failures: Vec<String>,
    warnings: Vec<String>,
    holds: Vec<String>,
}

impl Findings {
    fn expect(&mut self, ok: bool, holds: impl Into<String>, fails: impl Into<String>) {
        if ok {
            self.holds.push(holds.into());
        } else {
            self.failures.push(fails.into());
        }
    }
}

/// Dockerfile instructions are one keyword per logical line; only the final stage matters for
/// what runs.
fn dockerfile(path: &Path, f: &mut Findings) {
    let Ok(text) = std::fs::read_to_string(path) else {
        f.failures.push(format!("no Dockerfile at {}", path.display()));
        return;
    };
    let instructions: Vec<(String, String)> = text
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (word, rest) = l.split_once(char::is_whitespace)?;
            Some((word.to_ascii_uppercase(), rest.trim().to_owned()))
        })
        .collect();
    let last_from = instructions.iter().rposition(|(w, _)| w == "FROM").unwrap_or(0);
    let final_stage = &instructions[last_from..];
    let user = final_stage
        .iter()
        .rev()
        .find(|(w, _)| w == "USER")
        .map(|(_, u)| u.clone());
    let root = user
        .as_deref()
        .is_none_or(|u| matches!(u.split(':').next(), Some("root" | "0")));
    f.expect(
        !root,
        format!("image runs as user {}", user.as_deref().unwrap_or("?")),
        "the image's final stage runs as root (no USER, or USER root)",
    );
    f.expect(
        final_stage.iter().any(|(w, _)| w == "HEALTHCHECK"),
        "image has a HEALTHCHECK",
        "the image has no HEALTHCHECK",
    );
    let exposed = final_stage.iter().filter(|(w, _)| w == "EXPOSE").count();
    f.expect(
        exposed == 1,
        "image exposes one port",
        format!("the image exposes {exposed} ports (one is expected)"),
    );
    let unpinned: Vec<&str> = instructions
        .iter()
        .filter(|(w, _)| w == "FROM")
        .filter_map(|(_, image)| image.split_whitespace().next())
        .filter(|image| !image.contains("@sha256:"))
        .collect();
    f.expect(
        unpinned.is_empty(),
        "base images pinned by digest",
        format!("base images not pinned by digest: {}", unpinned.join(", ")),
    );
}

/// Every YAML document under `dir`, with the file it came from.
fn manifests(dir: &Path, f: &mut Findings) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if !matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for doc in serde_yaml_ng::Deserializer::from_str(&text) {
                match <Value as serde::Deserialize>::deserialize(doc) {
                    Ok(value) if !value.is_null() => out.push((path.display().to_string(), value)),
                    Ok(_) => {}
                    Err(err) => f
                        .failures
                        .push(format!("{} is not valid YAML: {err}", path.display())),
                }
            }
        }
    }
    if out.is_empty() {
        f.failures
            .push(format!("no Kubernetes manifests under {}", dir.display()));
    }
    out
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, key| v.get(*key))
}

fn kind(v: &Value) -> &str {
    v.get("kind").and_then(Value::as_str).unwrap_or("")
}

fn name(v: &Value) -> &str {
    get(v, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("?")
}

fn kubernetes(docs: &[(String, Value)], f: &mut Findings) {
    let workloads: Vec<&Value> = docs
        .iter()
        .map(|(_, v)| v)
        .filter(|v| {
            matches!(
                kind(v),
                "Deployment" | "Job" | "StatefulSet" | "DaemonSet" | "CronJob"
            )
        })
        .collect();
    if workloads.is_empty() {
        f.failures
            .push("no workload (Deployment or Job) in the manifests".into());
    }
    let mut containers = 0;
    let failures_before = f.failures.len();
    for w in &workloads {
        let pod = if kind(w) == "CronJob" {
            get(w, &["spec", "jobTemplate", "spec", "template", "spec"])
        } else {
            get(w, &["spec", "template", "spec"])
        };
        let Some(pod) = pod else { continue };
        let label = format!("{} {}", kind(w), name(w));
        if pod.get("automountServiceAccountToken").and_then(Value::as_bool) != Some(false) {
            f.failures.push(format!(
                "{label} mounts a service-account token (automountServiceAccountToken is not false)"
            ));
        }
        let pod_non_root =
            get(pod, &["securityContext", "runAsNonRoot"]).and_then(Value::as_bool) == Some(true);
        let all = pod
            .get("containers")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .chain(
                pod.get("initContainers")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten(),
            );
        for c in all {
            containers += 1;
            let cname = format!("{label}/{}", c.get("name").and_then(Value::as_str).unwrap_or("?"));
            let sc = |key: &str| get(c, &["securityContext", key]).and_then(Value::as_bool);
            if !(pod_non_root || sc("runAsNonRoot") == Some(true)) {
                f.failures
                    .push(format!("{cname} may run as root (runAsNonRoot not set)"));
            }
            if sc("readOnlyRootFilesystem") != Some(true) {
                f.failures.push(format!("{cname} has a writable root filesystem"));
            }
            if sc("allowPrivilegeEscalation") != Some(false) {
                f.failures.push(format!("{cname} allows privilege escalation"));
            }
            if sc("privileged") == Some(true) {
                f.failures.push(format!("{cname} is privileged"));
            }
            let drops_all = get(c, &["securityContext", "capabilities", "drop"])
                .and_then(Value::as_sequence)
                .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
            if !drops_all {
                f.failures.push(format!("{cname} does not drop all capabilities"));
            }
            let limits = get(c, &["resources", "limits"]);
            if limits.and_then(|l| l.get("cpu")).is_none() || limits.and_then(|l| l.get("memory")).is_none() {
                f.failures.push(format!("{cname} has no CPU and memory limits"));
            }
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            if !image.contains("@sha256:") {
                f.failures
                    .push(format!("{cname} image is not pinned by digest ({image})"));
            }
            if c.get("env")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .any(|e| {
                    let n = e
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    e.get("value").is_some()
                        && ["KEY", "SECRET", "PASSWORD", "TOKEN"]
                            .iter()
                            .any(|s| n.contains(s))
                })
            {
                f.failures
                    .push(format!("{cname} has a secret-looking value written into its env"));
            }
        }
        if kind(w) == "Deployment" {
            let replicas = get(w, &["spec", "replicas"]).and_then(Value::as_u64).unwrap_or(1);
            f.expect(
                replicas >= 2,
                format!("Deployment {} runs {replicas} replicas", name(w)),
                format!(
                    "Deployment {} runs {replicas} replica (at least 2 expected)",
                    name(w)
                ),
            );
            let main = pod
                .get("containers")
                .and_then(Value::as_sequence)
                .and_then(|c| c.first());
            let probes =
                main.is_some_and(|c| c.get("readinessProbe").is_some() && c.get("livenessProbe").is_some());
            f.expect(
                probes,
                "readiness and liveness probes set",
                format!("Deployment {} lacks a readiness or liveness probe", name(w)),
            );
        }
    }
    if containers > 0 && f.failures.len() == failures_before {
        f.holds.push(format!(
            "all {containers} containers non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, limits set, images pinned by digest, no service-account token"
        ));
    }
    let secrets_with_values: Vec<&str> = docs
        .iter()
        .filter(|(_, v)| kind(v) == "Secret" && (v.get("data").is_some() || v.get("stringData").is_some()))
        .map(|(file, _)| file.as_str())
        .collect();
    f.expect(
        secrets_with_values.is_empty(),
        "no secret values in the manifests (Secrets are created outside the repository)",
        format!("secret values committed in {}", secrets_with_values.join(", ")),
    );
    let policy = docs.iter().map(|(_, v)| v).find(|v| kind(v) == "NetworkPolicy");
    let types: Vec<&str> = policy
        .and_then(|p| get(p, &["spec", "policyTypes"]))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    f.expect(
        types.contains(&"Ingress") && types.contains(&"Egress"),
        "a NetworkPolicy restricts ingress and egress",
        "no NetworkPolicy restricting both ingress and egress",
    );
    for service in docs.iter().map(|(_, v)| v).filter(|v| kind(v) == "Service") {
        let ports = get(service, &["spec", "ports"])
            .and_then(Value::as_sequence)
            .map_or(0, Vec::len);
        f.expect(
            ports == 1,
            format!("Service {} exposes one port", name(service)),
            format!("Service {} exposes {ports} ports", name(service)),
        );
    }
}
