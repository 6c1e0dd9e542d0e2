//! Admin pages: staff accounts (invite, role, disable; behind a fresh re-authentication), the
//! access review, and the audit trail.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::audit_lines::AuditLine;
use super::review::{self, AccessReview};
use super::service::{self, Invitation, StaffChange, StaffError, StaffMember};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Role, Routes, perm};
use crate::auth::browser::{CsrfProtected, PageCaller, session_cookie};
use crate::auth::credentials::{self, CredentialError, Proof};
use crate::auth::{EmailAddress, PersonName, session};
use crate::http::{IdPath, PageError, RequestContext};
use crate::ids::UserId;
use crate::state::AppState;
use crate::web::confirm::{self, Confirmation};
use crate::web::form::Problems;
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/admin/staff", Permission::ManageStaff, staff)
        .post("/admin/staff", Permission::ManageStaff, invite)
        .post("/admin/staff/{id}", Permission::ManageStaff, change)
        .post("/admin/reauth", Permission::ManageStaff, reauth)
        .get("/admin/access-review", Permission::ReviewAccess, access_review)
        .get("/admin/audit", Permission::ReadAudit, audit)
}

const STAFF_ROLES: [&str; 5] = ["installer", "support", "sales", "engineer", "admin"];

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    nav: Nav,
    csrf: String,
    self_id: String,
    recent_auth: bool,
    members: Vec<StaffMember>,
    staff_roles: [&'static str; 5],
    notice: Option<&'static str>,
    /// A change to a row of the list that was refused (it has no field of its own).
    error: Option<String>,
    /// The invitation as typed.
    invite: InviteFields,
    /// Every problem with the invitation or the confirmation form.
    problems: Problems,
}

/// What the staff page shows beside the list: a notice, or what a form came back with.
#[derive(Default)]
struct Outcome {
    notice: Option<&'static str>,
    error: Option<String>,
    invite: InviteFields,
    problems: Problems,
}

impl Outcome {
    fn notice(notice: Option<&'static str>) -> Outcome {
        Outcome {
            notice,
            ..Outcome::default()
        }
    }

    fn error(message: String) -> Outcome {
        Outcome {
            error: Some(message),
            ..Outcome::default()
        }
    }

    /// The confirmation form's problem: beside the password field.
    fn reauth(message: String) -> Outcome {
        let mut problems = Problems::about("the confirmation");
        problems.add("reauth-password", message);
        Outcome {
            problems,
            ..Outcome::default()
        }
    }
}

fn recent_auth(state: &AppState, caller: &PageCaller) -> bool {
    let window = state.settings.sessions().reauth_window;
    credentials::within_reauth_window(caller.authenticated_at, window)
}

async fn staff_page(
    state: &AppState,
    caller: &PageCaller,
    status: StatusCode,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let members = service::list(&state.db).await?;
    let page = StaffPage {
        nav: Nav::for_caller("staff", Some(caller)),
        csrf: caller.csrf.clone(),
        self_id: caller.user.to_string(),
        recent_auth: recent_auth(state, caller),
        members,
        staff_roles: STAFF_ROLES,
        notice: outcome.notice,
        error: outcome.error,
        invite: outcome.invite,
        problems: outcome.problems,
    };
    render(status, &page)
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn staff(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageStaff>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("invited") => Some("Invitation sent. The link works for 72 hours."),
        Some("changed") => Some("Role changed. It applies from the person's next request."),
        Some("disabled") => {
            Some("Account disabled. The person is signed out at their next request and cannot sign in.")
        }
        Some("enabled") => Some("Account enabled. The person can sign in again."),
        Some("confirmed") => Some("Confirmed. You can change staff accounts for the next 5 minutes."),
        _ => None,
    };
    staff_page(&state, &caller, StatusCode::OK, Outcome::notice(notice)).await
}

#[derive(Deserialize)]
struct ReauthFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: SecretString,
    code: Option<SecretString>,
}

impl CsrfProtected for ReauthFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn reauth(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedInForm(caller, fields): SignedInForm<perm::ManageStaff, ReauthFields>,
) -> Result<Response, PageError> {
    let cx = state.login_context();
    let proof = Proof {
        password: fields.password,
        code: fields.code,
    };
    match credentials::reauthenticate(&cx, &caller.as_authenticated(), proof, &ctx).await {
        Ok(()) => {
            // A new cookie after the privilege step, as after sign-in.
            let token = session::rotate_cookie_token(&state.db, caller.session)
                .await
                .map_err(anyhow::Error::from)?;
            let mut response = Redirect::to("/admin/staff?notice=confirmed").into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&token));
            Ok(response)
        }
        Err(CredentialError::Internal(e)) => Err(PageError::Internal(e)),
        Err(CredentialError::RateLimited { retry_after_secs }) => {
            let message = format!("Too many attempts. Wait {retry_after_secs} seconds, then try again.");
            staff_page(
                &state,
                &caller,
                StatusCode::TOO_MANY_REQUESTS,
                Outcome::reauth(message),
            )
            .await
        }
        Err(_) => {
            let message = "The password or the code is not right.".to_owned();
            staff_page(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                Outcome::reauth(message),
            )
            .await
        }
    }
}

fn staff_error_message(e: &StaffError) -> String {
    match e {
        StaffError::EmailTaken => "An account with this email address already exists.".into(),
        StaffError::NotAStaffRole => "Choose one of the staff roles.".into(),
        StaffError::OwnAccount => "You cannot change your own role or disable yourself.".into(),
        StaffError::NotFound => "That account does not exist.".into(),
        StaffError::Internal(_) => "That did not work. Try again.".into(),
    }
}

/// The invitation form, as typed (and as sent back with its problems).
#[derive(Deserialize, Default)]
struct InviteFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

impl CsrfProtected for InviteFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl InviteFields {
    /// The invitation, or every problem with the form at once.
    fn checked(&self) -> Result<Invitation, Problems> {
        let mut problems = Problems::about("the invitation");
        let name = PersonName::parse(&self.name)
            .map_err(|e| problems.add("invite-name", sentence(&e.to_string())))
            .ok();
        let email = EmailAddress::parse(&self.email)
            .map_err(|e| problems.add("invite-email", sentence(&e.to_string())))
            .ok();
        let role = problems.check(
            "invite-role",
            self.role.parse::<Role>(),
            "Choose one of the staff roles.",
        );
        match (name, email, role) {
            (Some(name), Some(email), Some(role)) => Ok(Invitation { email, name, role }),
            _ => Err(problems),
        }
    }
}

async fn invite(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageStaff, InviteFields>,
) -> Result<Response, PageError> {
    if !recent_auth(&state, &caller) {
        let outcome = Outcome::reauth("Confirm it is you first: your confirmation lasts 5 minutes.".into());
        return staff_page(&state, &caller, StatusCode::UNAUTHORIZED, outcome).await;
    }
    let problems = match fields.checked() {
        Ok(invitation) => {
            let actor = caller.actor();
            match service::invite(&super::api::invite_context(&state), &actor, invitation).await {
                Ok(_) => return Ok(Redirect::to("/admin/staff?notice=invited").into_response()),
                Err(StaffError::Internal(e)) => return Err(PageError::Internal(e)),
                Err(e) => {
                    let mut problems = Problems::about("the invitation");
                    let field = match e {
                        StaffError::NotAStaffRole => "invite-role",
                        _ => "invite-email",
                    };
                    problems.add(field, staff_error_message(&e));
                    problems
                }
            }
        }
        Err(problems) => problems,
    };
    let outcome = Outcome {
        invite: fields,
        problems,
        ..Outcome::default()
    };
    staff_page(&state, &caller, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
}

#[derive(Deserialize)]
struct ChangeFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    confirmed: String,
}

impl CsrfProtected for ChangeFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn change(
    State(state): State<AppState>,
    IdPath(target): IdPath<UserId>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageStaff, ChangeFields>,
) -> Result<Response, PageError> {
    if !recent_auth(&state, &caller) {
        let outcome = Outcome::reauth("Confirm it is you first: your confirmation lasts 5 minutes.".into());
        return staff_page(&state, &caller, StatusCode::UNAUTHORIZED, outcome).await;
    }
    let change = match fields.action.as_str() {
        "role" => StaffChange {
            role: Some(fields.role.parse().map_err(|_| PageError::BadRequest)?),
            disabled: None,
        },
        "disable" => StaffChange {
            role: None,
            disabled: Some(true),
        },
        "enable" => StaffChange {
            role: None,
            disabled: Some(false),
        },
        _ => return Err(PageError::BadRequest),
    };
    if change.disabled == Some(true) && !confirm::given(&fields.confirmed) {
        let target_id = target.to_string();
        let member = service::list(&state.db)
            .await?
            .into_iter()
            .find(|m| m.id == target_id)
            .ok_or(PageError::NotFound)?;
        return Confirmation {
            nav: Nav::for_caller("staff", Some(&caller)),
            title: format!("Disable {}'s account?", member.name),
            will_happen: vec![
                format!(
                    "{} ({}) is signed out on every device at their next request and cannot sign in.",
                    member.name, member.email
                ),
                "Their history stays in the audit trail. You can enable the account again from this list."
                    .to_owned(),
            ],
            action: format!("/admin/staff/{target}"),
            fields: vec![("csrf", caller.csrf.clone()), ("action", fields.action.clone())],
            confirm: "Yes, disable the account",
            destructive: true,
            back: "/admin/staff".to_owned(),
            back_label: "Keep it active",
        }
        .page();
    }
    let notice = match change.disabled {
        Some(true) => "disabled",
        Some(false) => "enabled",
        None => "changed",
    };
    let actor = caller.actor();
    match service::change(&state.db, &state.auth_cache, &actor, caller.user, target, change).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/staff?notice={notice}")).into_response()),
        Err(StaffError::NotFound) => Err(PageError::NotFound),
        Err(StaffError::Internal(e)) => Err(PageError::Internal(e)),
        Err(e) => {
            let outcome = Outcome::error(staff_error_message(&e));
            staff_page(&state, &caller, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/access_review.html")]
struct ReviewPage {
    nav: Nav,
    review: AccessReview,
}

async fn access_review(
    State(state): State<AppState>,
    caller: PageUser<perm::ReviewAccess>,
) -> Result<Response, PageError> {
    let review = review::review(&state.db).await?;
    let page = ReviewPage {
        nav: Nav::for_caller("staff", Some(&caller)),
        review,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    nav: Nav,
    action: String,
    target: String,
    /// The filter's choices: each action's stored name and its words.
    actions: Vec<(&'static str, String)>,
    lines: Vec<AuditLine>,
    next_cursor: Option<String>,
    /// The chain verification, when asked for.
    report: Option<crate::audit::chain::Report>,
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    action: String,
    /// An id: events by it or about it.
    #[serde(default)]
    target: String,
    cursor: Option<String>,
    verify: Option<String>,
}

async fn audit(
    State(state): State<AppState>,
    caller: PageUser<perm::ReadAudit>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let action: String = q.action.trim().chars().take(64).collect();
    let target: String = q.target.trim().chars().take(64).collect();
    let filter = crate::audit::Filter {
        before: q.cursor.and_then(|c| c.parse::<i64>().ok()),
        action: (!action.is_empty()).then(|| action.clone()),
        target_id: (!target.is_empty()).then(|| target.clone()),
        ..Default::default()
    };
    let (events, next_cursor) = crate::audit::page_for(&state.db, caller.role, &filter, 100)
        .await
        .map_err(anyhow::Error::from)?;
    let report = match q.verify {
        Some(_) => {
            let key = state.settings.audit_checkpoint_key_or_derived(&state.secret_key);
            Some(
                crate::audit::chain::verify(&state.db, &key, None)
                    .await
                    .map_err(anyhow::Error::from)?,
            )
        }
        None => None,
    };
    // Staff are named in the sentences; everyone else by reference (see `audit_lines`).
    let staff = service::list(&state.db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    let actions = crate::audit::Action::ALL
        .iter()
        .map(|a| (a.as_str(), a.words().replace("{target}", "…")))
        .collect();
    let page = AuditPage {
        nav: Nav::for_caller("staff", Some(&caller)),
        action,
        target,
        actions,
        lines: super::audit_lines::lines(events, &staff),
        next_cursor,
        report,
    };
    render(StatusCode::OK, &page)
}
