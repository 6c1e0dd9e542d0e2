//! The OpenAPI 3.1 description mobile clients generate their SDKs from, built from the
//! handlers' annotations. Every API route adds itself to `ApiDoc`.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sunbridge API",
        version = "1",
        description = "JSON API of the Sunbridge solar marketplace. Errors are RFC 9457 \
            problem+json with a stable `code`; see `/problems/{code}` for each code."
    ),
    paths(
        crate::health::healthz,
        crate::health::readyz,
        openapi_json,
        crate::auth::api::signup,
        crate::auth::api::verify_email,
        crate::auth::api::resend_verification,
        crate::auth::api::login,
        crate::auth::api::refresh,
        crate::auth::api::logout,
        crate::auth::api::login_mfa,
        crate::auth::mfa_api::start,
        crate::auth::mfa_api::confirm,
        crate::auth::mfa_api::remove,
        crate::auth::api::reauth,
        crate::auth::api::change_password,
        crate::auth::api::forgot_password,
        crate::auth::api::reset_password,
        crate::auth::me_api::me,
        crate::auth::me_api::update_me,
        crate::auth::me_api::list_sessions,
        crate::auth::me_api::end_session,
        crate::auth::me_api::end_other_sessions,
        crate::access::api::data_access,
        crate::support::api::search,
        crate::support::api::customer,
        crate::support::api::open_access,
        crate::support::api::my_grants,
        crate::support::api::end_grant,
        crate::support::api::resend_verification,
        crate::support::api::revoke_sessions,
        crate::sales::api::pipeline,
        crate::staff::api::list,
        crate::staff::api::invite,
        crate::staff::api::change,
        crate::staff::api::access_review,
        crate::audit::api::list,
        crate::audit::api::verify,
        crate::defence::api::list,
        crate::defence::api::lift,
        crate::report::page::report_json,
        crate::catalog::api::panels,
        crate::catalog::api::regions,
        crate::catalog::api::add_panel,
        crate::catalog::api::change_panel,
        crate::catalog::api::change_region,
        crate::catalog::api::add_region,
        crate::catalog::api::options,
        crate::catalog::api::add_option,
        crate::catalog::api::change_option,
        crate::catalog::api::weather_files,
        crate::catalog::api::upload_weather,
        crate::sites::api::create,
        crate::sites::api::list,
        crate::sites::api::show,
        crate::sites::api::import_usage,
        crate::sites::api::usage,
        crate::quotes::api::create,
        crate::quotes::api::list,
        crate::quotes::api::show,
        crate::quotes::api::of_customer,
        crate::crews::api::companies,
        crate::crews::api::add_company,
        crate::crews::api::change_company,
        crate::crews::api::crews,
        crate::crews::api::add_crew,
        crate::crews::api::crew,
        crate::crews::api::change_crew,
        crate::crews::api::add_member,
        crate::crews::api::remove_member,
        crate::crews::api::add_day_off,
        crate::crews::api::remove_day_off,
        crate::webhooks::api::set,
        crate::webhooks::api::show,
        crate::orders::api::accept,
        crate::orders::api::list,
        crate::orders::api::show,
        crate::orders::api::deposit,
        crate::orders::api::slots_of,
        crate::orders::api::book,
        crate::payments::api::webhook,
        crate::scheduling::api::offers,
        crate::scheduling::api::accept,
        crate::scheduling::api::decline,
        crate::jobs::api::list,
        crate::jobs::api::show,
        crate::jobs::api::transition,
        crate::jobs::api::upload_photo,
        crate::jobs::api::photo,
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::http::error::Problem, crate::http::error::FieldError, crate::health::Health)),
    tags((name = "health", description = "Probes for load balancers and orchestrators"),
         (name = "identity", description = "Sign-up, verification, sign-in and sessions"),
         (name = "account", description = "The signed-in user's own account"),
         (name = "staff", description = "Support and sales: masked customer data, grants with a reason, the pipeline"),
         (name = "admin", description = "Staff administration, the access review, the audit trail"),
         (name = "catalog", description = "Panels and regions: public"),
         (name = "sites", description = "A customer's homes and their electricity usage"),
         (name = "quotes", description = "Quotes from real usage and simulated production; immutable versions"),
         (name = "orders", description = "Accepted quotes: the deposit, free days and bookings"),
         (name = "payments", description = "The payment provider's signed webhook"),
         (name = "jobs", description = "Jobs with their timeline, steps and photos, for their parties"),
         (name = "installer", description = "Offers to an installer's crew"),
         (name = "crews", description = "Installer companies and crews (admins)"),
         (name = "meta", description = "This description"))
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme that authenticated operations refer to.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
