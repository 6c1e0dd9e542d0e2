//! Every owned list comes in pages with a server maximum: homes (oldest first), quotes and
//! orders (newest first) answer at most `limit` (1 to 100) items and a `next_cursor` while
//! more remain; the pages together hold each item once; another customer's items never show.

use std::future::Future;

use sunbridge::access::Role;

use crate::helpers::client::{Answer, NewSite, Page, PageQuery};
use crate::helpers::spawn_app;

/// Every page of a list at `limit` items, following `next_cursor`: the ids in order, and how
/// many pages it took.
async fn all_pages<T, F, Fut>(limit: u64, mut fetch: F, id: impl Fn(&T) -> String) -> (Vec<String>, usize)
where
    F: FnMut(PageQuery) -> Fut,
    Fut: Future<Output = Answer<Page<T>>>,
{
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut query = PageQuery::first(limit);
    loop {
        let page = fetch(query.clone())
            .await
            .unwrap_or_else(|p| panic!("page {pages} of {limit}: {p:?}"));
        assert!(page.items.len() as u64 <= limit, "{} items", page.items.len());
        pages += 1;
        ids.extend(page.items.iter().map(&id));
        match page.next_cursor {
            Some(next) => {
                assert_eq!(
                    page.items.len() as u64,
                    limit,
                    "only a full page names a next one"
                );
                query.cursor = Some(next);
            }
            None => return (ids, pages),
        }
    }
}

fn home(n: usize) -> NewSite {
    let mut home = NewSite::greensboro(&format!("Home {n}"), &format!("{n} Elm Street"));
    home.max_panels = 24;
    home
}

#[tokio::test]
async fn homes_quotes_and_orders_come_in_pages_with_each_item_once() {
    let app = spawn_app().await;
    let customer = app.member("paula@example.com", Role::Customer).await;
    let neighbour = app.member("ned@example.com", Role::Customer).await;
    let (api, other) = (&app.as_member(&customer), &app.as_member(&neighbour));
    let theirs = other.sites().add(&home(99)).await.unwrap();

    let mut homes = Vec::new();
    let mut quotes = Vec::new();
    for n in 1..=3 {
        let site = api.sites().add(&home(n)).await.unwrap();
        api.sites()
            .add_annual_usage(&site.id, 8_000.0 + n as f64)
            .await
            .unwrap();
        let quote = api.quotes().create(&site.id, &[]).await.unwrap();
        assert_eq!(quote.site_id, site.id);
        homes.push(site.id);
        quotes.push(quote.id);
    }
    let mut orders = Vec::new();
    for quote in &quotes {
        let order = api.quotes().accept(quote).await.unwrap();
        assert_eq!(
            (order.quote_id.as_str(), order.state.as_str()),
            (quote.as_str(), "accepted")
        );
        orders.push(order.id);
    }

    // Homes oldest first; quotes and orders newest first.
    let newest_first = |mut v: Vec<String>| {
        v.reverse();
        v
    };
    let sites = |q| async move { api.sites().list(&q).await };
    assert_eq!(all_pages(2, sites, |s| s.id.clone()).await, (homes.clone(), 2));
    let quoted = |q| async move { api.quotes().list(&q).await };
    assert_eq!(
        all_pages(2, quoted, |q| q.id.clone()).await,
        (newest_first(quotes.clone()), 2)
    );
    let ordered = |q| async move { api.orders().list(&q).await };
    assert_eq!(
        all_pages(1, ordered, |o| o.id.clone()).await,
        (newest_first(orders.clone()), 3)
    );
    // One page when it all fits: no cursor.
    let (ids, pages) = all_pages(100, ordered, |o| o.id.clone()).await;
    assert_eq!((ids.len(), pages), (3, 1));

    // The neighbour sees only their own.
    let sites = |q| async move { other.sites().list(&q).await };
    assert_eq!(all_pages(100, sites, |s| s.id.clone()).await.0, vec![theirs.id]);

    // Outside 1..=100, or a cursor that is not one: refused, not quietly answered.
    for limit in [0, 101] {
        let q = PageQuery::first(limit);
        assert_eq!(
            api.sites().list(&q).await.unwrap_err().status,
            422,
            "homes, limit {limit}"
        );
        assert_eq!(
            api.quotes().list(&q).await.unwrap_err().status,
            422,
            "quotes, limit {limit}"
        );
        assert_eq!(
            api.orders().list(&q).await.unwrap_err().status,
            422,
            "orders, limit {limit}"
        );
    }
    let q = PageQuery {
        limit: None,
        cursor: Some("yesterday".into()),
    };
    assert_eq!(
        api.sites().list(&q).await.unwrap_err().status,
        400,
        "homes, bad cursor"
    );
    assert_eq!(
        api.quotes().list(&q).await.unwrap_err().status,
        400,
        "quotes, bad cursor"
    );
    assert_eq!(
        api.orders().list(&q).await.unwrap_err().status,
        400,
        "orders, bad cursor"
    );
}
