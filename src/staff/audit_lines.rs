//! The audit trail in plain words for the admin page: each row as a sentence ("Ada Lovelace
//! (admin) disabled the account of Sam Support.") with its details as a readable list. Staff
//! are named; customers are named by their short reference only, so the trail shows no
//! customer's personal data to the engineers who read it.

use std::collections::HashMap;

use crate::audit::{Action, AuditEvent};

/// One row of the trail as the page shows it.
pub struct AuditLine {
    pub seq: Option<i64>,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The row as a sentence.
    pub sentence: String,
    /// Its details, ids last, as (words, value).
    pub details: Vec<(String, String)>,
    /// The id the row is about, to narrow the trail to it.
    pub target_id: Option<String>,
}

/// The rows as sentences. `staff` names the staff accounts (id → name); anyone else is named by
/// reference.
pub fn lines(events: Vec<AuditEvent>, staff: &HashMap<String, String>) -> Vec<AuditLine> {
    events.into_iter().map(|e| line(e, staff)).collect()
}

fn line(e: AuditEvent, staff: &HashMap<String, String>) -> AuditLine {
    let who = who(&e, staff);
    let target = e
        .target_kind
        .as_deref()
        .map(|kind| what(kind, e.target_id.as_deref().unwrap_or(""), staff));
    let about_self = e.target_kind.as_deref() == Some("user") && e.target_id == e.actor_id;
    let phrase =
        Action::parse(&e.action).map_or_else(|| format!("recorded {}", e.action), |a| a.words().to_owned());
    let target_words = match (&target, about_self) {
        (_, true) => "their own account".to_owned(),
        (Some(t), false) => t.clone(),
        (None, false) => "something".to_owned(),
    };
    let mut sentence = format!("{who} {}.", phrase.replace("{target}", &target_words));
    // A job's step change says which steps, the one thing its readers look for.
    if e.action == Action::JobTransition.as_str()
        && let (Some(from), Some(to)) = (e.details["from"].as_str(), e.details["to"].as_str())
    {
        sentence = format!(
            "{who} moved {target_words} from {} to {}.",
            words(from),
            words(to)
        );
    }
    if !phrase.contains("{target}")
        && let (Some(t), false) = (&target, about_self)
    {
        // A phrase that does not name its object: the object follows.
        sentence = format!("{who} {phrase}: {t}.");
    }
    let mut details = readable(&e.details);
    if let Some(ip) = &e.client_ip {
        details.push(("From address".into(), ip.clone()));
    }
    if let Some(id) = &e.actor_id {
        details.push(("Account id".into(), id.clone()));
    }
    if let (Some(kind), Some(id)) = (&e.target_kind, &e.target_id) {
        details.push((sentence_start(&format!("{} id", words(kind))), id.clone()));
    }
    if let Some(request) = &e.request_id {
        details.push(("Request".into(), request.clone()));
    }
    details.push(("Action".into(), e.action.clone()));
    AuditLine {
        seq: e.seq,
        at: e.occurred_at,
        sentence,
        details,
        target_id: e.target_id,
    }
}

/// Who did it: a staff member by name and role, a customer or installer by reference, or where
/// an event without an account came from.
fn who(e: &AuditEvent, staff: &HashMap<String, String>) -> String {
    let role = e.actor_role.as_deref().unwrap_or("");
    match (&e.actor_id, staff.get(e.actor_id.as_deref().unwrap_or(""))) {
        (Some(_), Some(name)) if role.is_empty() => name.clone(),
        (Some(_), Some(name)) => format!("{name} ({role})"),
        (Some(id), None) => match uuid::Uuid::parse_str(id) {
            Ok(id) if role.is_empty() => format!("Account {}", crate::ids::reference("U", id)),
            Ok(id) => sentence_start(&format!("{role} {}", crate::ids::reference("U", id))),
            Err(_) => "An account".to_owned(),
        },
        (None, _) => match e.origin.as_str() {
            "system" => "Sunbridge".to_owned(),
            "cli" => "An operator at the command line".to_owned(),
            _ => "Someone not signed in".to_owned(),
        },
    }
}

/// What it happened to, in words: a staff member's name, an object's short reference, or a
/// catalog entry's own id (those are chosen to be read).
fn what(kind: &str, id: &str, staff: &HashMap<String, String>) -> String {
    if let Some(name) = staff.get(id) {
        return name.clone();
    }
    let reference = |prefix: &str| {
        uuid::Uuid::parse_str(id).map_or_else(|_| id.to_owned(), |u| crate::ids::reference(prefix, u))
    };
    match kind {
        "user" => format!("account {}", reference("U")),
        "job" => format!("job {}", reference("J")),
        "order" => format!("order {}", reference("O")),
        "quote" => format!("quote {}", reference("Q")),
        "site" => format!("home {}", reference("H")),
        "offer" => format!("offer {}", reference("F")),
        "booking" => format!("booked day {}", reference("B")),
        "payment" => format!("payment {}", reference("P")),
        "grant" => format!("grant {}", reference("G")),
        "session" => format!("session {}", reference("S")),
        "crew" => format!("crew {}", reference("C")),
        "installer_company" => format!("installer company {}", reference("IC")),
        "holiday" => "a holiday".to_owned(),
        "ip_block" => format!("the address {id}"),
        "data_key" => "a data key".to_owned(),
        "quote_option" => format!("option {id}"),
        "weather_file" => format!("weather file {id}"),
        other => format!("{} {id}", words(other)),
    }
}

/// A row's details as (words, value): codes become words, true/false yes/no.
fn readable(details: &serde_json::Value) -> Vec<(String, String)> {
    let Some(map) = details.as_object() else {
        return if details.is_null() {
            Vec::new()
        } else {
            vec![("Details".into(), details.to_string())]
        };
    };
    map.iter()
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::Bool(true) => "yes".to_owned(),
                serde_json::Value::Bool(false) => "no".to_owned(),
                serde_json::Value::String(s) if is_code(s) => words(s),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "none".to_owned(),
                other => other.to_string(),
            };
            (sentence_start(&words(key)), value)
        })
        .collect()
}

/// `deposit_paid` and `crew_added` are codes; ids, addresses and free text are not.
fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        && s.contains('_')
        || s.bytes().all(|b| b.is_ascii_lowercase()) && !s.is_empty() && s.len() <= 20
}

fn words(code: &str) -> String {
    code.replace(['_', '.'], " ")
}

fn sentence_start(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        action: &str,
        actor: Option<&str>,
        role: Option<&str>,
        target: Option<(&str, &str)>,
    ) -> AuditEvent {
        AuditEvent {
            id: 1,
            occurred_at: chrono::Utc::now(),
            actor_id: actor.map(str::to_owned),
            actor_role: role.map(str::to_owned),
            origin: "http".into(),
            client_ip: None,
            request_id: None,
            action: action.into(),
            target_kind: target.map(|t| t.0.to_owned()),
            target_id: target.map(|t| t.1.to_owned()),
            details: serde_json::json!({"from": "deposit_paid", "to": "survey_scheduled", "mfa": false}),
            seq: Some(7),
            hash: None,
        }
    }

    #[test]
    fn every_action_is_listed_once_in_order() {
        for (i, action) in Action::ALL.into_iter().enumerate() {
            assert_eq!(action as usize, i, "{}", action.as_str());
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
    }

    #[test]
    fn rows_read_as_sentences_with_staff_named_and_customers_by_reference() {
        let ada = "01a2500e-fffe-7065-a2da-698bec0c8b67";
        let sam = "01a2500e-0000-7065-a2da-000000000001";
        let staff = HashMap::from([
            (ada.to_owned(), "Ada Lovelace".to_owned()),
            (sam.to_owned(), "Sam Support".to_owned()),
        ]);
        let disabled = line(
            event("staff.disabled", Some(ada), Some("admin"), Some(("user", sam))),
            &staff,
        );
        assert_eq!(
            disabled.sentence,
            "Ada Lovelace (admin) disabled the account of Sam Support."
        );

        let job = "01a2500f-00b7-700a-bccf-1c74d04d6136";
        let customer = "01a2500e-ffb9-7521-aebc-985678a1f741";
        let moved = line(
            event(
                "job.transition",
                Some(customer),
                Some("installer"),
                Some(("job", job)),
            ),
            &staff,
        );
        assert_eq!(
            moved.sentence,
            "Installer U-78A1-F741 moved job J-D04D-6136 from deposit paid to survey scheduled."
        );
        assert!(
            moved
                .details
                .contains(&("From".to_owned(), "deposit paid".to_owned()))
        );
        assert!(moved.details.contains(&("Mfa".to_owned(), "no".to_owned())));
        assert!(moved.details.contains(&("Job id".to_owned(), job.to_owned())));

        let own = line(
            event("auth.mfa_enabled", Some(ada), Some("admin"), Some(("user", ada))),
            &staff,
        );
        assert_eq!(own.sentence, "Ada Lovelace (admin) turned on two-step sign-in.");
        let system = line(event("offer.expired", None, None, Some(("offer", job))), &staff);
        assert_eq!(
            system.sentence,
            "Someone not signed in let offer F-D04D-6136 expire."
        );
    }
}
