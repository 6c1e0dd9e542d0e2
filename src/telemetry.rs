//! JSON-lines logging with a redaction rule (S-LG-1, S-LG-2).
//!
//! `tracing-subscriber`'s own JSON formatter prints every field it is given; ours drops the
//! value of any field whose name looks like a credential, whoever wrote the log line. Span
//! fields (request id, method, route, client IP, user id) are copied onto each event so that
//! every line can be traced back to its request.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry};

/// Field names containing one of these never have their value logged.
const REDACTED_NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "token",
    "secret",
    "code",
    "cookie",
    "authorization",
    "otp",
    "api_key",
    "private_key",
    "credential",
    "recovery",
];

pub const REDACTED: &str = "[redacted]";

pub fn is_sensitive_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    REDACTED_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// Installs the global subscriber. `log_level` filters our crate; dependencies log at `warn`
/// so that SQL statements and their parameters never reach the log.
pub fn init<W>(log_level: &str, writer: W) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(format!("warn,sunbridge={log_level}"))
        .or_else(|_| EnvFilter::try_new(log_level))?;
    Registry::default()
        .with(filter)
        .with(JsonLayer::new(writer))
        .try_init()?;
    Ok(())
}

pub struct JsonLayer<W> {
    writer: W,
}

impl<W> JsonLayer<W> {
    pub fn new(writer: W) -> Self {
        Self { writer }
    }
}

/// Fields recorded on a span, already redacted.
struct SpanFields(Map<String, Value>);

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl JsonVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let value = if is_sensitive_field(field.name()) {
            Value::from(REDACTED)
        } else {
            value
        };
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(format!("{value:#}")));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        attrs.record(&mut JsonVisitor(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            if let Some(SpanFields(fields)) = ext.get_mut::<SpanFields>() {
                values.record(&mut JsonVisitor(fields));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert(
            "time".into(),
            Value::from(Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)),
        );
        line.insert("level".into(), Value::from(meta.level().as_str()));
        line.insert("target".into(), Value::from(meta.target()));
        // Outer spans first, so the innermost value of a repeated name wins.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                    for (k, v) in fields {
                        line.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        event.record(&mut JsonVisitor(&mut line));
        let mut bytes = match serde_json::to_vec(&line) {
            Ok(bytes) => bytes,
            Err(_) => return,
        };
        bytes.push(b'\n');
        // A failed log write must not take the request down with it.
        let _ = self.writer.make_writer_for(meta).write_all(&bytes);
    }
}

/// An in-memory log sink: the test suite searches it for canary secrets.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn contents(&self) -> String {
        let buf = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&buf).into_owned()
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut buf = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        buf.extend_from_slice(data);
        // Also echo to stderr so a failing test shows what was logged.
        let _ = std::io::stderr().write_all(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_like_field_names_are_redacted_and_others_kept() {
        let logs = CapturedLogs::default();
        let subscriber = Registry::default().with(JsonLayer::new(logs.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", session_token = "CANARY-SPAN", request_id = "r-1");
            let _guard = span.enter();
            tracing::info!(
                password = "CANARY-PW",
                reset_token = "CANARY-TOKEN",
                totp_code = "CANARY-CODE",
                authorization = "Bearer CANARY-BEARER",
                cookie = "CANARY-COOKIE",
                status = 200,
                "login attempt"
            );
        });
        let out = logs.contents();
        assert!(!out.contains("CANARY"), "a secret reached the log: {out}");
        let line: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(line["password"], REDACTED);
        assert_eq!(line["session_token"], REDACTED);
        assert_eq!(line["status"], 200);
        assert_eq!(line["request_id"], "r-1");
        assert_eq!(line["message"], "login attempt");
        assert_eq!(line["level"], "INFO");
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }
}
