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
        crate::security_report::page::report_json,
        crate::catalog::api::panels,
        crate::catalog::api::holidays,
        crate::catalog::api::add_holiday,
        crate::catalog::api::remove_holiday,
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
        crate::sites::api::access_notes,
        crate::sites::api::import_usage,
        crate::sites::api::usage,
        crate::sites::api::zip_code,
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
        crate::orders::api::move_booking,
        crate::marketplace::api::staff_slots,
        crate::marketplace::api::staff_move,
        crate::orders::api::deposit,
        crate::orders::api::slots_of,
        crate::orders::api::book,
        crate::payments::api::webhook,
        crate::scheduling::api::offers,
        crate::scheduling::api::accept,
        crate::scheduling::api::decline,
        crate::marketplace::api::today,
        crate::marketplace::api::offers_stream,
        crate::push::api::key,
        crate::push::api::subscribe,
        crate::push::api::list,
        crate::push::api::unsubscribe,
        crate::jobs::api::list,
        crate::jobs::api::show,
        crate::jobs::api::transition,
        crate::jobs::api::upload_photo,
        crate::jobs::api::photo,
        crate::jobs::rating::show,
        crate::jobs::rating::give,
        crate::jobs::rating::crew_rating,
    ),
    modifiers(&BearerAuth, &EveryAnswer),
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
         (name = "push", description = "Web Push: a device subscribes to notifications of new offers and job steps"),
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

/// Adds to every operation the answers the layers around the handlers can give, so a client
/// generated from this document knows each status it may meet: 400 (a malformed request, or
/// a host this server does not answer for), 401 (a missing or expired token), 403 (a missing
/// permission, or a blocked address), 404 (an id that is not yours), 413, 415 and 422 (a body
/// too large, of the wrong type, or invalid), 429 (a request budget spent, with `Retry-After`
/// and the `RateLimit` headers), 500 and 503. Error bodies are `application/problem+json`.
struct EveryAnswer;

impl utoipa::Modify for EveryAnswer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::path::Operation;
        use utoipa::openapi::response::ResponseBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref};

        const PROBLEM: &str = "application/problem+json";
        let problem = |description: &str| {
            ResponseBuilder::new().description(description).content(
                PROBLEM,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
        };
        let text_header = |description: &str| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(description))
                .build()
        };
        let integer_header = |description: &str| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some(description))
                .build()
        };
        let add = |op: &mut Operation, path: &str| {
            let probe = path == "/healthz" || path == "/readyz";
            // Error answers the handler declared: their bodies are problem+json.
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(r) = response
                    && let Some(content) = r.content.shift_remove("application/json")
                {
                    let is_problem = matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
                    let key = if is_problem { PROBLEM } else { "application/json" };
                    r.content.insert(key.to_owned(), content);
                }
            }
            let mut extra: Vec<(&str, ResponseBuilder)> = vec![
                (
                    "500",
                    problem("An unexpected error; the problem was logged under the request id"),
                ),
                (
                    "503",
                    problem("The request took too long, or a service it needs is away; try again"),
                ),
            ];
            if !probe {
                extra.push((
                    "400",
                    problem("A malformed request, or a host this server does not answer for"),
                ));
                extra.push((
                    "403",
                    problem("The caller's role lacks the permission, or the client address is blocked"),
                ));
                extra.push((
                    "429",
                    problem(
                        "A request budget is spent (or sign-in is throttled): wait `Retry-After` seconds",
                    )
                    .header(
                        "Retry-After",
                        integer_header("Seconds to wait before trying again"),
                    )
                    .header(
                        "RateLimit-Policy",
                        text_header("The budget: `\"class\";q=burst;w=seconds`"),
                    )
                    .header(
                        "RateLimit",
                        text_header("What is left: `\"class\";r=remaining;t=seconds`"),
                    ),
                ));
            }
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                extra.push((
                    "401",
                    problem("No valid access token: sign in, or refresh the token"),
                ));
            }
            if path.contains('{') {
                extra.push(("404", problem("Nothing with this id is yours to see")));
            }
            if op.request_body.is_some() {
                extra.push(("413", problem("The body is larger than this route accepts")));
                extra.push(("415", problem("The body is not of a type this route accepts")));
            }
            if op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                extra.push((
                    "422",
                    problem("A field or parameter is missing or invalid; `errors` names each"),
                ));
            }
            for (status, response) in extra {
                let response = response.build();
                match op.responses.responses.get_mut(status) {
                    // A handler's own 429 (sign-in throttling) keeps its words and gains the
                    // headers every 429 carries.
                    Some(RefOr::T(declared)) => {
                        for (name, header) in response.headers {
                            declared.headers.entry(name).or_insert(header);
                        }
                    }
                    Some(RefOr::Ref(_)) => {}
                    None => {
                        op.responses
                            .responses
                            .insert(status.to_owned(), RefOr::T(response));
                    }
                }
            }
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                add(op, path);
            }
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
