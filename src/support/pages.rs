//! The back office for browsers: the staff home, customer search (masked), a customer's page
//! with the "open with reason" flow, ending their sessions and resending their link.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::service::{self, CustomerSummary, CustomerView, SupportError};
use crate::access::SignedInForm;
use crate::access::grants::{self, Grant};
use crate::access::policy::allows;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::audit::Actor;
use crate::auth::browser::{CsrfOnly, CsrfProtected};
use crate::http::{IdPath, PageError};
use crate::ids::{GrantId, UserId};
use crate::state::AppState;
use crate::web::form::Problems;
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/staff", Permission::OwnAccount, home)
        .get("/staff/customers", Permission::ViewCustomers, customers)
        .get("/staff/customers/{id}", Permission::ViewCustomers, customer)
        .post(
            "/staff/customers/{id}/access",
            Permission::ReadCustomerPii,
            open_access,
        )
        .post("/staff/grants/{id}/end", Permission::ReadCustomerPii, end_grant)
        .post(
            "/staff/customers/{id}/sessions",
            Permission::AssistCustomers,
            end_sessions,
        )
        .post(
            "/staff/customers/{id}/verification",
            Permission::AssistCustomers,
            resend_verification,
        )
}

#[derive(Template)]
#[template(path = "staff/home.html")]
struct HomePage {
    nav: Nav,
    name: String,
    role: &'static str,
    customers: bool,
    pipeline: bool,
    staff: bool,
    review: bool,
    audit: bool,
    catalog: bool,
    jobs: bool,
    crews: bool,
    security: bool,
}

/// The back-office home: links to what the caller's role holds. Customers and staff without
/// a back-office permission are sent to their account page.
async fn home(caller: PageUser<perm::OwnAccount>) -> Result<Response, PageError> {
    if !crate::access::policy::has_back_office(caller.role) || caller.must_enrol() {
        return Ok(Redirect::to("/account").into_response());
    }
    let role = caller.role;
    let page = HomePage {
        nav: Nav::for_caller("staff", Some(&caller)),
        name: caller.name.clone(),
        role: role.as_str(),
        customers: allows(role, Permission::ViewCustomers),
        pipeline: allows(role, Permission::ReadPipeline),
        staff: allows(role, Permission::ManageStaff),
        review: allows(role, Permission::ReviewAccess),
        audit: allows(role, Permission::ReadAudit),
        catalog: allows(role, Permission::ManageCatalog),
        jobs: allows(role, Permission::ReadJobs),
        crews: allows(role, Permission::ManageCrews),
        security: allows(role, Permission::ManageSecurity),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "staff/customers.html")]
struct CustomersPage {
    nav: Nav,
    query: String,
    searched: bool,
    results: Vec<CustomerSummary>,
    next_cursor: Option<String>,
    error: Option<String>,
    open_grants: Vec<Grant>,
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    query: String,
    cursor: Option<String>,
}

async fn customers(
    State(state): State<AppState>,
    caller: PageUser<perm::ViewCustomers>,
    Query(params): Query<SearchParams>,
) -> Result<Response, PageError> {
    let query: String = params.query.chars().take(100).collect();
    let mut page = CustomersPage {
        nav: Nav::for_caller("staff", Some(&caller)),
        searched: false,
        results: Vec::new(),
        next_cursor: None,
        error: None,
        open_grants: Vec::new(),
        query: query.clone(),
    };
    if allows(caller.role, Permission::ReadCustomerPii) {
        page.open_grants = grants::live_for_staff(&state.db, caller.user, Utc::now())
            .await
            .map_err(anyhow::Error::from)?;
    }
    if !query.trim().is_empty() {
        let after = params.cursor.and_then(|c| c.parse::<UserId>().ok());
        match service::search(&state.db, &query, after, 50).await {
            Ok((results, next)) => {
                page.searched = true;
                page.results = results;
                page.next_cursor = next;
            }
            Err(SupportError::QueryTooShort) => page.error = Some("Type at least 3 characters.".into()),
            Err(e) => return Err(e.into()),
        }
    }
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "staff/customer.html")]
struct CustomerPage {
    nav: Nav,
    csrf: String,
    view: CustomerView,
    can_open: bool,
    can_assist: bool,
    /// The customer's quotes: (version, made, size kW, price).
    quotes: Vec<(i32, String, String, String)>,
    /// The customer's homes (streets masked without a grant) and orders.
    homes: Vec<service::HomeLine>,
    orders: Vec<service::OrderLine>,
    can_read_jobs: bool,
    grant_minutes: u64,
    notice: Option<&'static str>,
    /// The reason form as typed, and its problem.
    reason: ReasonForm,
}

/// The "open with reason" form as typed, sent back with its problems.
#[derive(Default)]
struct ReasonForm {
    text: String,
    problems: Problems,
}

impl ReasonForm {
    fn refused(text: String, message: String) -> ReasonForm {
        let mut problems = Problems::about("the reason");
        problems.add("reason", message);
        ReasonForm { text, problems }
    }
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn customer_page(
    state: &AppState,
    caller: &crate::auth::browser::PageCaller,
    actor: &Actor,
    id: UserId,
    status: StatusCode,
    notice: Option<&'static str>,
    reason: ReasonForm,
) -> Result<Response, PageError> {
    let view = service::view(&state.db, actor, (caller.user, caller.role), id).await?;
    let quotes = if allows(caller.role, Permission::ReadQuotes) {
        crate::quotes::service::list_own(&state.db, id, None, crate::http::PAGE_MAX)
            .await?
            .into_iter()
            .map(|q| {
                (
                    q.version,
                    q.created_at.format("%Y-%m-%d").to_string(),
                    format!("{:.2}", q.figures.system_kw.value()),
                    q.figures.price_cents.whole(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let (homes, orders) = service::homes_and_orders(&state.db, id, !view.masked).await?;
    let page = CustomerPage {
        nav: Nav::for_caller("staff", Some(caller)),
        quotes,
        homes,
        orders,
        can_read_jobs: allows(caller.role, Permission::ReadJobs),
        csrf: caller.csrf.clone(),
        view,
        can_open: allows(caller.role, Permission::ReadCustomerPii),
        can_assist: allows(caller.role, Permission::AssistCustomers),
        grant_minutes: state.settings.access_grant_ttl_secs / 60,
        notice,
        reason,
    };
    render(status, &page)
}

async fn customer(
    State(state): State<AppState>,
    caller: PageUser<perm::ViewCustomers>,
    IdPath(id): IdPath<UserId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    // Fixed messages only: the query string cannot put text of its own on the page.
    let notice = match q.notice.as_deref() {
        Some("sessions") => Some("The customer was signed out on every device."),
        Some("verification") => Some("A new confirmation link is on its way to the customer."),
        Some("closed") => Some("Access closed. Personal data is masked again."),
        Some("verified-already") => Some("The customer's address is already confirmed: no link was sent."),
        Some("verification-limit") => {
            Some("Three links were sent this hour already: no link was sent. Try again later.")
        }
        _ => None,
    };
    let actor = caller.actor();
    customer_page(
        &state,
        &caller,
        &actor,
        id,
        StatusCode::OK,
        notice,
        ReasonForm::default(),
    )
    .await
}

#[derive(Deserialize)]
struct AccessFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

impl CsrfProtected for AccessFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn open_access(
    State(state): State<AppState>,
    IdPath(customer): IdPath<UserId>,
    SignedInForm(caller, fields): SignedInForm<perm::ReadCustomerPii, AccessFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let reason = match grants::Reason::parse(&fields.reason) {
        Ok(reason) => reason,
        Err(problem) => {
            let message = ReasonForm::refused(fields.reason, sentence(&problem.to_string()));
            return customer_page(
                &state,
                &caller,
                &actor,
                customer,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                message,
            )
            .await;
        }
    };
    let ttl = state.settings.links().access_grant;
    let staff = (caller.user, caller.role);
    match service::open_grant(&state.db, &actor, staff, customer, reason, ttl).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/customers/{customer}")).into_response()),
        Err(SupportError::TooManyGrants) => {
            let message = ReasonForm::refused(
                fields.reason,
                "You have 10 customers open already. Close one first.".to_owned(),
            );
            customer_page(
                &state,
                &caller,
                &actor,
                customer,
                StatusCode::CONFLICT,
                None,
                message,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn end_grant(
    State(state): State<AppState>,
    IdPath(id): IdPath<GrantId>,
    SignedInForm(caller, _): SignedInForm<perm::ReadCustomerPii, CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let may_end_any = allows(caller.role, Permission::ManageStaff);
    let customer = grants::end(&state.db, &actor, caller.user, may_end_any, id).await?;
    Ok(Redirect::to(&format!("/staff/customers/{customer}?notice=closed")).into_response())
}

async fn end_sessions(
    State(state): State<AppState>,
    IdPath(target): IdPath<UserId>,
    SignedInForm(caller, form): SignedInForm<perm::AssistCustomers, crate::web::confirm::ConfirmOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    if !form.confirmed() {
        let view = service::view(&state.db, &actor, (caller.user, caller.role), target).await?;
        return crate::web::confirm::Confirmation {
            nav: Nav::for_caller("staff", Some(&caller)),
            title: format!("Sign {} out everywhere?", view.name),
            will_happen: vec![
                format!(
                    "Every device and app signed in to this account ({} now) is signed out at once.",
                    view.live_sessions
                ),
                "The customer signs in again with their password (and code, if they use one); nothing else changes.".to_owned(),
                "Use it for a lost phone or a suspected takeover. It is written to the audit trail under your name.".to_owned(),
            ],
            action: format!("/staff/customers/{target}/sessions"),
            fields: vec![("csrf", caller.csrf.clone())],
            confirm: "Yes, sign them out everywhere",
            destructive: true,
            back: format!("/staff/customers/{target}"),
            back_label: "Keep them signed in",
        }
        .page();
    }
    service::end_sessions(&state.db, &state.auth_cache, &actor, caller.role, target).await?;
    Ok(Redirect::to(&format!("/staff/customers/{target}?notice=sessions")).into_response())
}

async fn resend_verification(
    State(state): State<AppState>,
    IdPath(target): IdPath<UserId>,
    SignedInForm(caller, _): SignedInForm<perm::AssistCustomers, CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let cx = state.signup_context();
    // Each outcome is a fixed notice on the customer's page (no text of its own in the address).
    let notice = match service::resend_verification(&cx, &actor, target).await {
        Ok(()) => "verification",
        Err(SupportError::AlreadyVerified) => "verified-already",
        Err(SupportError::RateLimited) => "verification-limit",
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/staff/customers/{target}?notice={notice}")).into_response())
}
