//! The web shell: public pages, static assets, and no inline script or style (so the CSP,
//! which forbids them, breaks nothing).

use crate::helpers::spawn_app;

fn assert_no_inline_code(html: &str) {
    assert!(!html.contains("<style"), "inline <style>");
    assert!(!html.contains(" style="), "inline style attribute");
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..html[i..].find('>').map(|e| i + e).unwrap()];
        assert!(tag.contains(" src="), "inline script: {tag}");
    }
    assert!(
        !html.contains(" onclick=") && !html.contains(" onload="),
        "inline handler"
    );
}

#[tokio::test]
async fn landing_and_faq_pages_render_and_link_to_each_other() {
    let app = spawn_app().await;
    let landing = app.get("/").await;
    assert_eq!(landing.status(), 200);
    assert!(
        landing.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = landing.text().await.unwrap();
    assert!(html.contains("<h1>Solar sized from your real electricity bills</h1>"));
    assert!(html.contains(r#"href="/faq""#));
    assert!(html.contains(r#"name="viewport""#), "readable on a phone");
    assert_no_inline_code(&html);

    let faq = app.get("/faq").await.text().await.unwrap();
    assert!(faq.contains("Green Button"));
    assert!(faq.contains(r#"aria-current="page""#));
    assert_no_inline_code(&faq);
}

#[tokio::test]
async fn the_stylesheet_is_served_with_a_long_cache_life() {
    let app = spawn_app().await;
    let html = app.get("/").await.text().await.unwrap();
    let start = html.find("/static/app.").expect("stylesheet link");
    let href = &html[start..start + html[start..].find('"').unwrap()];
    let css = app.get(href).await;
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
    assert!(css.text().await.unwrap().contains(":root"));
    // A stale or made-up name is not served.
    assert_eq!(app.get("/static/app.000000000000.css").await.status(), 404);
    assert_eq!(app.get("/static/..%2FCargo.toml").await.status(), 404);
}
