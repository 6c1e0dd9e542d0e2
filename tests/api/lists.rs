//! Every owned list comes in pages with a server maximum: homes (oldest first), quotes and
//! orders (newest first) answer at most `limit` (1 to 100) items and a `next_cursor` while
//! more remain; the pages together hold each item once; another customer's items never show.

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::{TestApp, spawn_app};
use crate::helpers_roles::{Member, problem_code};

fn home(n: usize) -> Value {
    json!({
        "label": format!("Home {n}"),
        "address": format!("{n} Elm Street, Greensboro NC 27401"),
        "latitude": 36.07, "longitude": -79.79, "region_id": "us-nc-piedmont",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 24
    })
}

/// Every page of `path` at `limit` items, following `next_cursor`: the ids in order.
async fn all_pages(app: &TestApp, member: &Member, path: &str, limit: u64) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let response = app.api("GET", &url, &member.token, None).await;
        assert_eq!(response.status(), 200, "{url}");
        let body: Value = response.json().await.unwrap();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() as u64 <= limit, "{url}: {} items", items.len());
        pages += 1;
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len() as u64, limit, "only a full page names a next one");
                cursor = Some(next.to_owned());
            }
            None => return (ids, pages),
        }
    }
}

#[tokio::test]
async fn homes_quotes_and_orders_come_in_pages_with_each_item_once() {
    let app = spawn_app().await;
    let customer = app.member("paula@example.com", Role::Customer).await;
    let neighbour = app.member("ned@example.com", Role::Customer).await;
    app.quoted_home(&neighbour, home(99), 9_000.0, &[]).await;

    let mut homes = Vec::new();
    let mut quotes = Vec::new();
    for n in 1..=3 {
        let (site, quote) = app.quoted_home(&customer, home(n), 8_000.0 + n as f64, &[]).await;
        homes.push(site);
        quotes.push(quote["id"].as_str().unwrap().to_owned());
    }
    let mut orders = Vec::new();
    for quote in &quotes {
        orders.push(
            app.accept(&customer, quote).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    // Homes oldest first; quotes and orders newest first.
    let (ids, pages) = all_pages(&app, &customer, "/api/v1/sites", 2).await;
    assert_eq!((ids, pages), (homes.clone(), 2));
    let newest_first = |mut v: Vec<String>| {
        v.reverse();
        v
    };
    let (ids, pages) = all_pages(&app, &customer, "/api/v1/quotes", 2).await;
    assert_eq!((ids, pages), (newest_first(quotes.clone()), 2));
    let (ids, pages) = all_pages(&app, &customer, "/api/v1/orders", 1).await;
    assert_eq!((ids, pages), (newest_first(orders.clone()), 3));
    // One page when it all fits: no cursor.
    let (ids, pages) = all_pages(&app, &customer, "/api/v1/orders", 100).await;
    assert_eq!((ids.len(), pages), (3, 1));

    // The neighbour sees only their own.
    let (ids, _) = all_pages(&app, &neighbour, "/api/v1/sites", 100).await;
    assert_eq!(ids.len(), 1);
    assert!(!homes.contains(&ids[0]));

    // Outside 1..=100, or a cursor that is not one: refused, not quietly answered.
    for path in ["/api/v1/sites", "/api/v1/quotes", "/api/v1/orders"] {
        for limit in ["0", "101"] {
            let response = app
                .api("GET", &format!("{path}?limit={limit}"), &customer.token, None)
                .await;
            assert_eq!(problem_code(response).await.0, 422, "{path} limit {limit}");
        }
        let response = app
            .api("GET", &format!("{path}?cursor=yesterday"), &customer.token, None)
            .await;
        assert_eq!(problem_code(response).await.0, 400, "{path} bad cursor");
    }
}
