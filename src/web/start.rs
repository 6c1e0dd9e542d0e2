//! Where a signed-in person starts when no page was asked for: the place their role works
//! from, and for a customer the next thing to do (add a home, follow an order).

use axum::extract::State;
use axum::response::Redirect;

use crate::access::policy::{allows, has_back_office};
use crate::access::{PageUser, Permission, perm};
use crate::http::PageError;
use crate::state::AppState;

pub use crate::http::error::START_PAGE as START;

pub async fn start(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnAccount>,
) -> Result<Redirect, PageError> {
    let to = if caller.must_enrol() {
        "/account".to_owned()
    } else if allows(caller.role, Permission::OwnOrders) {
        customer_start(&state, &caller).await?
    } else if allows(caller.role, Permission::WorkJobs) {
        "/installer".to_owned()
    } else if has_back_office(caller.role) {
        "/staff".to_owned()
    } else {
        "/account".to_owned()
    };
    Ok(Redirect::to(&to))
}

/// A customer's next step: their one order, the list of several, or their homes (which,
/// with none yet, is the form to add one).
async fn customer_start(state: &AppState, caller: &PageUser<perm::OwnAccount>) -> Result<String, PageError> {
    let orders = crate::orders::service::list_own(&state.db, caller.user, None, 2).await?;
    Ok(match orders.as_slice() {
        [only] => format!("/orders/{}", only.id),
        [] => "/sites".to_owned(),
        _ => "/orders".to_owned(),
    })
}
