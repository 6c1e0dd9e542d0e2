//! The id of the request being served: made by `context::middleware`, visible to the error
//! pages and bodies of everything beneath it on the request's task.

use std::future::Future;

use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(Uuid);

impl RequestId {
    pub(super) fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

tokio::task_local! {
    static CURRENT_REQUEST_ID: RequestId;
}

/// The id of the request being served on this task, for error bodies.
pub fn current_request_id() -> Option<RequestId> {
    CURRENT_REQUEST_ID.try_with(|id| *id).ok()
}

/// Runs `work` as the request `id`.
pub(super) async fn scope<F: Future>(id: RequestId, work: F) -> F::Output {
    CURRENT_REQUEST_ID.scope(id, work).await
}
