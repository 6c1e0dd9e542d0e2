//! What one request recorded, for whoever reacts to it once the request is done.
//!
//! `record` only writes the trail; the reactions to what it wrote (blocking an address after
//! too many alarms, in `defence`) run after the handler has returned, so after the change's
//! transaction committed or rolled back, and the trail module knows nothing of them. The list
//! is kept per request (a task-local set up by `watch`), not per process.

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::Action;

/// One event recorded by a request, as far as a reaction needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub action: Action,
    pub client_ip: IpAddr,
}

type Entries = Arc<Mutex<Vec<Recorded>>>;

tokio::task_local! {
    static JOURNAL: Entries;
}

/// Runs `work` (one request) and returns what it recorded with its output.
pub async fn watch<F: Future>(work: F) -> (F::Output, Vec<Recorded>) {
    let entries = Entries::default();
    let output = JOURNAL.scope(entries.clone(), work).await;
    let recorded = entries
        .lock()
        .map(|mut e| std::mem::take(&mut *e))
        .unwrap_or_default();
    (output, recorded)
}

/// Notes an event for the request being served, if one is watched.
pub(super) fn note(action: Action, client_ip: IpAddr) {
    let _ = JOURNAL.try_with(|entries| {
        if let Ok(mut entries) = entries.lock() {
            entries.push(Recorded { action, client_ip });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_sees_only_its_own_events() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let (_, outside) = watch(async {}).await;
        note(Action::LoginFailed, ip); // no request watched: nowhere to go, no panic
        let ((), recorded) = watch(async {
            note(Action::LoginFailed, ip);
            note(Action::AccessDenied, ip);
        })
        .await;
        assert!(outside.is_empty());
        assert_eq!(
            recorded,
            vec![
                Recorded {
                    action: Action::LoginFailed,
                    client_ip: ip
                },
                Recorded {
                    action: Action::AccessDenied,
                    client_ip: ip
                },
            ]
        );
    }
}
