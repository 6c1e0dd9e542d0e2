//! The demo marketplace: two installer companies with three crews (areas, skills, capacity,
//! a day off), the demo installer in the first crew, and one sample home of the demo customer
//! at every step of the job, from a fresh order to a cancelled one. Every sample is made
//! through the same services a real order goes through (quote, accept, a signed deposit
//! event, booking, the crew's answer, each step by its party), so its timeline, audit rows and
//! emails are real. Seeded once: a second run finds the crews and stops.

use crate::jobs::service::Step;
use chrono::{TimeDelta, Utc};

use crate::access::Role;
use crate::audit::{Actor, Origin};
use crate::crews::model::NewCrew;
use crate::crews::service::{self as crews, NewCompany};
use crate::ids::{CompanyId, CrewId, UserId};
use crate::jobs::lifecycle::{JobState, Party};
use crate::jobs::service as jobs;
use crate::payments::provider::{Dev, PaymentProvider};
use crate::scheduling::booking::{self, BookingRequest, Rules};
use crate::scheduling::slots::{self, Need, Window};
use crate::scheduling::{Kind, dispatch};
use crate::sites::model::SiteForm;
use crate::sites::service::{self as sites, UsageInput};
use crate::state::AppState;

/// Greensboro, NC: the demo homes and the first crews.
const GREENSBORO: (f64, f64) = (36.0726, -79.7920);

/// The steps after the deposit, each with who takes it (bookings are made in between).
const STEPS: [(JobState, Party); 9] = [
    (JobState::Surveyed, Party::AssignedCrew),
    (JobState::DesignApproved, Party::Owner),
    (JobState::PermitSubmitted, Party::AssignedCrew),
    (JobState::PermitApproved, Party::Staff),
    (JobState::InstallScheduled, Party::System),
    (JobState::Installed, Party::AssignedCrew),
    (JobState::InspectionPassed, Party::AssignedCrew),
    (JobState::PtoGranted, Party::Staff),
    (JobState::Active, Party::Owner),
];

fn as_user(user: UserId, role: Role) -> Actor {
    Actor {
        user_id: Some(user),
        role: Some(role),
        origin: Origin::Cli,
        client_ip: None,
        request_id: None,
    }
}

async fn user(state: &AppState, email: &str) -> anyhow::Result<UserId> {
    crate::auth::id_by_email(&state.db, email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo account {email} is missing"))
}

pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    if !crews::crews(&state.db, false).await?.is_empty() {
        eprintln!("Demo crews exist already; the marketplace is not seeded again.");
        return Ok(());
    }
    let admin = user(state, super::ADMIN).await?;
    let installer = user(state, super::INSTALLER).await?;
    let customer = user(state, super::CUSTOMER).await?;
    let admin_actor = as_user(admin, Role::Admin);

    let crew_a = seed_crews(state, &admin_actor).await?;
    crews::add_member(&state.db, &admin_actor, crew_a, installer).await?;

    let samples: Vec<JobState> = JobState::ALL.to_vec();
    for target in &samples {
        sample_order(state, *target, customer, installer, admin).await?;
    }
    eprintln!(
        "Demo marketplace: 3 crews ({} is in Piedmont Crew A) and {} sample orders of {} (one at each step).",
        super::INSTALLER,
        samples.len(),
        super::CUSTOMER
    );
    Ok(())
}

async fn seed_crews(state: &AppState, admin: &Actor) -> anyhow::Result<CrewId> {
    let piedmont = crews::add_company(
        &state.db,
        admin,
        NewCompany {
            name: "Piedmont Solar Co.".into(),
        },
    )
    .await?;
    let aleutian = crews::add_company(
        &state.db,
        admin,
        NewCompany {
            name: "Aleutian Power".into(),
        },
    )
    .await?;
    let crew = |company: CompanyId,
                name: &str,
                base: (f64, f64, f64),
                capacity: i32,
                skills: &[&str],
                days: &[&str]| NewCrew {
        company_id: company,
        name: name.into(),
        base_latitude: base.0,
        base_longitude: base.1,
        service_radius_km: base.2,
        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        daily_capacity: capacity,
        working_days: days.iter().map(|s| (*s).to_owned()).collect(),
        arrival_windows: None,
    };
    let a = crews::add_crew(
        &state.db,
        admin,
        crew(
            piedmont.id,
            "Piedmont Crew A",
            (36.10, -79.82, 80.0),
            2,
            &["battery", "ev_charger"],
            &[],
        ),
    )
    .await?;
    let b = crews::add_crew(
        &state.db,
        admin,
        crew(
            piedmont.id,
            "Triad Crew B",
            // Winston-Salem, 25 km around: not the demo homes, so the samples stay Crew A's.
            (36.0999, -80.2442, 25.0),
            1,
            &["tile_roof"],
            &["mon", "tue", "wed", "thu", "fri", "sat"],
        ),
    )
    .await?;
    crews::add_crew(
        &state.db,
        admin,
        crew(
            aleutian.id,
            "Sand Point Crew",
            (55.34, -160.50, 150.0),
            1,
            &[],
            &[],
        ),
    )
    .await?;
    // Crew B is off a week from today.
    let off = Utc::now().date_naive() + TimeDelta::days(7);
    crews::set_day_off(&state.db, admin, b.id, off, true).await?;
    Ok(a.id)
}

/// One demo home whose order stands at `target`.
async fn sample_order(
    state: &AppState,
    target: JobState,
    customer: UserId,
    installer: UserId,
    admin: UserId,
) -> anyhow::Result<()> {
    let db = &state.db;
    let url = &state.settings.public_url;
    let owner = as_user(customer, Role::Customer);
    let crew = as_user(installer, Role::Installer);
    let staff = as_user(admin, Role::Admin);
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("demo sample at {target}: {e}");

    let site = sites::create(
        db,
        &owner,
        customer,
        SiteForm {
            label: format!("Sample: {}", target.label()),
            address: format!("{} Sample Street, Greensboro NC 27401", 100 + target.position()),
            // The region comes from the ZIP code, as it does for a customer.
            postal_code: Some("27401".into()),
            latitude: Some(GREENSBORO.0),
            longitude: Some(GREENSBORO.1),
            region_id: None,
            roof_tilt_deg: 25.0,
            roof_azimuth_deg: 180.0,
            max_panels: Some(30),
        },
    )
    .await
    .map_err(|e| err(&e))?;
    sites::import_usage(db, &owner, customer, site.id, UsageInput::Annual(10_000.0))
        .await
        .map_err(|e| err(&e))?;
    let quote = crate::quotes::service::create(
        db,
        state.pvwatts_api.as_deref(),
        &owner,
        customer,
        crate::quotes::service::QuoteRequest {
            site_id: site.id,
            offset_percent: None,
            panel_id: None,
            options: Vec::new(),
        },
    )
    .await
    .map_err(|e| err(&e))?;
    let (order, _) = crate::orders::service::accept(
        db,
        &owner,
        customer,
        true,
        quote.id,
        state.settings.quote_valid_days,
        url,
    )
    .await
    .map_err(|e| err(&e))?;
    if target == JobState::Accepted {
        return Ok(());
    }
    if target == JobState::Cancelled {
        let job = job_of(state, &order).await?;
        let rules = crate::marketplace::StepRules::new(&state.settings);
        crate::marketplace::step(
            db,
            &owner,
            &job,
            Party::Owner,
            Step::to(JobState::Cancelled),
            &rules,
        )
        .await
        .map_err(|e| err(&e))?;
        return Ok(());
    }
    // The deposit: the development provider's signed event, through the real webhook path.
    let dev = Dev {
        public_url: url.clone(),
    };
    let checkout =
        crate::payments::service::start_deposit(db, &dev as &dyn PaymentProvider, &owner, &order, url)
            .await
            .map_err(|e| err(&e))?;
    let checkout_id = checkout
        .checkout_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let event = crate::payments::service::paid_event(
        &checkout_id,
        checkout.payment_id,
        checkout.amount_cents,
        &checkout.currency,
    );
    let body = serde_json::to_vec(&event)?;
    let now = Utc::now();
    let header = crate::payments::signature::sign(&state.webhook_secret, now, &body);
    crate::payments::service::receive(
        db,
        &Actor::system(),
        &state.webhook_secret,
        Some(&header),
        &body,
        now,
        url,
    )
    .await
    .map_err(|e| err(&e))?;
    if target == JobState::DepositPaid {
        return Ok(());
    }
    book_and_accept(state, &order, Kind::Survey, installer).await?;
    if target == JobState::SurveyScheduled {
        return Ok(());
    }
    // The seed plays each job's days ahead: a step is recorded as if its booked day had come
    // (the booking window ends `booking_horizon_days` from now).
    let mut rules = crate::marketplace::StepRules::new(&state.settings);
    rules.now += TimeDelta::days(i64::from(state.settings.booking_horizon_days) + 1);
    for (to, party) in STEPS {
        // The crew's photos for the step, through the same checks and sealing as an upload.
        let required = match to {
            JobState::Surveyed => rules.survey_photos,
            JobState::Installed => rules.install_photos,
            _ => &[],
        };
        for subject in required {
            let job = job_of(state, &order).await?;
            let photo = crate::jobs::photos::NewPhoto {
                kind: None,
                subject: *subject,
                key: None,
                raw: roof_picture()?,
            };
            crate::jobs::photos::upload(
                db,
                &state.files,
                &crew,
                &job,
                photo,
                state.settings.photo_limit_bytes,
            )
            .await
            .map_err(|e| err(&e))?;
        }
        if to == JobState::InstallScheduled {
            book_and_accept(state, &order, Kind::Install, installer).await?;
        } else {
            let job = job_of(state, &order).await?;
            let actor = match party {
                Party::Owner => &owner,
                Party::AssignedCrew => &crew,
                _ => &staff,
            };
            crate::marketplace::step(db, actor, &job, party, Step::to(to), &rules)
                .await
                .map_err(|e| err(&e))?;
        }
        if to == target {
            break;
        }
    }
    Ok(())
}

/// A drawn roof under a sky (640 × 480 JPEG): the demo's survey photo.
fn roof_picture() -> anyhow::Result<Vec<u8>> {
    let picture = image::RgbImage::from_fn(640, 480, |x, y| {
        // The roof's ridge runs from (0, 300) up to (320, 140) and down to (640, 300).
        let ridge = 300 - (140 * (320 - x.abs_diff(320)) / 320);
        if y < ridge {
            image::Rgb([110 + (y / 4) as u8, 160 + (y / 6) as u8, 230])
        } else if (x / 40 + y / 30) % 2 == 0 {
            image::Rgb([40, 52, 80])
        } else {
            image::Rgb([52, 66, 98])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture).write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

async fn job_of(state: &AppState, order: &crate::orders::service::Order) -> anyhow::Result<jobs::Job> {
    jobs::of_order(&state.db, order.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo order without a job"))
}

/// Books the first free day of `kind` for the order and has the demo installer accept it.
async fn book_and_accept(
    state: &AppState,
    order: &crate::orders::service::Order,
    kind: Kind,
    installer: UserId,
) -> anyhow::Result<()> {
    let db = &state.db;
    let s = &state.settings;
    let rules = Rules {
        window: Window::from_today(
            Utc::now().date_naive(),
            s.booking_lead_days,
            s.booking_horizon_days,
        ),
        offer_timeout: s.market().offer_timeout,
    };
    let site = sites::by_id(db, order.site_id).await?;
    let need = Need {
        kind,
        at: (site.latitude, site.longitude),
        battery: order.needs_battery,
    };
    let job = job_of(state, order).await?;
    let owner = as_user(order.owner_id, Role::Customer);
    let crew_actor = as_user(installer, Role::Installer);
    let crew = crews::crew_of(db, installer)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo installer is in no crew"))?;
    // Only the demo installer's crew serves the demo homes, so the first free day is offered
    // to it.
    if let Some(slot) = slots::free(db, need, &site.region_id, rules.window)
        .await?
        .into_iter()
        .next()
    {
        let booked = booking::book(
            db,
            &owner,
            &BookingRequest {
                job: &job,
                need,
                region: &site.region_id,
                slot_id: &slot.id,
            },
            rules,
            &s.public_url,
        )
        .await?;
        if booked.crew_id == Some(crew) {
            let offer = dispatch::open_for(db, crew)
                .await?
                .into_iter()
                .find(|o| o.job_id == job.id)
                .ok_or_else(|| anyhow::anyhow!("the demo offer is missing"))?;
            dispatch::respond(
                db,
                &crew_actor,
                installer,
                offer.id,
                true,
                rules.offer_timeout,
                &s.public_url,
            )
            .await?;
            return Ok(());
        }
        return Err(anyhow::anyhow!(
            "the demo booking went to another crew; the demo crews' areas overlap"
        ));
    }
    Err(anyhow::anyhow!("no free {} day for the demo", kind.label()))
}
