//! The account page for browsers: the password, the sessions, the second factor and the
//! address confirmation. Every form carries the session's CSRF token (`SignedInForm`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::access::SignedInForm;
use crate::access::{PageUser, Permission::OwnAccount, Routes, perm};
use crate::http::{PageError, RequestContext};
use crate::ids::SessionId;
use crate::state::AppState;
use crate::web::form::Problems;
use crate::web::{Nav, sentence};

use super::browser::{CsrfOnly, CsrfProtected, PageCaller, session_cookie};
use super::credentials::{self, CredentialError, Proof};
use super::extract::Authenticated;
use super::mfa::{self, MfaError};
use super::password::Password;
use super::session::{self, SessionSummary};
use super::sign_out;
use super::signup::{self};

pub fn router() -> Routes {
    Routes::new()
        .get("/account", OwnAccount, account)
        .post("/account/password", OwnAccount, change_password)
        .post("/account/sessions/end", OwnAccount, end_session)
        .post("/account/sessions/end-others", OwnAccount, end_other_sessions)
        .post("/account/mfa", OwnAccount, mfa_start)
        .post("/account/mfa/confirm", OwnAccount, mfa_confirm)
        .get("/account/mfa/remove", OwnAccount, mfa_remove_page)
        .post("/account/mfa/remove", OwnAccount, mfa_remove)
        .post("/account/verification", OwnAccount, resend_verification)
}

// ---- account -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage {
    nav: Nav,
    caller: PageUser<perm::OwnAccount>,
    sessions: Vec<SessionSummary>,
    /// The sessions whose device receives notifications, with the device's name.
    notified: Vec<(uuid::Uuid, String)>,
    /// Staff accesses to the customer's personal data (S-AC-6); `None` for staff accounts.
    data_access: Option<Vec<crate::access::grants::DataAccess>>,
    notice: Option<String>,
    /// The problems of the form that came back (passwords are never sent back).
    problems: Problems,
}

#[derive(Deserialize)]
struct AccountQuery {
    notice: Option<String>,
}

impl AccountPage {
    /// The name of the device of session `id` that receives notifications, if one does.
    fn notifications(&self, id: &crate::ids::SessionId) -> Option<&str> {
        self.notified
            .iter()
            .find(|(s, _)| *s == id.0)
            .map(|(_, d)| d.as_str())
    }
}

async fn account_page(
    state: &AppState,
    caller: PageUser<perm::OwnAccount>,
    status: StatusCode,
    notice: Option<String>,
    problems: Problems,
) -> Result<Response, PageError> {
    let sessions = session::list_live(&state.db, caller.user, None, 100, Utc::now())
        .await
        .map_err(anyhow::Error::from)?;
    let notified = crate::push::of_user(&state.db, caller.user)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|s| (s.session_id, s.device))
        .collect();
    let data_access = if crate::access::policy::allows(caller.role, crate::access::Permission::OwnDataAccess)
    {
        Some(
            crate::access::grants::for_customer(&state.db, caller.user)
                .await
                .map_err(anyhow::Error::from)?,
        )
    } else {
        None
    };
    let page = AccountPage {
        nav: Nav::for_caller("account", Some(&caller)),
        caller,
        sessions,
        notified,
        data_access,
        notice,
        problems,
    };
    crate::web::render(status, &page)
}

async fn account(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnAccount>,
    Query(q): Query<AccountQuery>,
) -> Result<Response, PageError> {
    // Only fixed messages: the query string cannot put text of its own on the page.
    let notice = match q.notice.as_deref() {
        Some("password") => {
            Some("Your password was changed and your other devices were signed out.".to_owned())
        }
        Some("session") => Some("That device was signed out.".to_owned()),
        Some("others") => Some("Every other device was signed out. This one stays signed in.".to_owned()),
        Some("verification") => Some("We sent a new confirmation link. It works for 30 minutes.".to_owned()),
        Some("mfa-off") => Some(
            "Two-step sign-in is off: signing in asks for your password only. We emailed you the same; you can turn it on again below."
                .to_owned(),
        ),
        _ => None,
    };
    account_page(&state, caller, StatusCode::OK, notice, Problems::default()).await
}

fn as_authenticated(caller: &PageCaller) -> Authenticated {
    caller.as_authenticated()
}

/// Where a refused credential lands on the password form.
fn credential_field(err: &CredentialError) -> &'static str {
    match err {
        CredentialError::WeakPassword(_) => "new-password",
        CredentialError::MfaRequired | CredentialError::InvalidCode => "password-code",
        _ => "current-password",
    }
}

fn credential_message(err: &CredentialError) -> String {
    match err {
        CredentialError::WrongPassword => "Your current password is not right.".into(),
        CredentialError::RateLimited { retry_after_secs } => {
            format!("Too many attempts. Wait {retry_after_secs} seconds, then try again.")
        }
        CredentialError::WeakPassword(problem) => sentence(&problem.to_string()),
        CredentialError::MfaRequired | CredentialError::InvalidCode => {
            "The code from your authenticator app is not right.".into()
        }
        CredentialError::InvalidToken | CredentialError::Internal(_) => {
            "That did not work. Try again.".into()
        }
    }
}

#[derive(Deserialize)]
struct ChangePasswordFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: SecretString,
    code: Option<SecretString>,
    #[serde(default)]
    new_password: SecretString,
}

impl CsrfProtected for ChangePasswordFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn change_password(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, ChangePasswordFields>,
) -> Result<Response, PageError> {
    if caller.must_enrol() {
        return Err(PageError::Forbidden);
    }
    let cx = state.login_context();
    let mut problems = Problems::about("the password change");
    // The new password is checked first, so that a wrong current password and a weak new one
    // show at once; the service checks it again when it writes.
    let personal = [caller.email.as_str(), caller.name.as_str()];
    if let Err(weak) = Password::parse(fields.new_password.clone(), &personal) {
        problems.add("new-password", sentence(&weak.to_string()));
    }
    // The form is its own re-authentication (S-AU-7): password, and the code when enrolled.
    let proof = Proof {
        password: fields.current_password.clone(),
        code: fields.code,
    };
    let outcome = match credentials::reauthenticate(&cx, &as_authenticated(&caller), proof, &ctx).await {
        Ok(()) if problems.is_empty() => {
            credentials::change_password(
                &cx,
                caller.user,
                caller.session,
                fields.current_password,
                fields.new_password,
                &ctx,
            )
            .await
        }
        Ok(()) => Ok(()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) if problems.is_empty() => {
            let token = session::rotate_cookie_token(&state.db, caller.session)
                .await
                .map_err(anyhow::Error::from)?;
            let mut response = Redirect::to("/account?notice=password").into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&token));
            Ok(response)
        }
        Err(CredentialError::Internal(e)) => Err(PageError::Internal(e)),
        refused => {
            if let Err(err) = refused {
                problems.add(credential_field(&err), credential_message(&err));
            }
            let problems = problems.in_order(&["current-password", "password-code", "new-password"]);
            account_page(&state, caller, StatusCode::UNPROCESSABLE_ENTITY, None, problems).await
        }
    }
}

#[derive(Deserialize)]
struct EndSessionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session: String,
}

impl CsrfProtected for EndSessionFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn end_session(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, EndSessionFields>,
) -> Result<Response, PageError> {
    let id: SessionId = fields.session.parse().map_err(|_| PageError::NotFound)?;
    let actor = caller.actor();
    if !sign_out::end_one(&state.db, &state.auth_cache, &actor, caller.user, id).await? {
        return Err(PageError::NotFound);
    }
    Ok(Redirect::to("/account?notice=session").into_response())
}

/// Signs out every device but this one, after a step that says so.
async fn end_other_sessions(
    State(state): State<AppState>,
    SignedInForm(caller, form): SignedInForm<perm::OwnAccount, crate::web::confirm::ConfirmOnly>,
) -> Result<Response, PageError> {
    if !form.confirmed() {
        let others = session::list_live(&state.db, caller.user, None, 100, Utc::now())
            .await
            .map_err(anyhow::Error::from)?
            .iter()
            .filter(|s| s.id != caller.session)
            .count();
        let devices = match others {
            1 => "the one other device".to_owned(),
            n => format!("the {n} other devices"),
        };
        return crate::web::confirm::Confirmation {
            nav: Nav::for_caller("account", Some(&caller)),
            title: "Sign out everywhere else?".to_owned(),
            will_happen: vec![
                format!("You are signed out on {devices} signed in to your account, apps included."),
                "This device stays signed in.".to_owned(),
                "If you think someone else knows your password, change it next: that signs out every other device too.".to_owned(),
            ],
            action: "/account/sessions/end-others".to_owned(),
            fields: vec![("csrf", caller.csrf.clone())],
            confirm: "Yes, sign out everywhere else",
            destructive: true,
            back: "/account#sessions-title".to_owned(),
            back_label: "Keep them signed in",
        }
        .page();
    }
    let actor = caller.actor();
    sign_out::end_others(&state.db, &state.auth_cache, &actor, caller.user, caller.session).await?;
    Ok(Redirect::to("/account?notice=others").into_response())
}

#[derive(Template)]
#[template(path = "account/mfa_setup.html")]
struct MfaSetupPage {
    nav: Nav,
    csrf: String,
    secret: String,
    qr_svg: String,
    problems: Problems,
}

#[derive(Deserialize)]
struct PasswordFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: SecretString,
}

impl CsrfProtected for PasswordFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The QR code as inline SVG: the renderer's XML declaration has no place inside HTML.
fn inline_svg(svg: &str) -> String {
    match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => String::new(),
    }
}

async fn mfa_start(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, PasswordFields>,
) -> Result<Response, PageError> {
    let cx = state.login_context();
    let proof = Proof {
        password: fields.password,
        code: None,
    };
    if let Err(err) = credentials::reauthenticate(&cx, &as_authenticated(&caller), proof, &ctx).await {
        if let CredentialError::Internal(e) = err {
            return Err(PageError::Internal(e));
        }
        let mut problems = Problems::about("turning on two-step sign-in");
        problems.add("mfa-password", credential_message(&err));
        return account_page(&state, caller, StatusCode::UNPROCESSABLE_ENTITY, None, problems).await;
    }
    match mfa::start_enrolment(&state.db, caller.user).await {
        Ok(enrolment) => {
            let token = session::rotate_cookie_token(&state.db, caller.session)
                .await
                .map_err(anyhow::Error::from)?;
            let page = MfaSetupPage {
                nav: Nav::for_caller("account", Some(&caller)),
                csrf: caller.csrf.clone(),
                secret: enrolment.secret_base32,
                qr_svg: inline_svg(&enrolment.qr_svg),
                problems: Problems::default(),
            };
            let mut response = crate::web::render(StatusCode::OK, &page)?;
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&token));
            Ok(response)
        }
        Err(MfaError::AlreadyEnabled) => Ok(Redirect::to("/account").into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "account/recovery_codes.html")]
struct RecoveryCodesPage {
    nav: Nav,
    codes: Vec<String>,
}

#[derive(Deserialize)]
struct CodeFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: SecretString,
}

impl CsrfProtected for CodeFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn mfa_confirm(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, CodeFields>,
) -> Result<Response, PageError> {
    let cx = state.login_context();
    match mfa::confirm_enrolment(&cx, caller.user, fields.code.expose_secret(), &ctx).await {
        Ok(codes) => {
            let page = RecoveryCodesPage {
                nav: Nav::for_caller("account", Some(&caller)),
                codes,
            };
            crate::web::render(StatusCode::OK, &page)
        }
        Err(MfaError::Internal(e)) => Err(PageError::Internal(e)),
        Err(MfaError::NotStarted | MfaError::AlreadyEnabled) => Ok(Redirect::to("/account").into_response()),
        Err(err) => {
            // Show the same secret again: the enrolment is still pending.
            let message = match err {
                MfaError::RateLimited { retry_after_secs } => {
                    format!("Too many wrong codes. Wait {retry_after_secs} seconds, then try again.")
                }
                _ => "That code is not right. Enter the current code from the app.".to_owned(),
            };
            let mut problems = Problems::about("the code");
            problems.add("code", message);
            let pending = mfa::pending_enrolment(&state.db, caller.user).await?;
            let Some(enrolment) = pending else {
                return Ok(Redirect::to("/account").into_response());
            };
            let page = MfaSetupPage {
                nav: Nav::for_caller("account", Some(&caller)),
                csrf: caller.csrf.clone(),
                secret: enrolment.secret_base32,
                qr_svg: inline_svg(&enrolment.qr_svg),
                problems,
            };
            crate::web::render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// Sends a new confirmation link (at most 3 an hour, like every emailed link).
async fn resend_verification(
    State(state): State<AppState>,
    SignedInForm(caller, _): SignedInForm<perm::OwnAccount, CsrfOnly>,
) -> Result<Response, PageError> {
    signup::resend_verification(&state.signup_context(), &caller.email).await?;
    Ok(Redirect::to("/account?notice=verification").into_response())
}

// ---- removing the second factor -------------------------------------------------------------

/// The step before turning two-step sign-in off: what it means, and the password and code that
/// prove it is the account's owner asking (S-AU-7). Staff accounts keep their second factor.
#[derive(Template)]
#[template(path = "account/mfa_remove.html")]
struct MfaRemovePage {
    nav: Nav,
    csrf: String,
    problems: Problems,
}

async fn mfa_remove_page(caller: PageUser<perm::OwnAccount>) -> Result<Response, PageError> {
    if caller.role.is_staff() || !caller.mfa_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    crate::web::render(
        StatusCode::OK,
        &MfaRemovePage {
            nav: Nav::for_caller("account", Some(&caller)),
            csrf: caller.csrf.clone(),
            problems: Problems::default(),
        },
    )
}

#[derive(Deserialize)]
struct RemoveFactorFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: SecretString,
    code: Option<SecretString>,
}

impl CsrfProtected for RemoveFactorFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn mfa_remove(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, RemoveFactorFields>,
) -> Result<Response, PageError> {
    // Staff keep their second factor: back to the account page, which says so.
    if caller.role.is_staff() {
        return Ok(Redirect::to("/account#mfa-title").into_response());
    }
    let cx = state.login_context();
    let proof = Proof {
        password: fields.password,
        code: fields.code,
    };
    if let Err(err) = credentials::reauthenticate(&cx, &as_authenticated(&caller), proof, &ctx).await {
        if let CredentialError::Internal(e) = err {
            return Err(PageError::Internal(e));
        }
        let mut problems = Problems::about("turning off two-step sign-in");
        let field = match err {
            CredentialError::MfaRequired | CredentialError::InvalidCode => "remove-code",
            _ => "remove-password",
        };
        problems.add(field, credential_message(&err));
        let page = MfaRemovePage {
            nav: Nav::for_caller("account", Some(&caller)),
            csrf: caller.csrf.clone(),
            problems,
        };
        return crate::web::render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match mfa::remove(&cx, caller.user, &ctx).await {
        Ok(()) | Err(MfaError::NotStarted) => Ok(Redirect::to("/account?notice=mfa-off").into_response()),
        Err(MfaError::Internal(e)) => Err(PageError::Internal(e)),
        Err(e) => Err(e.into()),
    }
}
