//! Signed-in callers of every role for the access-control tests: API tokens (staff enrolled
//! in TOTP, as they must be) and browser sessions with their CSRF token.

use serde_json::{Value, json};
use sunbridge::access::Role;
use sunbridge::ids::UserId;
use totp_rs::{Builder, Secret};

use crate::helpers::{PASSWORD, TestApp};

/// The TOTP code `offset_steps` 30-second steps from now.
pub fn code_at(secret: &str, offset_steps: i64) -> String {
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build_noncompliant();
    let now = chrono::Utc::now().timestamp() + offset_steps * 30;
    totp.generate(now as u64).to_string()
}

/// Codes are relative to the current 30-second step: start early in a step, so that no step
/// boundary falls between computing a code and the server checking it.
pub async fn early_in_a_step() {
    let millis = chrono::Utc::now().timestamp_millis().rem_euclid(30_000);
    if millis > 20_000 {
        tokio::time::sleep(std::time::Duration::from_millis((30_000 - millis + 100) as u64)).await;
    }
}

/// A signed-in API caller.
pub struct Member {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub token: String,
    pub totp_secret: Option<String>,
    pub recovery_codes: Vec<String>,
}

/// A signed-in browser session.
pub struct PageSession {
    pub cookie: String,
    pub csrf: String,
}

pub fn csrf_from(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    html[start..start + 64].to_owned()
}

fn field_value(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

impl TestApp {
    /// Creates an account of `role` and signs it in through the API; staff enrol TOTP first.
    pub async fn member(&self, email: &str, role: Role) -> Member {
        let id = self.create_user(email, role).await;
        if role.is_staff() {
            // Before signing in: enrolment must follow the sign-in within the reauth window.
            early_in_a_step().await;
        }
        let token = self.login_ok(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut member = Member {
            id,
            email: email.to_owned(),
            role,
            token,
            totp_secret: None,
            recovery_codes: Vec::new(),
        };
        if role.is_staff() {
            let enrolment: Value = self
                .api("POST", "/api/v1/me/mfa/totp", &member.token, Some(json!({})))
                .await
                .json()
                .await
                .unwrap();
            let secret = enrolment["secret"].as_str().unwrap().to_owned();
            let confirmed: Value = self
                .api(
                    "POST",
                    "/api/v1/me/mfa/totp/confirm",
                    &member.token,
                    Some(json!({"code": code_at(&secret, 0)})),
                )
                .await
                .json()
                .await
                .unwrap();
            member.recovery_codes = confirmed["recovery_codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect();
            member.totp_secret = Some(secret);
        }
        member
    }

    /// The audit rows of `action`, newest first, as the audit API shows them to `reader`.
    pub async fn audit_actions(&self, reader: &Member, action: &str) -> Vec<Value> {
        let page: Value = self
            .api(
                "GET",
                &format!("/api/v1/admin/audit?action={action}"),
                &reader.token,
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        page["items"].as_array().unwrap().clone()
    }

    /// An API request with a bearer token and an optional JSON body.
    pub async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> reqwest::Response {
        let method: reqwest::Method = method.parse().unwrap();
        let mut request = self.client.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Signs `member` in through the pages (a recovery code as the second factor for staff,
    /// so no TOTP step is spent twice) and returns the cookie and the CSRF token.
    pub async fn page_session(&self, member: &mut Member) -> PageSession {
        let response = self
            .client
            .post(self.url("/login"))
            .header("sec-fetch-site", "same-origin")
            .form(&[("email", member.email.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let response = if response.status() == 303 {
            response
        } else {
            assert_eq!(response.status(), 200, "second-factor page expected");
            let html = response.text().await.unwrap();
            let mfa_token = field_value(&html, "mfa_token");
            let code = member.recovery_codes.pop().expect("a recovery code left");
            self.client
                .post(self.url("/login/second-factor"))
                .header("sec-fetch-site", "same-origin")
                .form(&[("mfa_token", mfa_token.as_str()), ("code", code.as_str())])
                .send()
                .await
                .unwrap()
        };
        assert_eq!(response.status(), 303, "page sign-in of {}", member.email);
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("__Host-sunbridge-session="))
            .expect("session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let html = self.page_get("/account", &cookie).await.text().await.unwrap();
        PageSession {
            csrf: csrf_from(&html),
            cookie,
        }
    }

    pub async fn page_get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// A same-origin form post with the session's CSRF token.
    pub async fn page_post(
        &self,
        path: &str,
        session: &PageSession,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", session.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .header("cookie", &session.cookie)
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

/// The problem code of an API answer.
pub async fn problem_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_owned())
}
