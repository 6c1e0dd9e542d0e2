//! Cross-cutting HTTP: request context (ids, client IP, access log), security headers,
//! errors (problem+json for the API, an HTML page for browsers) and the middleware stack.

pub mod client_ip;
pub mod context;
pub mod error;
pub mod headers;
pub mod json;
pub mod origin;
pub mod perimeter;
pub mod rate_limit;

pub use context::{RequestContext, RequestId};
pub use error::{ApiError, FieldError, PageError};
