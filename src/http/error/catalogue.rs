//! The catalogue of problem codes: each stable code with its wording and its page at
//! `/problems/{code}`.

use super::*;

/// A stable, documented problem code and its human wording.
pub struct ProblemKind {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
}

/// Every problem code the API answers with; each has a page at `/problems/{code}`.
pub const PROBLEMS: &[ProblemKind] = &[
    ProblemKind {
        code: "bad_request",
        title: "Bad request",
        explanation: "The request could not be understood. Check its syntax and content type.",
    },
    ProblemKind {
        code: "validation_failed",
        title: "Validation failed",
        explanation: "Some fields are missing or invalid; `errors` lists each field with a code.",
    },
    ProblemKind {
        code: "weak_password",
        title: "Password too weak",
        explanation: "Choose 12 to 128 characters that are hard to guess and do not contain your name, your email or the service's name; `detail` says what to change.",
    },
    ProblemKind {
        code: "invalid_token",
        title: "Invalid or expired token",
        explanation: "The token is wrong, expired or already used. Ask for a new one (a new email, or sign in again).",
    },
    ProblemKind {
        code: "invalid_code",
        title: "Wrong code",
        explanation: "The authenticator or recovery code is wrong or was already used. Repeated failures are throttled.",
    },
    ProblemKind {
        code: "mfa_required",
        title: "Second factor required",
        explanation: "This account has two-step sign-in: send the current code from the authenticator app (or a recovery code).",
    },
    ProblemKind {
        code: "mfa_enrolment_required",
        title: "Set up two-step sign-in first",
        explanation: "Staff accounts must enrol a second factor before they can do anything else: use `/me/mfa/totp`.",
    },
    ProblemKind {
        code: "mfa_already_enabled",
        title: "Two-step sign-in is already on",
        explanation: "Remove the current second factor before enrolling a new one.",
    },
    ProblemKind {
        code: "mfa_not_enrolled",
        title: "No two-step sign-in to confirm or remove",
        explanation: "Start enrolment with `POST /me/mfa/totp` first.",
    },
    ProblemKind {
        code: "email_taken",
        title: "Email address in use",
        explanation: "Another account uses that email address.",
    },
    ProblemKind {
        code: "invalid_credentials",
        title: "Wrong email or password",
        explanation: "The email and password do not match an active account. Repeated failures are throttled.",
    },
    ProblemKind {
        code: "reauth_required",
        title: "Confirm your password",
        explanation: "This change needs a recent sign-in: call `/auth/reauth` with your password, then retry within 5 minutes.",
    },
    ProblemKind {
        code: "unauthorized",
        title: "Authentication required",
        explanation: "Send a valid access token in the Authorization header.",
    },
    ProblemKind {
        code: "forbidden",
        title: "Forbidden",
        explanation: "Your account is not allowed to do this.",
    },
    ProblemKind {
        code: "already_verified",
        title: "Already confirmed",
        explanation: "This account's email address is already confirmed; no new link is needed.",
    },
    ProblemKind {
        code: "too_many_grants",
        title: "Too many customers open",
        explanation: "You hold 10 open grants to customers' personal data; close one before opening another.",
    },
    ProblemKind {
        code: "usage_required",
        title: "Usage needed first",
        explanation: "A quote is sized from the home's electricity usage: import a Green Button file or type your yearly usage first.",
    },
    ProblemKind {
        code: "own_account",
        title: "Not on your own account",
        explanation: "Administrators cannot change their own role or disable themselves; ask another administrator.",
    },
    ProblemKind {
        code: "staff_mfa_required",
        title: "Staff keep their second factor",
        explanation: "Staff accounts must always have a second factor; set up a new one instead of removing it.",
    },
    ProblemKind {
        code: "grant_required",
        title: "Open the customer data first",
        explanation: "Staff see a customer's personal data (address, phone, photos of the home) only through a live grant: open the customer with a reason (`POST /staff/customers/{id}/access`), then retry.",
    },
    ProblemKind {
        code: "email_unverified",
        title: "Confirm your email address first",
        explanation: "Ordering needs a confirmed email address: use the link we sent, or ask for a new one with `POST /auth/verify-email/resend`.",
    },
    ProblemKind {
        code: "order_exists",
        title: "An order is in progress",
        explanation: "This home has an order that is not cancelled; follow it, or cancel it before accepting another quote.",
    },
    ProblemKind {
        code: "quote_expired",
        title: "The quote has expired",
        explanation: "A quote's price holds for a limited time (`quote_valid_days`, 30 by default) and says until when. Ask for a new quote: it is computed from the same usage at today's prices.",
    },
    ProblemKind {
        code: "not_payable",
        title: "No deposit to pay",
        explanation: "The deposit is paid already, or the order no longer takes one (it was cancelled).",
    },
    ProblemKind {
        code: "payment_provider_unavailable",
        title: "Payment provider unavailable",
        explanation: "The payment provider could not start a checkout. Nothing was charged; try again in a few minutes.",
    },
    ProblemKind {
        code: "invalid_signature",
        title: "Webhook refused",
        explanation: "The webhook's signature is missing, wrong or too old (more than 5 minutes), or its amount differs from what was asked for.",
    },
    ProblemKind {
        code: "wrong_state",
        title: "Not at this step",
        explanation: "The job is not at the step this needs: a survey is booked after the deposit, an installation after the permit.",
    },
    ProblemKind {
        code: "already_booked",
        title: "Already booked",
        explanation: "This job has a day of that kind booked already; its crew's answer is pending or confirmed.",
    },
    ProblemKind {
        code: "slot_taken",
        title: "That day is taken",
        explanation: "No crew has room left on that day: list the free days again and pick another.",
    },
    ProblemKind {
        code: "invalid_transition",
        title: "Not a next step",
        explanation: "A job moves one step at a time, along the lifecycle; this step does not follow the job's current state.",
    },
    ProblemKind {
        code: "too_early",
        title: "Not before the booked day",
        explanation: "The survey and the installation are recorded on their booked day or after it, by the home's calendar; the detail names the day.",
    },
    ProblemKind {
        code: "no_day",
        title: "No day confirmed",
        explanation: "The survey and the installation are recorded on a confirmed day; this job has none of that kind yet.",
    },
    ProblemKind {
        code: "photos_missing",
        title: "Photos missing",
        explanation: "This step needs photos the job does not have yet (a survey: the roof and the meter; an installation: the array, the inverter and the labels); the detail names them, and the job's `readiness` lists them.",
    },
    ProblemKind {
        code: "offer_closed",
        title: "The offer is closed",
        explanation: "The offer was answered, expired or withdrawn; it may have moved to another crew.",
    },
    ProblemKind {
        code: "not_found",
        title: "Not found",
        explanation: "There is nothing here, or you are not allowed to see it.",
    },
    ProblemKind {
        code: "method_not_allowed",
        title: "Method not allowed",
        explanation: "This resource does not accept that HTTP method.",
    },
    ProblemKind {
        code: "conflict",
        title: "Conflict",
        explanation: "The request conflicts with the current state of the resource.",
    },
    ProblemKind {
        code: "payload_too_large",
        title: "Request too large",
        explanation: "The request body is larger than this endpoint accepts.",
    },
    ProblemKind {
        code: "unsupported_media_type",
        title: "Unsupported media type",
        explanation: "Send `application/json` (or `multipart/form-data` for uploads).",
    },
    ProblemKind {
        code: "rate_limited",
        title: "Too many requests",
        explanation: "Wait for the number of seconds in `Retry-After`, then try again.",
    },
    ProblemKind {
        code: "internal_error",
        title: "Something went wrong on our side",
        explanation: "The error was logged with the request id; quote it if you contact support.",
    },
    ProblemKind {
        code: "unavailable",
        title: "Service unavailable",
        explanation: "The service is busy or a dependency is down; try again shortly.",
    },
];

pub fn problem_kind(code: &str) -> Option<&'static ProblemKind> {
    PROBLEMS.iter().find(|p| p.code == code)
}

pub(super) fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() && s != StatusCode::INTERNAL_SERVER_ERROR => "unavailable",
        s if s.is_client_error() => "bad_request",
        _ => "internal_error",
    }
}
