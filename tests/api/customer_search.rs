//! Support's customer search: words matched by prefix through the search index, kept in step
//! with every change of name and address, and rebuilt by `sunbridge admin reindex-search`
//! for accounts written around the application.

use std::collections::HashSet;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::Member;
use crate::helpers::{TestApp, spawn_app};

async fn found(app: &TestApp, staff: &Member, query: &str) -> Vec<String> {
    let path = format!("/api/v1/staff/customers?query={}", url_escape(query));
    let response = app.api("GET", &path, &staff.token, None).await;
    assert_eq!(response.status(), 200, "{query}");
    let body: Value = response.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn named(app: &TestApp, email: &str, name: &str) -> Member {
    let member = app.member(email, Role::Customer).await;
    let patched = app
        .api(
            "PATCH",
            "/api/v1/me",
            &member.token,
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(patched.status(), 200);
    member
}

#[tokio::test]
async fn customers_are_found_by_the_start_of_any_word_of_their_name_or_address() {
    let app = spawn_app().await;
    let jane = named(&app, "jane.doe@example.com", "Jane Doe").await;
    let jose = named(&app, "jose+solar@example.org", "José Álvarez-Núñez").await;
    // Staff are never search results, whatever their name.
    let _staff_jane = app.member("jane.support@example.com", Role::Support).await;
    let support = app.member("sam@example.com", Role::Support).await;
    let (jane, jose) = (jane.id.to_string(), jose.id.to_string());

    for (query, expected) in [
        ("jane.doe@example.com", vec![&jane]),
        ("JANE.DOE", vec![&jane]),
        ("doe jane", vec![&jane]),
        ("jan", vec![&jane]),
        ("alvarez", vec![&jose]),
        ("ÁLVA núñ", vec![&jose]),
        ("jose solar", vec![&jose]),
        ("example", vec![&jane, &jose]),
        // Inside a word, or a word nobody has alongside one they have.
        ("lvarez", vec![]),
        ("jane alvarez", vec![]),
        ("oe@ex", vec![]),
    ] {
        let mut got = found(&app, &support, query).await;
        got.sort();
        let mut want: Vec<String> = expected.into_iter().cloned().collect();
        want.sort();
        assert_eq!(got, want, "{query}");
    }
}

#[tokio::test]
async fn a_new_name_or_address_is_searchable_at_once_and_the_old_one_is_not() {
    let app = spawn_app().await;
    let ann = named(&app, "ann.lee@example.com", "Ann Lee").await;
    let support = app.member("sam@example.com", Role::Support).await;
    let id = ann.id.to_string();
    assert_eq!(found(&app, &support, "lee").await, vec![id.clone()]);

    let patched = app
        .api(
            "PATCH",
            "/api/v1/me",
            &ann.token,
            Some(json!({ "name": "Ann Marsh", "email": "ann.marsh@example.net" })),
        )
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(found(&app, &support, "marsh").await, vec![id.clone()]);
    assert_eq!(found(&app, &support, "ann example net").await, vec![id.clone()]);
    assert!(
        found(&app, &support, "lee").await.is_empty(),
        "the old name and address are gone"
    );
    assert!(found(&app, &support, "example com").await.is_empty());
}

#[tokio::test]
async fn pages_of_results_follow_the_cursor_without_repeats_or_gaps() {
    let app = spawn_app().await;
    let mut ids = HashSet::new();
    for i in 0..7 {
        let member = named(&app, &format!("pat{i}@example.com"), &format!("Pat Number{i}")).await;
        ids.insert(member.id.to_string());
    }
    let support = app.member("sam@example.com", Role::Support).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/staff/customers?query=pat&limit=3&cursor={c}"),
            None => "/api/v1/staff/customers?query=pat&limit=3".to_owned(),
        };
        let body: Value = app
            .api("GET", &path, &support.token, None)
            .await
            .json()
            .await
            .unwrap();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        cursor = body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), ids);
}

#[tokio::test]
async fn accounts_written_around_the_application_are_found_after_a_reindex() {
    let app = spawn_app().await;
    let ann = named(&app, "ann.lee@example.com", "Ann Lee").await;
    let support = app.member("sam@example.com", Role::Support).await;
    // As after restoring a dump taken before the index existed: accounts without their words.
    app.db
        .execute_unprepared("DELETE FROM user_search_terms")
        .await
        .unwrap();
    assert!(found(&app, &support, "lee").await.is_empty());

    let out = crate::cli::sunbridge_on(&app, &["admin", "reindex-search"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("rebuilt for 2 accounts"), "{said}");
    assert_eq!(found(&app, &support, "lee").await, vec![ann.id.to_string()]);
    assert_eq!(found(&app, &support, "ann").await, vec![ann.id.to_string()]);
}
