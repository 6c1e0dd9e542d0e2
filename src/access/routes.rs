//! Deny by default (S-AC-1). Every route is added through `Routes`, which records the access it
//! declares: public, or a named permission. The `guard` middleware looks up the matched route
//! in that table before any handler runs: a route that declared nothing is refused with 403.
//! The handler's extractor (`Caller<P>`, `PageUser<P>`) then checks the caller against the
//! policy table and that `P` is what the route declared, so the two cannot drift apart.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};

pub use super::admission::{Admission, NoAdmission};
use super::policy::Permission;
use crate::http::error::BodyLimit;
use crate::state::AppState;

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in, sign-up, public pages, health).
    Public,
    /// A signed-in caller whose role holds the permission.
    Needs(Permission),
}

/// Shorthand for route declarations: `.get("/healthz", PUBLIC, healthz)`.
pub const PUBLIC: Access = Access::Public;

impl From<Permission> for Access {
    fn from(p: Permission) -> Self {
        Access::Needs(p)
    }
}

/// One declared route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// Takes file uploads: the upload body limit applies instead of the ordinary one.
    pub upload: bool,
}

/// Request body limits the guard enforces per route.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    pub ordinary: usize,
    pub upload: usize,
}

impl BodyLimits {
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            ordinary: settings.body_limit_bytes,
            upload: settings.upload_limit_bytes,
        }
    }
}

/// A router under construction that cannot take a route without its access declaration.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<Route>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! method {
    ($name:ident, $method:ident) => {
        pub fn $name<H, T>(self, path: &'static str, access: impl Into<Access>, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.add(
                Method::$method,
                MethodFilter::$method,
                path,
                access.into(),
                handler,
            )
        }
    };
}

impl Routes {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    method!(get, GET);
    method!(post, POST);
    method!(put, PUT);
    method!(patch, PATCH);
    method!(delete, DELETE);

    /// A POST that takes a file: the upload body limit applies.
    pub fn upload<H, T>(mut self, path: &'static str, access: impl Into<Access>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self = self.add(Method::POST, MethodFilter::POST, path, access.into(), handler);
        if let Some(last) = self.table.last_mut() {
            last.upload = true;
        }
        self
    }

    fn add<H, T>(
        mut self,
        method: Method,
        filter: MethodFilter,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        // axum merges method routers registered on the same path.
        self.router = self.router.route(path, on(filter, handler));
        self.table.push(Route {
            method,
            path,
            access,
            upload: false,
        });
        self
    }

    /// The routes declared so far.
    pub fn table(&self) -> &[Route] {
        &self.table
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// The router, guarded by its table, and the table itself.
    pub fn finish(self, limits: BodyLimits) -> (Router<AppState>, Arc<RouteTable>) {
        self.finish_with::<NoAdmission>(limits, None)
    }

    /// The router, guarded by its table with `admission` charged first, and the table.
    pub fn finish_with<A: Admission>(
        self,
        limits: BodyLimits,
        admission: Option<Arc<A>>,
    ) -> (Router<AppState>, Arc<RouteTable>) {
        let table = Arc::new(RouteTable::new(self.table, limits));
        let router = self.router.layer(axum::middleware::from_fn_with_state(
            Gate {
                table: table.clone(),
                admission,
            },
            guard::<A>,
        ));
        (router, table)
    }
}

/// The guard's state: the table, and what is charged before it is consulted.
pub struct Gate<A> {
    table: Arc<RouteTable>,
    admission: Option<Arc<A>>,
}

impl<A> Clone for Gate<A> {
    fn clone(&self) -> Self {
        Self {
            table: self.table.clone(),
            admission: self.admission.clone(),
        }
    }
}

/// Every declared route, by path template.
#[derive(Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
    by_path: BTreeMap<&'static str, Vec<(Method, Access, bool)>>,
    limits: BodyLimits,
}

impl RouteTable {
    fn new(routes: Vec<Route>, limits: BodyLimits) -> Self {
        let mut by_path: BTreeMap<&'static str, Vec<(Method, Access, bool)>> = BTreeMap::new();
        for r in &routes {
            by_path
                .entry(r.path)
                .or_default()
                .push((r.method.clone(), r.access, r.upload));
        }
        Self {
            routes,
            by_path,
            limits,
        }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route's access and body limit, and whether it takes files.
    fn lookup_route(&self, path: &str, method: &Method) -> (Lookup, bool) {
        let Some(methods) = self.by_path.get(path) else {
            return (Lookup::Undeclared, false);
        };
        // HEAD is served by the GET handler, under the GET declaration.
        let wanted = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        match methods.iter().find(|(m, _, _)| m == wanted) {
            Some((_, access, upload)) => (
                Lookup::Declared(
                    *access,
                    if *upload {
                        self.limits.upload
                    } else {
                        self.limits.ordinary
                    },
                ),
                *upload,
            ),
            None => (
                Lookup::WrongMethod(
                    methods
                        .iter()
                        .map(|(m, _, _)| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                false,
            ),
        }
    }
}

enum Lookup {
    /// The access rule and the body limit of the route.
    Declared(Access, usize),
    WrongMethod(String),
    Undeclared,
}

/// The access the matched route declared, for the extractors to compare with their own.
#[derive(Clone, Copy, Debug)]
pub struct DeclaredAccess(pub Access);

/// Runs after routing (it is a route layer, so the matched template is known) and before the
/// handler: the admission first (a refused request costs nothing more), then the table.
pub async fn guard<A: Admission>(State(gate): State<Gate<A>>, mut req: Request, next: Next) -> Response {
    let Some(route) = req.extensions().get::<MatchedPath>().cloned() else {
        // No route matched: the fallback answers 404.
        return next.run(req).await;
    };
    let (lookup, upload) = gate.table.lookup_route(route.as_str(), req.method());
    let Some(admission) = &gate.admission else {
        return check(lookup, req, next).await;
    };
    match admission.admit(route.as_str(), upload, &mut req).await {
        Ok(ticket) => {
            let mut response = check(lookup, req, next).await;
            admission.settle(ticket, &mut response).await;
            response
        }
        Err(refused) => refused,
    }
}

/// The table's verdict on a matched route.
async fn check(lookup: Lookup, mut req: Request, next: Next) -> Response {
    match lookup {
        Lookup::Declared(access, limit) => {
            // S-IN-3: a declared length over the route's limit is refused unread; a streamed
            // body is cut off at the limit (axum answers 413 when it hits the cap).
            let declared = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|len| len > limit as u64) {
                let mut response = StatusCode::PAYLOAD_TOO_LARGE.into_response();
                response.extensions_mut().insert(BodyLimit(limit));
                return response;
            }
            req.extensions_mut().insert(DeclaredAccess(access));
            let req = req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
            let mut response = next.run(req).await;
            // A streamed body cut off at the limit: the page says which limit it was.
            if response.status() == StatusCode::PAYLOAD_TOO_LARGE
                && response.extensions().get::<BodyLimit>().is_none()
            {
                response.extensions_mut().insert(BodyLimit(limit));
            }
            response
        }
        Lookup::WrongMethod(allow) => {
            let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        Lookup::Undeclared => {
            let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
            tracing::error!(route = ?route, "route declares no access rule; refused (S-AC-1)");
            StatusCode::FORBIDDEN.into_response()
        }
    }
}

/// Did the route declare `permission`? A mismatch is a programming error: refuse and say so.
pub(crate) fn declared(parts: &axum::http::request::Parts, permission: Permission) -> bool {
    match parts.extensions.get::<DeclaredAccess>() {
        Some(DeclaredAccess(Access::Needs(p))) if *p == permission => true,
        other => {
            tracing::error!(
                wanted = permission.name(),
                declared = ?other.map(|d| d.0),
                "handler permission differs from the route declaration; refused"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn ok() -> &'static str {
        "ok"
    }

    const LIMITS: BodyLimits = BodyLimits {
        ordinary: 1024,
        upload: 4096,
    };

    fn table() -> Arc<RouteTable> {
        Arc::new(RouteTable::new(
            vec![Route {
                method: Method::GET,
                path: "/declared",
                access: Access::Public,
                upload: false,
            }],
            LIMITS,
        ))
    }

    async fn status_of(router: Router, method: Method, path: &str) -> StatusCode {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        router.oneshot(req).await.unwrap().status()
    }

    #[tokio::test]
    async fn a_route_added_without_a_declaration_is_refused() {
        // Bypassing `Routes` is the mistake S-AC-1 guards against: the handler must not run.
        let router: Router = Router::new()
            .route("/declared", get(ok))
            .route("/sneaked-in", get(ok).post(ok))
            .layer(axum::middleware::from_fn_with_state(
                Gate::<NoAdmission> {
                    table: table(),
                    admission: None,
                },
                guard::<NoAdmission>,
            ));
        assert_eq!(
            status_of(router.clone(), Method::GET, "/declared").await,
            StatusCode::OK
        );
        assert_eq!(
            status_of(router.clone(), Method::HEAD, "/declared").await,
            StatusCode::OK
        );
        assert_eq!(
            status_of(router.clone(), Method::GET, "/sneaked-in").await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status_of(router.clone(), Method::POST, "/sneaked-in").await,
            StatusCode::FORBIDDEN
        );
        // An undeclared method on a declared path does not reach a handler either.
        assert_eq!(
            status_of(router.clone(), Method::POST, "/declared").await,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            status_of(router, Method::GET, "/nowhere").await,
            StatusCode::NOT_FOUND
        );
    }

    /// The guard refuses undeclared routes at run time; this keeps them out of the code in
    /// the first place: no module but this one builds an axum router by hand. The one
    /// exception is the metrics listener (`monitoring.rs`): a separate address, not the
    /// application, one read-only path.
    #[test]
    fn no_module_adds_routes_around_the_table() {
        fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("access/routes.rs")
                    && !path.ends_with("src/monitoring.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for needle in [
                        "Router::new",
                        ".route(",
                        ".nest(",
                        ".fallback(",
                        ".route_service(",
                    ] {
                        if text.contains(needle) {
                            found.push(format!("{} uses {needle}", path.display()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.is_empty(), "routes outside access::Routes: {found:?}");
    }

    #[test]
    fn routes_record_every_declaration() {
        let routes = Routes::new()
            .get("/a", PUBLIC, ok)
            .post("/a", Permission::OwnAccount, ok);
        let routes = routes.upload("/file", PUBLIC, ok);
        let (_, table) = routes.finish(LIMITS);
        assert_eq!(table.routes().len(), 3);
        assert!(matches!(
            table.lookup_route("/a", &Method::POST).0,
            Lookup::Declared(Access::Needs(Permission::OwnAccount), 1024)
        ));
        assert!(matches!(
            table.lookup_route("/file", &Method::POST).0,
            Lookup::Declared(_, 4096)
        ));
        assert!(
            matches!(table.lookup_route("/a", &Method::DELETE).0, Lookup::WrongMethod(ref m) if m == "GET, POST")
        );
    }
}
