//! The hook through which the route table's guard charges a request once its route is known
//! (the request budgets, S-DE-3). Its own module, free of the application state, so what
//! implements it can live in the state.

use axum::extract::Request;
use axum::response::Response;

/// What a request is charged once its route is known, before the route's own checks, and
/// settled on its answer. The request budgets (S-DE-3) plug in here rather than as a layer of
/// their own, so that every request passes one route layer, not two (each costs a boxed
/// future and a clone of the route's service stack).
pub trait Admission: Send + Sync + 'static {
    /// What `settle` needs to know of the admission.
    type Ticket: Send;

    /// Lets the request of template `route` in, or answers it instead; `upload` says the
    /// route takes files. (`&mut`, though it only reads: a body is `Send` but not `Sync`, so
    /// only a unique borrow of the request can be held across an await in a `Send` future.)
    fn admit(
        &self,
        route: &str,
        upload: bool,
        req: &mut Request,
    ) -> impl std::future::Future<Output = Result<Self::Ticket, Response>> + Send;

    /// Sees the answer of an admitted request (and may add headers to it).
    fn settle(
        &self,
        ticket: Self::Ticket,
        response: &mut Response,
    ) -> impl std::future::Future<Output = ()> + Send;
}

/// No admission: routes are only guarded by their table.
pub enum NoAdmission {}

impl Admission for NoAdmission {
    type Ticket = ();

    async fn admit(&self, _: &str, _: bool, _: &mut Request) -> Result<(), Response> {
        match *self {}
    }

    async fn settle(&self, _: (), _: &mut Response) {
        match *self {}
    }
}
