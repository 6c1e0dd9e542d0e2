//! Typed clients, one per resource, as a mobile app holds them: requests and answers are
//! types, and a refusal is a `Problem`. A test that deserializes an answer fails when a field
//! is renamed or retyped; a test that reads `body["field"]` only fails where it looks.
//!
//! The types mirror the API document, not the server's structs (the tests are a client like
//! any other); unknown fields are ignored, since the contract allows additions. A field no
//! test reads still earns its place: deserializing fails when it is missing or retyped. So
//! does a call no test makes yet: the client covers the resource, not today's tests.
#![allow(dead_code)]

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::TestApp;
use super::roles::Member;

/// A refusal: the status and the problem's `code` (RFC 9457 body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: u16,
    pub code: String,
}

pub type Answer<T> = Result<T, Problem>;

/// One page of a list: at most `limit` items, and a cursor while more remain.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A home, as the customer adds it.
#[derive(Debug, Clone, Serialize)]
pub struct NewSite {
    pub label: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub region_id: String,
    pub roof_tilt_deg: f64,
    pub roof_azimuth_deg: f64,
    pub max_panels: i32,
}

impl NewSite {
    /// A home in Greensboro, NC, facing south, with room for 30 panels.
    pub fn greensboro(label: &str, street: &str) -> Self {
        Self {
            label: label.to_owned(),
            address: format!("{street}, Greensboro NC 27401"),
            latitude: 36.0726,
            longitude: -79.7920,
            region_id: "us-nc-piedmont".to_owned(),
            roof_tilt_deg: 25.0,
            roof_azimuth_deg: 180.0,
            max_panels: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Site {
    pub id: String,
    pub label: String,
    pub address: String,
    pub region_id: String,
    pub max_panels: i32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Quote {
    pub id: String,
    pub site_id: String,
    pub version: i32,
    pub system_kw: f64,
    pub panels: u32,
    pub price_cents: i64,
    pub deposit_cents: i64,
    pub net_cost_cents: i64,
    pub annual_production_kwh: f64,
    pub payback_year: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: String,
    pub quote_id: String,
    pub site_id: String,
    pub job_id: String,
    pub state: String,
    pub price_cents: i64,
    pub deposit_cents: i64,
    pub currency: String,
    pub system_kw: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Slot {
    pub id: String,
    pub kind: String,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Booking {
    pub id: String,
    pub job_id: String,
    pub kind: String,
    pub date: NaiveDate,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Offer {
    pub id: String,
    pub job_id: String,
    pub kind: String,
    pub date: NaiveDate,
    pub status: String,
    pub distance_km: f64,
}

/// Where a list page starts and how long it is.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn first(limit: u64) -> Self {
        Self {
            limit: Some(limit),
            cursor: None,
        }
    }

    fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(limit) = self.limit {
            parts.push(format!("limit={limit}"));
        }
        if let Some(cursor) = &self.cursor {
            parts.push(format!("cursor={cursor}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// The API as one signed-in member calls it.
pub struct Api<'a> {
    app: &'a TestApp,
    token: &'a str,
}

impl TestApp {
    /// The API as `member` calls it.
    pub fn as_member<'a>(&'a self, member: &'a Member) -> Api<'a> {
        Api {
            app: self,
            token: &member.token,
        }
    }
}

impl<'a> Api<'a> {
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        expect: u16,
    ) -> Answer<T> {
        let response = self.app.api(method, path, self.token, body).await;
        let status = response.status().as_u16();
        let text = response.text().await.expect("an answer body");
        if status == expect {
            // A 204 has no body: read it as JSON null.
            let text = if text.is_empty() { "null" } else { &text };
            return Ok(serde_json::from_str(text).unwrap_or_else(|e| {
                panic!("{method} {path}: {e}: the answer does not match its type: {text}")
            }));
        }
        let problem: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: {status} without a problem body: {text}"));
        Err(Problem {
            status,
            code: problem["code"].as_str().unwrap_or_default().to_owned(),
        })
    }

    pub fn sites(&self) -> Sites<'_> {
        Sites(self)
    }

    pub fn quotes(&self) -> Quotes<'_> {
        Quotes(self)
    }

    pub fn orders(&self) -> Orders<'_> {
        Orders(self)
    }

    pub fn offers(&self) -> Offers<'_> {
        Offers(self)
    }
}

/// `/api/v1/sites`: the customer's homes and their usage.
pub struct Sites<'a>(&'a Api<'a>);

impl Sites<'_> {
    pub async fn add(&self, site: &NewSite) -> Answer<Site> {
        let body = serde_json::to_value(site).expect("a site body");
        self.0.call("POST", "/api/v1/sites", Some(body), 201).await
    }

    pub async fn list(&self, page: &PageQuery) -> Answer<Page<Site>> {
        let path = format!("/api/v1/sites{}", page.to_query());
        self.0.call("GET", &path, None, 200).await
    }

    /// A year of usage typed as one figure.
    pub async fn add_annual_usage(&self, site: &str, annual_kwh: f64) -> Answer<serde_json::Value> {
        let path = format!("/api/v1/sites/{site}/usage");
        self.0
            .call("POST", &path, Some(json!({ "annual_kwh": annual_kwh })), 201)
            .await
    }
}

/// `/api/v1/quotes`.
pub struct Quotes<'a>(&'a Api<'a>);

impl Quotes<'_> {
    pub async fn create(&self, site: &str, options: &[&str]) -> Answer<Quote> {
        let body = json!({ "site_id": site, "options": options });
        self.0.call("POST", "/api/v1/quotes", Some(body), 201).await
    }

    pub async fn list(&self, page: &PageQuery) -> Answer<Page<Quote>> {
        let path = format!("/api/v1/quotes{}", page.to_query());
        self.0.call("GET", &path, None, 200).await
    }

    /// Accepting a quote makes its order.
    pub async fn accept(&self, quote: &str) -> Answer<Order> {
        let path = format!("/api/v1/quotes/{quote}/accept");
        self.0.call("POST", &path, None, 201).await
    }
}

/// `/api/v1/orders`: orders, their free days and bookings.
pub struct Orders<'a>(&'a Api<'a>);

impl Orders<'_> {
    pub async fn list(&self, page: &PageQuery) -> Answer<Page<Order>> {
        let path = format!("/api/v1/orders{}", page.to_query());
        self.0.call("GET", &path, None, 200).await
    }

    /// Free days of `kind` (`survey` or `install`).
    pub async fn free_days(&self, order: &str, kind: &str) -> Answer<Vec<Slot>> {
        #[derive(Deserialize)]
        struct Days {
            items: Vec<Slot>,
        }
        let path = format!("/api/v1/orders/{order}/slots?kind={kind}");
        let days: Days = self.0.call("GET", &path, None, 200).await?;
        Ok(days.items)
    }

    pub async fn book(&self, order: &str, slot: &str) -> Answer<Booking> {
        let path = format!("/api/v1/orders/{order}/bookings");
        self.0
            .call("POST", &path, Some(json!({ "slot_id": slot })), 201)
            .await
    }
}

/// `/api/v1/installer/offers`: the offers made to the caller's crew.
pub struct Offers<'a>(&'a Api<'a>);

impl Offers<'_> {
    pub async fn open(&self) -> Answer<Vec<Offer>> {
        let page: Page<Offer> = self.0.call("GET", "/api/v1/installer/offers", None, 200).await?;
        Ok(page.items)
    }

    pub async fn accept(&self, offer: &str) -> Answer<()> {
        let path = format!("/api/v1/installer/offers/{offer}/accept");
        self.0.call("POST", &path, None, 204).await
    }

    pub async fn decline(&self, offer: &str) -> Answer<()> {
        let path = format!("/api/v1/installer/offers/{offer}/decline");
        self.0.call("POST", &path, None, 204).await
    }
}
