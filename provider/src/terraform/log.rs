//! Logs as Terraform reads them: one hclog JSON object per line on stderr
//! (`{"@level":"debug","@message":"...","@module":"provider.terraform-provider-elasticache",
//! "@timestamp":"2026-01-02T03:04:05.123456Z", ...fields}`). go-plugin parses such lines and shows
//! them at their level under `TF_LOG` / `TF_LOG_PROVIDER`; the timestamp has exactly six fractional
//! digits because that is the layout go-plugin parses.
//!
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG` (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`,
//! `JSON` = trace, `OFF`), else warnings and errors only. Other crates (the AWS SDK, hyper, h2) log one
//! step less verbosely than the provider; transport crates (h2, hyper, rustls, tonic) only warn. Nothing here logs configuration
//! values: credentials never reach a log line.

use std::io::Write;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The `@module` of every line.
pub const MODULE: &str = "provider.terraform-provider-elasticache";

/// The provider's level from `TF_LOG_PROVIDER` / `TF_LOG` values.
pub fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let raw = provider
        .filter(|s| !s.trim().is_empty())
        .or(global.filter(|s| !s.trim().is_empty()));
    match raw.map(|s| s.trim().to_ascii_uppercase()).as_deref() {
        None => LevelFilter::WARN,
        Some("TRACE" | "JSON") => LevelFilter::TRACE,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some("INFO") => LevelFilter::INFO,
        Some("WARN") => LevelFilter::WARN,
        Some("ERROR") => LevelFilter::ERROR,
        Some("OFF") => LevelFilter::OFF,
        // Terraform treats any other value as TRACE.
        Some(_) => LevelFilter::TRACE,
    }
}

fn one_step_quieter(l: LevelFilter) -> LevelFilter {
    match l {
        LevelFilter::TRACE => LevelFilter::DEBUG,
        LevelFilter::DEBUG => LevelFilter::INFO,
        other => other,
    }
}

/// Installs the hclog layer as the global subscriber (once; later calls do nothing), writing to
/// stderr only.
pub fn init() {
    init_with(StderrTee::new(None));
}

/// [`init`], writing through `tee` (stderr, plus go-plugin's stdio stream in debug mode).
pub fn init_with(tee: StderrTee) {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    // Transport crates (every h2 frame, every TLS record) stay at warnings: they drown the
    // provider's own lines and say nothing a user can act on.
    let quiet = LevelFilter::WARN.min(level);
    let filter = Targets::new()
        .with_default(one_step_quieter(level))
        .with_target("h2", quiet)
        .with_target("hyper", quiet)
        .with_target("hyper_util", quiet)
        .with_target("rustls", quiet)
        .with_target("tokio_rustls", quiet)
        .with_target("tonic", quiet)
        .with_target("tower", quiet)
        .with_target("log", quiet)
        .with_target("elasticache_provider", level)
        .with_target("terraform_provider_elasticache", level);
    let _ = tracing_subscriber::registry()
        .with(HclogLayer::new(tee).with_filter(filter))
        .try_init();
}

/// Where log lines go: stderr, and in debug mode also every subscriber of go-plugin's stdio stream
/// (one whole line per message: the layer writes a line in one `write_all`).
#[derive(Clone)]
pub struct StderrTee {
    lines: Option<tokio::sync::broadcast::Sender<Vec<u8>>>,
}

impl StderrTee {
    pub fn new(lines: Option<tokio::sync::broadcast::Sender<Vec<u8>>>) -> Self {
        StderrTee { lines }
    }
}

impl Write for StderrTee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().write_all(buf)?;
        if let Some(tx) = &self.lines {
            // No subscriber yet (Terraform not attached) is not an error: the line is on stderr.
            let _ = tx.send(buf.to_vec());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for StderrTee {
    type Writer = StderrTee;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A layer writing each event as one hclog JSON line.
pub struct HclogLayer<W> {
    make_writer: W,
}

impl<W> HclogLayer<W> {
    pub fn new(make_writer: W) -> Self {
        HclogLayer { make_writer }
    }
}

struct Fields {
    message: String,
    rest: Map<String, Json>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.rest
                .insert(field.name().to_string(), Json::from(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.rest
            .insert(field.name().to_string(), Json::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.rest
            .insert(field.name().to_string(), Json::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.rest
            .insert(field.name().to_string(), Json::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.rest
            .insert(field.name().to_string(), Json::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.rest
                .insert(field.name().to_string(), Json::from(format!("{value:?}")));
        }
    }
}

fn level_name(l: &Level) -> &'static str {
    match *l {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Now as hclog's JSON timestamp: `2006-01-02T15:04:05.000000Z07:00`.
pub fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    now.format(&fmt).unwrap_or_default()
}

/// One event as an hclog JSON line (without the newline).
pub fn line(level: &Level, target: &str, message: &str, fields: Map<String, Json>) -> String {
    let mut o = Map::new();
    o.insert("@level".into(), Json::from(level_name(level)));
    o.insert("@message".into(), Json::from(message));
    o.insert("@module".into(), Json::from(MODULE));
    o.insert("@timestamp".into(), Json::from(timestamp()));
    if !target.starts_with("elasticache_provider")
        && !target.starts_with("terraform_provider_elasticache")
    {
        o.insert("target".into(), Json::from(target));
    }
    for (k, v) in fields {
        if !k.starts_with('@') && !k.starts_with("log.") {
            o.insert(k, v);
        }
    }
    Json::Object(o).to_string()
}

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber,
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields {
            message: String::new(),
            rest: Map::new(),
        };
        event.record(&mut f);
        let meta = event.metadata();
        let mut text = line(meta.level(), meta.target(), &f.message, f.rest);
        text.push('\n');
        let mut w = self.make_writer.make_writer();
        let _ = w.write_all(text.as_bytes());
        let _ = w.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn levels_follow_terraforms_variables() {
        assert_eq!(level_from_env(None, None), LevelFilter::WARN);
        assert_eq!(level_from_env(None, Some("debug")), LevelFilter::DEBUG);
        assert_eq!(
            level_from_env(Some("ERROR"), Some("TRACE")),
            LevelFilter::ERROR
        );
        assert_eq!(level_from_env(Some(""), Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level_from_env(None, Some("off")), LevelFilter::OFF);
        assert_eq!(level_from_env(None, Some("1")), LevelFilter::TRACE);
    }

    #[test]
    fn timestamps_have_six_fractional_digits() {
        let t = timestamp();
        assert_eq!(t.len(), "2026-01-02T03:04:05.123456Z".len(), "{t}");
        assert_eq!(&t[19..20], ".");
        assert!(t.ends_with('Z'));
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(b);
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn events_become_hclog_json_lines() {
        let buf = Buf::default();
        let w = buf.clone();
        let sub = tracing_subscriber::registry().with(HclogLayer::new(move || w.clone()));
        tracing::subscriber::with_default(sub, || {
            tracing::info!(rpc = "PlanResourceChange", n = 3, "planned {}", "x");
        });
        let out = String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        let j: Json = serde_json::from_str(out.trim()).unwrap_or(Json::Null);
        assert_eq!(j["@level"], "info");
        assert_eq!(j["@message"], "planned x");
        assert_eq!(j["@module"], MODULE);
        assert_eq!(j["rpc"], "PlanResourceChange");
        assert_eq!(j["n"], 3);
        assert!(out.ends_with('\n') && out.matches('\n').count() == 1);
    }
}
