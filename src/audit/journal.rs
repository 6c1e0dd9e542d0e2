//! What one request recorded, for whoever reacts to it once the request is done.
//!
//! `record` only writes the trail; the reactions to what it wrote (blocking an address after
//! too many alarms, in `defence`) run after the handler has returned, so after the change's
//! transaction committed or rolled back, and the trail module knows nothing of them. The list
//! is kept per request (a task-local set up by `watch`), not per process.

use std::cell::RefCell;
use std::future::Future;
use std::net::IpAddr;

use super::Action;

/// One event recorded by a request, as far as a reaction needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub action: Action,
    pub client_ip: IpAddr,
}

tokio::task_local! {
    static JOURNAL: RefCell<Vec<Recorded>>;
}

/// Runs `work` (one request) and returns what it recorded with its output. Every request
/// passes here, so nothing is allocated until an event is noted.
pub async fn watch<F: Future>(work: F) -> (F::Output, Vec<Recorded>) {
    let mut scoped = std::pin::pin!(JOURNAL.scope(RefCell::new(Vec::new()), work));
    let output = scoped.as_mut().await;
    let recorded = scoped
        .as_mut()
        .take_value()
        .map(RefCell::into_inner)
        .unwrap_or_default();
    (output, recorded)
}

/// Notes an event for the request being served, if one is watched.
pub(super) fn note(action: Action, client_ip: IpAddr) {
    let _ = JOURNAL.try_with(|entries| entries.borrow_mut().push(Recorded { action, client_ip }));
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
