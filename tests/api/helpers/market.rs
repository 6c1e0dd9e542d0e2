//! Marketplace fixtures: crews with installer members, customers with an accepted quote, and
//! deposits paid the way the provider pays them (a signed webhook).

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::TestApp;
use crate::helpers::roles::Member;

/// The webhook secret every test server is configured with.
pub const WEBHOOK_SECRET: &str = "whsec_test_3f9a1c7e5b2d8f4a6c0e9b1d7f3a5c8e";

/// Greensboro, NC: where test homes are.
pub const HOME: (f64, f64) = (36.0726, -79.7920);

/// A signature header for `body`, made at `at`, with `secret`.
pub fn sign(secret: &str, at: DateTime<Utc>, body: &str) -> String {
    sunbridge::payments::signature::sign(&SecretString::from(secret.to_owned()), at, body.as_bytes())
}

pub struct CrewFixture {
    pub id: String,
    pub installer: Member,
}

impl TestApp {
    /// Every file in the database file store, as `(key, bytes)`, parts joined, by key.
    pub async fn stored_files(&self) -> Vec<(String, Vec<u8>)> {
        use sea_orm::ConnectionTrait;
        use sea_orm::sea_query::{Alias, Order, Query};
        let mut select = Query::select();
        select
            .columns([Alias::new("key"), Alias::new("bytes")])
            .from(Alias::new("stored_files"))
            .order_by(Alias::new("key"), Order::Asc)
            .order_by(Alias::new("part"), Order::Asc);
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for row in self.db.query_all(&select).await.unwrap() {
            let key: String = row.try_get("", "key").unwrap();
            let bytes: Vec<u8> = row.try_get("", "bytes").unwrap();
            match files.last_mut() {
                Some((last, joined)) if *last == key => joined.extend(bytes),
                _ => files.push((key, bytes)),
            }
        }
        files
    }

    /// A company and a crew based at `base` with one installer member (signed in, TOTP on).
    pub async fn crew(
        &self,
        admin: &Member,
        name: &str,
        base: (f64, f64),
        capacity: i32,
        skills: &[&str],
    ) -> CrewFixture {
        let company: Value = self
            .api(
                "POST",
                "/api/v1/admin/companies",
                &admin.token,
                Some(json!({"name": format!("{name} Solar LLC")})),
            )
            .await
            .json()
            .await
            .unwrap();
        let response = self
            .api(
                "POST",
                "/api/v1/admin/crews",
                &admin.token,
                Some(json!({
                    "company_id": company["id"], "name": name,
                    "base_latitude": base.0, "base_longitude": base.1, "service_radius_km": 80.0,
                    "skills": skills, "daily_capacity": capacity,
                    "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                })),
            )
            .await;
        assert_eq!(response.status(), 201, "crew created");
        let crew: Value = response.json().await.unwrap();
        let id = crew["id"].as_str().unwrap().to_owned();
        let email = format!("{}@crews.example", name.to_lowercase().replace(' ', "-"));
        let installer = self.member(&email, Role::Installer).await;
        let joined = self
            .api(
                "POST",
                &format!("/api/v1/admin/crews/{id}/members"),
                &admin.token,
                Some(json!({"user_id": installer.id.to_string()})),
            )
            .await;
        assert_eq!(joined.status(), 204, "installer joined the crew");
        CrewFixture { id, installer }
    }

    /// A customer's home in Greensboro with 10,000 kWh a year, and its quote.
    pub async fn quoted_customer(&self, email: &str, options: &[&str]) -> (Member, String) {
        let customer = self.member(email, Role::Customer).await;
        let home = json!({
            "label": "Home", "address": "1200 Elm Street, Greensboro NC 27401",
            "latitude": HOME.0, "longitude": HOME.1, "region_id": "us-nc-piedmont",
            "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30
        });
        let (_, quote) = self.quoted_home(&customer, home, 10_000.0, options).await;
        let id = quote["id"].as_str().unwrap().to_owned();
        (customer, id)
    }

    /// Adds `home` (a site body) for `customer` with `annual_kwh` a year of usage and quotes
    /// it with `options`; answers the site id and the quote.
    pub async fn quoted_home(
        &self,
        customer: &Member,
        home: Value,
        annual_kwh: f64,
        options: &[&str],
    ) -> (String, Value) {
        let response = self
            .api("POST", "/api/v1/sites", &customer.token, Some(home))
            .await;
        assert_eq!(response.status(), 201, "home added");
        let site: Value = response.json().await.unwrap();
        let site = site["id"].as_str().unwrap().to_owned();
        let usage = self
            .api(
                "POST",
                &format!("/api/v1/sites/{site}/usage"),
                &customer.token,
                Some(json!({"annual_kwh": annual_kwh})),
            )
            .await;
        assert_eq!(usage.status(), 201);
        let response = self
            .api(
                "POST",
                "/api/v1/quotes",
                &customer.token,
                Some(json!({"site_id": site, "options": options})),
            )
            .await;
        assert_eq!(response.status(), 201, "quoted");
        (site, response.json().await.unwrap())
    }

    /// Accepts the quote and answers the order.
    pub async fn accept(&self, customer: &Member, quote: &str) -> Value {
        let response = self
            .api(
                "POST",
                &format!("/api/v1/quotes/{quote}/accept"),
                &customer.token,
                None,
            )
            .await;
        assert_eq!(response.status(), 201, "quote accepted");
        response.json().await.unwrap()
    }

    /// Starts the deposit checkout and answers (checkout id, payment id, amount).
    pub async fn start_deposit(&self, customer: &Member, order: &str) -> (String, String, i64) {
        let response = self
            .api(
                "POST",
                &format!("/api/v1/orders/{order}/deposit"),
                &customer.token,
                None,
            )
            .await;
        assert_eq!(response.status(), 201, "checkout started");
        let checkout: Value = response.json().await.unwrap();
        let url = checkout["checkout_url"].as_str().unwrap();
        let checkout_id = url.rsplit('/').next().unwrap().to_owned();
        (
            checkout_id,
            checkout["payment_id"].as_str().unwrap().to_owned(),
            checkout["amount_cents"].as_i64().unwrap(),
        )
    }

    /// Posts `body` to the payment webhook with `signature`.
    pub async fn webhook(&self, body: &str, signature: Option<String>) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/api/v1/webhooks/payments"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send().await.unwrap()
    }

    /// Pays the order's deposit through a signed webhook, as the provider does.
    pub async fn pay_deposit(&self, customer: &Member, order: &str) {
        let (checkout, payment, amount) = self.start_deposit(customer, order).await;
        let body = paid_event(
            &format!("evt_{}", uuid::Uuid::new_v4().simple()),
            &checkout,
            &payment,
            amount,
        );
        let response = self
            .webhook(&body, Some(sign(WEBHOOK_SECRET, Utc::now(), &body)))
            .await;
        assert_eq!(response.status(), 200, "deposit webhook accepted");
    }

    /// The job's state as its owner sees it.
    pub async fn job_state(&self, member: &Member, job: &str) -> String {
        let detail: Value = self
            .api("GET", &format!("/api/v1/jobs/{job}"), &member.token, None)
            .await
            .json()
            .await
            .unwrap();
        detail["state"].as_str().unwrap_or("").to_owned()
    }

    /// The first free slot of `kind` for the order.
    pub async fn first_slot(&self, customer: &Member, order: &str, kind: &str) -> String {
        let days = self.as_member(customer).orders().free_days(order, kind).await;
        let days = days.unwrap_or_else(|p| panic!("free {kind} days: {p:?}"));
        days.first()
            .unwrap_or_else(|| panic!("no free {kind} slot"))
            .id
            .clone()
    }

    /// The visit's day has come: the job's confirmed day of `kind` moves to yesterday (a test
    /// cannot wait for the calendar; the home's zone is behind UTC at most a day).
    pub async fn day_comes(&self, job: &str, kind: &str) {
        use sea_orm::ConnectionTrait;
        use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
        let yesterday = Utc::now().date_naive() - chrono::TimeDelta::days(1);
        let job = uuid::Uuid::parse_str(job).unwrap();
        let mut update = Query::update();
        update
            .table(Alias::new("bookings"))
            .value(Alias::new("day"), yesterday)
            .and_where(Expr::col(Alias::new("job_id")).eq(job))
            .and_where(Expr::col(Alias::new("kind")).eq(kind))
            .and_where(Expr::col(Alias::new("status")).eq("confirmed"));
        let moved = self.db.execute(&update).await.unwrap();
        assert_eq!(moved.rows_affected(), 1, "one confirmed {kind} day");
    }

    /// The crew's photo of `subject` for the job, as the phone sends it; answers the stored
    /// photo and the status (201 new, 200 a replay of `key`).
    pub async fn photo(
        &self,
        installer: &Member,
        job: &str,
        subject: &str,
        key: Option<&str>,
    ) -> (u16, Value) {
        let form = reqwest::multipart::Form::new()
            .text("subject", subject.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(small_png()).file_name("p.png"),
            );
        let mut request = self
            .client
            .post(self.url(&format!("/api/v1/jobs/{job}/photos")))
            .bearer_auth(&installer.token)
            .multipart(form);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// The visit done: its day has come and the crew took the photos the step needs by
    /// default (survey: roof and meter; installation: array, inverter, labels).
    pub async fn visit_done(&self, installer: &Member, job: &str, kind: &str) {
        self.day_comes(job, kind).await;
        let subjects: &[&str] = match kind {
            "survey" => &["roof", "meter"],
            _ => &["array", "inverter", "labels"],
        };
        for subject in subjects {
            let (status, body) = self.photo(installer, job, subject, None).await;
            assert_eq!(status, 201, "{subject} photo: {body}");
        }
    }

    /// Moves a job one step as `member`, expecting success. The survey and the installation
    /// are recorded after their visit (`visit_done`).
    pub async fn step(&self, member: &Member, job: &str, to: &str) -> Value {
        match to {
            "surveyed" => self.visit_done(member, job, "survey").await,
            "installed" => self.visit_done(member, job, "install").await,
            _ => {}
        }
        let response = self
            .api(
                "POST",
                &format!("/api/v1/jobs/{job}/transitions"),
                &member.token,
                Some(json!({"to": to})),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{} → {to}: {body}", member.email);
        body
    }

    /// Books the first free slot of `kind` for the order, expecting success.
    pub async fn book_first_slot(&self, customer: &Member, order: &str, kind: &str) {
        let slot = self.first_slot(customer, order, kind).await;
        let booked = self.as_member(customer).orders().book(order, &slot).await;
        let booked = booked.unwrap_or_else(|p| panic!("{kind} booked: {p:?}"));
        assert_eq!((booked.kind.as_str(), booked.status.as_str()), (kind, "offered"));
    }

    /// The installer's crew accepts its first open offer; answers the offer.
    pub async fn accept_first_offer(&self, installer: &Member) -> Value {
        let offer = self.offers(installer).await[0].clone();
        let id = offer["id"].as_str().unwrap();
        let accepted = self.as_member(installer).offers().accept(id).await;
        accepted.unwrap_or_else(|p| panic!("offer accepted: {p:?}"));
        offer
    }

    /// The open offers of the installer's crew.
    pub async fn offers(&self, installer: &Member) -> Vec<Value> {
        let offers: Value = self
            .api("GET", "/api/v1/installer/offers", &installer.token, None)
            .await
            .json()
            .await
            .unwrap();
        offers["items"].as_array().unwrap().clone()
    }
}

/// A 16 × 16 PNG: a photo small enough to send many of.
pub fn small_png() -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(16, 16, image::Rgb([90, 120, 200])));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A paid `checkout.session.completed` event in Stripe's shape.
pub fn paid_event(event_id: &str, checkout: &str, payment: &str, amount: i64) -> String {
    json!({
        "id": event_id,
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": checkout, "amount_total": amount, "currency": "usd",
            "payment_status": "paid", "client_reference_id": payment
        }}
    })
    .to_string()
}
