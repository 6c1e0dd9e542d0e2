//! The customer's order pages: accept a quote, pay the deposit, pick a day from the calendar,
//! follow the timeline, see the crew's photos, and take the customer's own steps (approve the
//! design, confirm the system is on, cancel while that is still free).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::roadmap;
use super::service::{self, Order, OrderError};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::audit::Actor;
use crate::auth::browser::{CsrfOnly, CsrfProtected, PageCaller};
use crate::http::{IdPath, IdPaths, PageError};
use crate::ids::{BookingId, OrderId, QuoteId};
use crate::jobs::lifecycle::{self, JobState, Party};
use crate::jobs::photos::Photo;
use crate::jobs::service as jobs;
use crate::marketplace::booking as marketplace;
use crate::payments::service::{self as payments, Checkout, PaymentStatus};
use crate::scheduling::Kind;
use crate::scheduling::booking::{self, BookingError, when_words};
use crate::scheduling::slots::Slot;
use crate::state::AppState;
use crate::web::confirm::{self, Confirmation};
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .post("/quotes/{id}/accept", Permission::OwnOrders, accept)
        .get("/orders", Permission::OwnOrders, list)
        .get("/orders/{id}", Permission::OwnOrders, show)
        .post("/orders/{id}/deposit", Permission::OwnOrders, deposit)
        .post("/orders/{id}/bookings", Permission::OwnOrders, book)
        .get(
            "/orders/{id}/bookings/{booking}/move",
            Permission::OwnOrders,
            move_page,
        )
        .post(
            "/orders/{id}/bookings/{booking}/move",
            Permission::OwnOrders,
            move_booking,
        )
        .post("/orders/{id}/step", Permission::OwnOrders, step)
        .get("/orders/{id}/events", Permission::OwnOrders, events)
}

/// Where the order's job stands, for the live order page.
#[derive(serde::Serialize)]
struct Standing {
    state: JobState,
    label: &'static str,
}

/// The order's job, live: where it stands now, then again at each step, until the session's
/// idle or absolute deadline (the stream is not activity). Someone else's order is a 404.
async fn events(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnOrders>,
    IdPath(id): IdPath<OrderId>,
) -> Result<Response, PageError> {
    let order = service::own(&state.db, &caller.actor(), caller.user, id).await?;
    let job = order.job_id;
    let db = state.db.clone();
    let until = crate::marketplace::pages::page_stream_until(&caller, &state.settings);
    let stream = crate::marketplace::live::stream(
        state.db.clone(),
        &state.live,
        until,
        "job",
        crate::marketplace::live::Change::Job(job),
        move || {
            let db = db.clone();
            async move {
                let now = jobs::reload(&db, job).await?;
                anyhow::Ok(Standing {
                    state: now.state,
                    label: now.state.label(),
                })
            }
        },
    );
    Ok(stream.into_response())
}

async fn accept(
    State(state): State<AppState>,
    IdPath(quote): IdPath<QuoteId>,
    SignedInForm(caller, _form): SignedInForm<perm::OwnOrders, CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    match service::accept(
        &state.db,
        &actor,
        caller.user,
        caller.email_verified,
        quote,
        state.settings.quote_valid_days,
        &state.settings.public_url,
    )
    .await
    {
        Ok((order, _)) => {
            state.mailer.wake();
            Ok(Redirect::to(&format!("/orders/{}", order.id)).into_response())
        }
        Err(OrderError::EmailUnverified) => {
            Ok(Redirect::to(&format!("/quotes/{quote}?notice=confirm_email")).into_response())
        }
        Err(OrderError::AlreadyOrdered) => {
            Ok(Redirect::to(&format!("/quotes/{quote}?notice=order_exists")).into_response())
        }
        Err(OrderError::QuoteExpired) => {
            Ok(Redirect::to(&format!("/quotes/{quote}?notice=expired")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// One order in the list: named by its home.
struct ListedOrder {
    id: OrderId,
    home: String,
    address: String,
    system: String,
    price: String,
    state: &'static str,
    ordered: String,
}

#[derive(Template)]
#[template(path = "orders/list.html")]
struct ListPage {
    nav: Nav,
    orders: Vec<ListedOrder>,
}

async fn list(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnOrders>,
) -> Result<Response, PageError> {
    let orders = service::list_own(&state.db, caller.user, None, crate::http::PAGE_MAX).await?;
    // The caller's homes in one query; an order names the home it is for.
    let homes: std::collections::HashMap<_, _> =
        crate::sites::service::list_own(&state.db, caller.user, None, crate::http::PAGE_MAX)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
    let orders = orders
        .into_iter()
        .map(|o| {
            let home = homes.get(&o.site_id);
            ListedOrder {
                id: o.id,
                home: home.map_or_else(|| "A home".to_owned(), |h| h.label.clone()),
                address: home.map(|h| h.address.clone()).unwrap_or_default(),
                system: format!("{}, {} panels", o.system_kw, o.panels),
                price: o.price_cents.whole(),
                state: o.state.label(),
                ordered: o.created_at.format("%-d %b %Y").to_string(),
            }
        })
        .collect();
    render(
        StatusCode::OK,
        &ListPage {
            nav: Nav::for_caller("orders", Some(&caller)),
            orders,
        },
    )
}

/// One day of the booking calendar, with its free arrival windows.
pub struct Day {
    /// `Tue 8 Dec`
    label: String,
    /// `Tuesday 8 December`, for the buttons' accessible names.
    long: String,
    windows: Vec<WindowChoice>,
}

/// A free window on a day: what the button sends and says.
struct WindowChoice {
    slot_id: String,
    part: &'static str,
    words: String,
}

/// Free slots (in day order) as calendar days, each with its windows.
fn calendar_days(slots: Vec<Slot>) -> Vec<Day> {
    crate::scheduling::slots::by_day(slots)
        .into_iter()
        .map(|(date, windows)| Day {
            label: day_label(date),
            long: date.format("%A %-d %B").to_string(),
            windows: windows
                .into_iter()
                .map(|s| WindowChoice {
                    part: s.window.part_of_day(),
                    words: s.window.words(),
                    slot_id: s.id,
                })
                .collect(),
        })
        .collect()
}

/// A live booked visit on the order page, and whether its customer may still move it.
struct Visit {
    id: BookingId,
    kind: Kind,
    when: String,
    confirmed: bool,
    movable: bool,
}

impl Visit {
    /// The visit `b`, which its customer may move now when the settings' lead time allows.
    fn of(b: &booking::Booking, settings: &crate::config::Settings, zone: chrono_tz::Tz) -> Visit {
        Visit {
            id: b.id,
            kind: b.kind,
            when: b.when_words(),
            confirmed: b.status == booking::BookingStatus::Confirmed,
            movable: marketplace::owner_may_move(settings, b, zone),
        }
    }
}

#[derive(Template)]
#[template(path = "orders/order.html")]
struct OrderPage {
    nav: Nav,
    csrf: String,
    order: Order,
    price: String,
    deposit: String,
    checkout: Option<Checkout>,
    pay_now: bool,
    /// The kind the calendar offers now, and its free days.
    calendar: Option<(Kind, Vec<Day>)>,
    /// Booked visits still to come.
    visits: Vec<Visit>,
    /// Hours before a visit until which the customer may move it.
    lead_hours: u32,
    /// A day booked for the calendar's kind that no crew could take.
    unassigned: bool,
    home: crate::sites::service::Site,
    /// The crew that confirmed the latest booked day, with its company.
    crew: Option<String>,
    roadmap: Vec<roadmap::Step>,
    /// The home's time zone: times on the page are shown in it, named.
    zone: chrono_tz::Tz,
    photos: Vec<Photo>,
    /// The customer's own steps forward (approve the design, confirm the system is on).
    steps: Vec<(JobState, &'static str)>,
    /// Cancelling is still open (and free).
    can_cancel: bool,
    /// Rating the crew, once the system is installed.
    rating: Option<RatingPanel>,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// The customer's rating of the crew that installed their system.
struct RatingPanel {
    crew: String,
    given: Option<crate::crews::ratings::Rating>,
    /// Still open to a first rating or a change.
    editable: bool,
}

/// The star choices, with their words.
const STARS: [(u8, &str); 5] = [
    (5, "5 stars: excellent"),
    (4, "4 stars: good"),
    (3, "3 stars: fair"),
    (2, "2 stars: poor"),
    (1, "1 star: bad"),
];

impl OrderPage {
    /// Where the calendar's buttons post.
    fn book_action(&self) -> String {
        format!("/orders/{}/bookings", self.order.id)
    }

    /// A moment as the homeowner reads it: in the home's time zone, named ("Thu 3 Dec 2026,
    /// 2:05 PM EST").
    fn local(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&self.zone)
            .format("%a %-d %b %Y, %-I:%M %p %Z")
            .to_string()
    }
}

/// What the button for the customer's step says.
fn step_label(to: JobState) -> &'static str {
    match to {
        JobState::DesignApproved => "Approve the design",
        JobState::Active => "My system is switched on",
        JobState::Cancelled => "Cancel the order (the deposit is refunded)",
        _ => to.label(),
    }
}

fn day_label(day: NaiveDate) -> String {
    day.format("%a %-d %b").to_string()
}

async fn order_page(
    state: &AppState,
    caller: &PageCaller,
    actor: &Actor,
    id: OrderId,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let order = service::own(&state.db, actor, caller.user, id).await?;
    let checkout = payments::latest(&state.db, order.id)
        .await
        .map_err(anyhow::Error::from)?;
    let bookings = booking::of_job(&state.db, order.job_id)
        .await
        .map_err(anyhow::Error::from)?;
    let calendar = match marketplace::step_to_book(&order, &bookings) {
        Some(kind) => {
            let slots = marketplace::free_days(&state.db, &state.settings, &order, kind).await?;
            Some((kind, calendar_days(slots)))
        }
        None => None,
    };
    let unassigned = calendar.as_ref().is_some_and(|(kind, _)| {
        bookings
            .iter()
            .any(|b| b.kind == *kind && b.status == booking::BookingStatus::Unassigned)
    });
    let timeline = jobs::timeline(&state.db, order.job_id).await?;
    let home = crate::sites::service::own(&state.db, actor, caller.user, order.site_id).await?;
    let zone = crate::catalog::time_zone_of(&state.db, &home.region_id)
        .await
        .map_err(anyhow::Error::from)?;
    // Today where the home is: the first bookable day counts from it.
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let earliest = today
        .checked_add_days(chrono::Days::new(state.settings.booking_lead_days.into()))
        .unwrap_or(today);
    let roadmap = roadmap::roadmap(order.state, &timeline, &bookings, earliest);
    let visits = bookings
        .iter()
        .filter(|b| {
            matches!(
                b.status,
                booking::BookingStatus::Offered | booking::BookingStatus::Confirmed
            )
        })
        .filter(|b| b.date >= today)
        .map(|b| Visit::of(b, &state.settings, zone))
        .collect();
    let crew = match bookings
        .iter()
        .filter(|b| b.status == booking::BookingStatus::Confirmed)
        .max_by_key(|b| b.date)
        .and_then(|b| b.crew_id)
    {
        Some(id) => crate::crews::service::crew_with_company(&state.db, id)
            .await
            .map_err(anyhow::Error::from)?,
        None => None,
    };
    let photos = crate::jobs::photos::list(&state.db, order.job_id)
        .await
        .map_err(anyhow::Error::from)?;
    let next = lifecycle::next_steps(order.state, Party::Owner);
    let can_cancel = next.contains(&JobState::Cancelled);
    let steps = next
        .into_iter()
        .filter(|s| *s != JobState::Cancelled)
        .map(|s| (s, step_label(s)))
        .collect();
    let pay_now = order.state == JobState::Accepted;
    let installed =
        order.state.position() >= JobState::Installed.position() && order.state != JobState::Cancelled;
    let rating = match (&crew, installed) {
        (Some(crew), true) => {
            let given = crate::crews::ratings::of_job(&state.db, order.job_id)
                .await
                .map_err(anyhow::Error::from)?;
            let editable = given
                .as_ref()
                .is_none_or(|g| chrono::Utc::now() <= g.editable_until);
            Some(RatingPanel {
                crew: crew.clone(),
                given,
                editable,
            })
        }
        _ => None,
    };
    let page = OrderPage {
        nav: Nav::for_caller("orders", Some(caller)),
        csrf: caller.csrf.clone(),
        price: order.price_cents.whole(),
        deposit: order.deposit_cents.whole(),
        checkout: checkout.filter(|c| c.status != PaymentStatus::Expired),
        pay_now,
        calendar,
        visits,
        lead_hours: state.settings.reschedule_lead_hours,
        unassigned,
        home,
        crew,
        roadmap,
        zone,
        photos,
        steps,
        can_cancel,
        rating,
        order,
        notice,
        error,
    };
    render(status, &page)
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
    paid: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnOrders>,
    IdPath(id): IdPath<OrderId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match (q.notice.as_deref(), q.paid.as_deref()) {
        (_, Some(_)) => {
            Some("Thank you. The deposit shows here as soon as the payment provider confirms it.")
        }
        (Some("booked"), _) => {
            Some("Day booked. We have offered it to a crew; you will hear as soon as one confirms.")
        }
        (Some("moved"), _) => Some("Moved. The new time is below, and we have emailed it to you."),
        (Some("cancelled"), _) => Some(
            "Your order is cancelled. Any booked day is released, and a deposit you paid is refunded in full; we have emailed you the same.",
        ),
        (Some("step"), _) => Some("Done. Your installation moves to its next step, below."),
        (Some("rated"), _) => {
            Some("Thank you. Your rating is saved; the crew sees only its average, not who gave what.")
        }
        (Some("rating-closed"), _) => {
            Some("A rating can be changed for 14 days after it was given; yours is kept as it was.")
        }
        (Some("rating-later"), _) => Some("Your rating could not be saved just now. Please try again."),
        _ => None,
    };
    // Fixed words only: the address cannot put text of its own on the page.
    let error = (q.notice.as_deref() == Some("rating-invalid"))
        .then(|| "Choose from 1 to 5 stars; a comment can be up to 1,000 characters.".to_owned());
    order_page(
        &state,
        &caller,
        &caller.actor(),
        id,
        StatusCode::OK,
        notice,
        error,
    )
    .await
}

async fn deposit(
    State(state): State<AppState>,
    IdPath(id): IdPath<OrderId>,
    SignedInForm(caller, _form): SignedInForm<perm::OwnOrders, CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let order = service::own(&state.db, &actor, caller.user, id).await?;
    match payments::start_deposit(
        &state.db,
        state.payments.as_ref(),
        &actor,
        &order,
        &state.settings.public_url,
    )
    .await
    {
        Ok(checkout) => {
            // A checkout on this server (the development provider) keeps the browser on the
            // host it is using; the provider's own page is reached by its full URL.
            let public = state.settings.public_url.as_str().trim_end_matches('/');
            let target = match checkout.checkout_url.strip_prefix(public) {
                Some(path) if path.starts_with('/') => path.to_owned(),
                _ => checkout.checkout_url,
            };
            Ok(Redirect::to(&target).into_response())
        }
        Err(payments::PaymentError::NotPayable) => {
            let message = Some("There is no deposit to pay on this order.".to_owned());
            order_page(&state, &caller, &actor, id, StatusCode::CONFLICT, None, message).await
        }
        Err(payments::PaymentError::Provider(e)) => {
            tracing::error!(error = %e, "payment provider failed to start a checkout");
            let message = Some("The payment provider is not answering. Nothing was charged; please try again in a few minutes.".to_owned());
            order_page(
                &state,
                &caller,
                &actor,
                id,
                StatusCode::BAD_GATEWAY,
                None,
                message,
            )
            .await
        }
        Err(payments::PaymentError::Internal(e)) => Err(PageError::Internal(e)),
    }
}

#[derive(Deserialize)]
struct BookFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    slot_id: String,
    #[serde(default)]
    confirmed: String,
}

impl CsrfProtected for BookFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn book(
    State(state): State<AppState>,
    IdPath(id): IdPath<OrderId>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnOrders, BookFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let order = service::own(&state.db, &actor, caller.user, id).await?;
    // A slot id that does not parse goes straight on, to be refused with the calendar's words.
    if let (false, Some(slot)) = (confirm::given(&fields.confirmed), Slot::parse(&fields.slot_id)) {
        let kind = slot.kind;
        let day = when_words(slot.day, Some(slot.window));
        return Confirmation {
            nav: Nav::for_caller("orders", Some(&caller)),
            title: format!("Book your {} on {day}?", kind.label()),
            will_happen: vec![
                format!("We offer {day} to a crew that serves your home. A crew confirms within a few hours, and we email you when it does."),
                "The crew arrives within that window and needs to reach the roof and the electricity meter.".to_owned(),
                format!(
                    "You can move it yourself on this page until {} hours before the window starts; after that, our support team can.",
                    state.settings.reschedule_lead_hours
                ),
            ],
            action: format!("/orders/{id}/bookings"),
            fields: vec![("csrf", caller.csrf.clone()), ("slot_id", fields.slot_id.clone())],
            confirm: "Yes, book this time",
            destructive: false,
            back: format!("/orders/{id}#calendar-title"),
            back_label: "Choose another day",
        }
        .page();
    }
    match marketplace::book(&state.db, &state.settings, &actor, &order, &fields.slot_id).await {
        Ok(_) => {
            state.mailer.wake();
            Ok(Redirect::to(&format!("/orders/{id}?notice=booked")).into_response())
        }
        Err(BookingError::Internal(e)) => Err(PageError::Internal(e)),
        Err(e) => {
            let message = match e {
                BookingError::Taken => "That time was just taken. Please choose another.",
                BookingError::AlreadyBooked(_) => "A day is already booked for this step.",
                _ => "That time cannot be booked. Please choose one from the calendar.",
            };
            order_page(
                &state,
                &caller,
                &actor,
                id,
                StatusCode::CONFLICT,
                None,
                Some(message.to_owned()),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct StepFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    confirmed: String,
}

impl CsrfProtected for StepFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn step(
    State(state): State<AppState>,
    IdPath(id): IdPath<OrderId>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnOrders, StepFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let order = service::own(&state.db, &actor, caller.user, id).await?;
    let to: JobState = fields.to.parse().map_err(|_| PageError::BadRequest)?;
    if to == JobState::Cancelled && !confirm::given(&fields.confirmed) {
        return Confirmation {
            nav: Nav::for_caller("orders", Some(&caller)),
            title: "Cancel your order?".to_owned(),
            will_happen: vec![
                format!(
                    "Your order for a {} system ({} panels) ends, and any day booked for it is released.",
                    order.system_kw, order.panels
                ),
                format!(
                    "If you paid the deposit of {}, it is refunded in full.",
                    order.deposit_cents.whole()
                ),
                "This cannot be undone: to go ahead later, you would ask for a new quote.".to_owned(),
            ],
            action: format!("/orders/{id}/step"),
            fields: vec![("csrf", caller.csrf.clone()), ("to", fields.to.clone())],
            confirm: "Yes, cancel the order",
            destructive: true,
            back: format!("/orders/{id}"),
            back_label: "Keep my order",
        }
        .page();
    }
    let job = jobs::of_order(&state.db, order.id)
        .await?
        .ok_or(PageError::NotFound)?;
    let rules = crate::marketplace::StepRules::new(&state.settings);
    match crate::marketplace::step(
        &state.db,
        &actor,
        &job,
        Party::Owner,
        crate::jobs::service::Step::to(to),
        &rules,
    )
    .await
    {
        Ok(_) => {
            state.mailer.wake();
            let notice = if to == JobState::Cancelled {
                "cancelled"
            } else {
                "step"
            };
            Ok(Redirect::to(&format!("/orders/{id}?notice={notice}")).into_response())
        }
        Err(crate::jobs::JobError::Internal(e)) => Err(PageError::Internal(e)),
        Err(e) => {
            let message = Some(sentence(&e.to_string()));
            order_page(&state, &caller, &actor, id, StatusCode::CONFLICT, None, message).await
        }
    }
}

#[derive(Template)]
#[template(path = "orders/move.html")]
struct MovePage {
    nav: Nav,
    csrf: String,
    order: Order,
    visit: Visit,
    days: Vec<Day>,
    lead_hours: u32,
    error: Option<String>,
}

/// The order and the visit the customer asks to move: a visit of this order still to come. A
/// booking that is not this order's is 404, recorded as a refusal.
async fn visit_of(
    state: &AppState,
    actor: &Actor,
    caller: &PageCaller,
    id: OrderId,
    booking_id: BookingId,
) -> Result<(Order, booking::Booking, chrono_tz::Tz), PageError> {
    let order = service::own(&state.db, actor, caller.user, id).await?;
    let found = booking::of_job(&state.db, order.job_id)
        .await
        .map_err(anyhow::Error::from)?
        .into_iter()
        .find(|b| b.id == booking_id);
    let Some(found) = found else {
        let target = booking::booking_target(booking_id);
        crate::access::object::refused(&state.db, actor, target, Permission::OwnOrders).await;
        return Err(PageError::NotFound);
    };
    // A visit that happened, was cancelled or found no crew is not moved here.
    if !(found.status.is_live() && found.kind.pending_in(order.state)) {
        return Err(PageError::NotFound);
    }
    let home = crate::sites::service::own(&state.db, actor, caller.user, order.site_id).await?;
    let zone = crate::catalog::time_zone_of(&state.db, &home.region_id)
        .await
        .map_err(anyhow::Error::from)?;
    Ok((order, found, zone))
}

impl MovePage {
    /// Where the calendar's buttons post.
    fn action(&self) -> String {
        format!("/orders/{}/bookings/{}/move", self.order.id, self.visit.id)
    }
}

async fn render_move(
    state: &AppState,
    caller: &PageCaller,
    actor: &Actor,
    (id, booking_id): (OrderId, BookingId),
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (order, b, zone) = visit_of(state, actor, caller, id, booking_id).await?;
    let visit = Visit::of(&b, &state.settings, zone);
    let days = if visit.movable {
        // The visit's own time is not a choice.
        calendar_days(marketplace::other_times(&state.db, &state.settings, &order, &b).await?)
    } else {
        Vec::new()
    };
    let page = MovePage {
        nav: Nav::for_caller("orders", Some(caller)),
        csrf: caller.csrf.clone(),
        visit,
        order,
        days,
        lead_hours: state.settings.reschedule_lead_hours,
        error,
    };
    render(status, &page)
}

async fn move_page(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnOrders>,
    IdPaths(id, booking_id): IdPaths<OrderId, BookingId>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    render_move(&state, &caller, &actor, (id, booking_id), StatusCode::OK, None).await
}

async fn move_booking(
    State(state): State<AppState>,
    IdPaths(id, booking_id): IdPaths<OrderId, BookingId>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnOrders, BookFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let (order, b, _) = visit_of(&state, &actor, &caller, id, booking_id).await?;
    let back = format!("/orders/{id}/bookings/{booking_id}/move");
    if let (false, Some(slot)) = (confirm::given(&fields.confirmed), Slot::parse(&fields.slot_id)) {
        let to = when_words(slot.day, Some(slot.window));
        let crew_line = if b.status == booking::BookingStatus::Confirmed {
            "If your crew can come then, it keeps your job. If not, we ask other crews that serve your home and email you as soon as one confirms."
        } else {
            "We offer the new time to a crew that serves your home and email you as soon as one confirms."
        };
        return Confirmation {
            nav: Nav::for_caller("orders", Some(&caller)),
            title: format!("Move your {} to {to}?", b.kind.label()),
            will_happen: vec![
                format!("Your current time, {}, is given up.", b.when_words()),
                crew_line.to_owned(),
                "If the new time is taken before you say yes, nothing changes and you can choose another."
                    .to_owned(),
            ],
            action: back.clone(),
            fields: vec![("csrf", caller.csrf.clone()), ("slot_id", fields.slot_id.clone())],
            confirm: "Yes, move it",
            destructive: false,
            back,
            back_label: "Choose another time",
        }
        .page();
    }
    let moved = marketplace::move_booking(
        &state.db,
        &state.settings,
        &actor,
        &order,
        booking_id,
        &fields.slot_id,
        marketplace::MovedBy::Owner,
    )
    .await;
    match moved {
        Ok(_) => {
            state.mailer.wake();
            Ok(Redirect::to(&format!("/orders/{id}?notice=moved")).into_response())
        }
        Err(BookingError::Internal(e)) => Err(PageError::Internal(e)),
        Err(BookingError::NotFound) => Err(PageError::NotFound),
        Err(e) => {
            let message = match e {
                BookingError::Taken => "That time was just taken. Please choose another.".to_owned(),
                BookingError::TooLate => format!(
                    "It is now less than {} hours before your visit, so it cannot be moved here. Our support team can still help.",
                    state.settings.reschedule_lead_hours
                ),
                BookingError::Changed => {
                    "Your visit changed meanwhile. Here it is as it stands now.".to_owned()
                }
                BookingError::NotMovable => "This visit can no longer be moved.".to_owned(),
                _ => "That time cannot be chosen. Please choose one from the calendar.".to_owned(),
            };
            render_move(
                &state,
                &caller,
                &actor,
                (id, booking_id),
                StatusCode::CONFLICT,
                Some(message),
            )
            .await
        }
    }
}
