//! One JSON object per log line, with the fields of the spans the event happened in written as
//! top-level fields beside the event's own. An event logged while a request is handled thus
//! carries `request_id`, `app`, `subject` and `decision` of its `request` span
//! ([`crate::web::context::RequestContext`]) by name, exactly where the access log line carries
//! them, so `jq 'select(.request_id == "…")'` finds every line of one request.
//!
//! ```json
//! {"timestamp":"…","level":"WARN","target":"pforte::pipeline::app","message":"upstream error",
//!  "error":"…","request_id":"4f72…","app":"mail","subject":"d3db…","decision":"allow"}
//! ```
//!
//! An event's own field wins over a span's of the same name, and an inner span's over an outer
//! one's. tracing-subscriber's own JSON format nests span fields under `span` instead, which a
//! query must then look for in two places.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The event formatter; use it with [`JsonFields`] as the field formatter, which keeps each
/// span's fields as a JSON object.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(timestamp));
        line.insert("level".into(), Value::String(meta.level().to_string()));
        line.insert("target".into(), Value::String(meta.target().to_string()));
        event.record(&mut Fields(&mut line));
        // From the innermost span out: the first value of a name is kept.
        for span in ctx.event_scope().into_iter().flatten() {
            let extensions = span.extensions();
            let Some(fields) = extensions.get::<FormattedFields<JsonFields>>() else {
                continue;
            };
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields.as_str()) {
                for (name, value) in map {
                    line.entry(name).or_insert(value);
                }
            }
        }
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// An event's fields as JSON values: numbers and booleans as such, the rest as text.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_string(), value);
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, serde_json::json!(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing::field::Empty;
    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::fmt::format::JsonFields;

    use super::FlatJson;

    /// Log lines kept in memory.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn span_fields_are_top_level_fields_and_the_event_s_own_win() {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(lines.clone())
            .fmt_fields(JsonFields::new())
            .event_format(FlatJson)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request", request_id = "r1", app = Empty);
            request.record("app", "mail");
            let _outer = request.enter();
            let inner = tracing::info_span!("upstream", app = "mail-inner", attempt = 2u64);
            let _inner = inner.enter();
            tracing::warn!(request_id = "own", status = 502u16, "upstream error");
            drop(_inner);
            tracing::info!("back in the request");
        });
        tracing::info!("outside any subscriber");
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let line = &lines[0];
        assert_eq!(line["message"], "upstream error");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["request_id"], "own", "the event's own field wins");
        assert_eq!(line["app"], "mail-inner", "the inner span wins");
        assert_eq!(line["attempt"], 2);
        assert_eq!(line["status"], 502);
        assert!(line["timestamp"].as_str().unwrap().starts_with("20"));
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1]["request_id"], "r1",
            "from the span, recorded at its start"
        );
        assert_eq!(lines[1]["app"], "mail", "from the span, recorded later");
        assert!(
            lines[1].get("attempt").is_none(),
            "the inner span has ended"
        );
    }
}
