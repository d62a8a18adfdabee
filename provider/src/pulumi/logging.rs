//! Logs for Pulumi: a `tracing` layer that forwards events to the engine's `Log` RPC.
//!
//! Pulumi hides a plugin's stdout and stderr, so the engine's `pulumirpc.Engine/Log` is the only way
//! to show a user a warning. Events are queued and sent in order by one task, which connects to the
//! engine once its address is known (the last command-line argument, `Handshake.engine_address` or
//! `Attach.address`). An event with a `urn` field is attached to that resource.
//!
//! Every message, to the engine and to stderr, first has the secrets the provider decoded replaced
//! ([`Secrets::scrub`]): debug lines print what is sent to AWS, and AWS errors echo it.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use elasticache_proto::pulumirpc::{engine_client::EngineClient, LogRequest, LogSeverity};
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::redact::Secrets;

/// Messages queued before an engine address is known (the oldest are dropped beyond this).
const MAX_PENDING: usize = 1000;

enum Msg {
    Address(String),
    Log(LogRequest),
}

/// The queue to the forwarding task, and the secrets kept out of what it forwards.
#[derive(Clone)]
pub struct EngineLog {
    tx: mpsc::UnboundedSender<Msg>,
    secrets: Arc<Secrets>,
}

static GLOBAL: OnceLock<EngineLog> = OnceLock::new();

impl EngineLog {
    /// Starts the forwarding task (needs a Tokio runtime) and makes it the process's engine log.
    pub fn start() -> EngineLog {
        GLOBAL
            .get_or_init(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(forward(rx));
                EngineLog {
                    tx,
                    secrets: Arc::default(),
                }
            })
            .clone()
    }

    /// The process's engine log, if started.
    pub fn global() -> Option<&'static EngineLog> {
        GLOBAL.get()
    }

    /// Sets (or changes) the engine address logs are sent to.
    pub fn set_address(&self, address: &str) {
        if !address.is_empty() {
            let _ = self.tx.send(Msg::Address(address.to_string()));
        }
    }

    /// The secrets this log keeps out of its messages (the provider adds those it decodes).
    pub fn secrets(&self) -> Arc<Secrets> {
        self.secrets.clone()
    }

    /// Queues one log message, its secrets replaced.
    pub fn log(&self, severity: LogSeverity, message: String, urn: String) {
        let req = LogRequest {
            severity: severity as i32,
            message: self.secrets.scrub(&message).into_owned(),
            urn,
            stream_id: 0,
            ephemeral: false,
        };
        let _ = self.tx.send(Msg::Log(req));
    }
}

async fn forward(mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut client: Option<EngineClient<tonic::transport::Channel>> = None;
    let mut pending: std::collections::VecDeque<LogRequest> = std::collections::VecDeque::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Address(addr) => {
                let url = if addr.contains("://") {
                    addr
                } else {
                    format!("http://{addr}")
                };
                client = match tonic::transport::Endpoint::from_shared(url) {
                    Ok(ep) => Some(EngineClient::new(ep.connect_lazy())),
                    Err(_) => None,
                };
                if let Some(c) = client.as_mut() {
                    while let Some(req) = pending.pop_front() {
                        let _ = c.log(req).await;
                    }
                }
            }
            Msg::Log(req) => match client.as_mut() {
                Some(c) => {
                    let _ = c.log(req).await;
                }
                None => {
                    if pending.len() >= MAX_PENDING {
                        pending.pop_front();
                    }
                    pending.push_back(req);
                }
            },
        }
    }
}

/// The `tracing` layer that forwards events to the engine (filter it per layer).
pub struct EngineLayer {
    log: EngineLog,
}

impl EngineLayer {
    pub fn new(log: EngineLog) -> Self {
        EngineLayer { log }
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    urn: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "urn" => self.urn = value.to_string(),
            n => {
                let _ = write!(self.rest, " {n}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "urn" => self.urn = format!("{value:?}").trim_matches('"').to_string(),
            n => {
                let _ = write!(self.rest, " {n}={value:?}");
            }
        }
    }
}

/// The engine's severity for a `tracing` level.
pub fn severity(level: &Level) -> LogSeverity {
    match *level {
        Level::ERROR => LogSeverity::Error,
        Level::WARN => LogSeverity::Warning,
        Level::INFO => LogSeverity::Info,
        _ => LogSeverity::Debug,
    }
}

/// The URN recorded on a span (see [`rpc_span`]).
struct SpanUrn(String);

impl<S> Layer<S> for EngineLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        if !f.urn.is_empty() {
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(SpanUrn(f.urn));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        if f.urn.is_empty() {
            // An event inside an RPC's span belongs to that RPC's resource.
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope {
                    if let Some(u) = span.extensions().get::<SpanUrn>() {
                        f.urn = u.0.clone();
                        break;
                    }
                }
            }
        }
        let message = if f.rest.is_empty() {
            f.message
        } else {
            format!("{}{}", f.message, f.rest)
        };
        self.log
            .log(severity(event.metadata().level()), message, f.urn);
    }
}

/// The span of one RPC about resource `urn`: events inside it are logged against that resource.
pub fn rpc_span(rpc: &'static str, urn: &str) -> tracing::Span {
    tracing::info_span!("rpc", rpc = rpc, urn = urn)
}

/// Command-line options of the plugin that concern logging.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// `--logtostderr`: also write logs to stderr.
    pub to_stderr: bool,
    /// `-v=N` (glog verbosity): 0-4 info, 5-8 debug, 9+ trace for this provider's own events.
    pub verbosity: u32,
    /// The engine address (the last positional argument), if given.
    pub engine_address: Option<String>,
    /// `--tracing X`: accepted; the endpoint is not used.
    pub tracing: Option<String>,
}

impl LogOptions {
    /// Parses the plugin's arguments (without the program name). Unknown flags are ignored.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> LogOptions {
        let mut o = LogOptions::default();
        let mut it = args.into_iter().peekable();
        while let Some(a) = it.next() {
            let flag = a.trim_start_matches('-');
            if a.starts_with('-') {
                let (name, value) = match flag.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (flag, None),
                };
                match name {
                    "logtostderr" => o.to_stderr = value.map(|v| v != "false").unwrap_or(true),
                    "v" => {
                        let v = value.or_else(|| it.next_if(|n| n.parse::<u32>().is_ok()));
                        o.verbosity = v.and_then(|v| v.parse().ok()).unwrap_or(0);
                    }
                    "tracing" => o.tracing = value.or_else(|| it.next()),
                    _ => {}
                }
            } else {
                o.engine_address = Some(a);
            }
        }
        o
    }

    /// The level of this provider's own events.
    pub fn own_level(&self) -> tracing::level_filters::LevelFilter {
        use tracing::level_filters::LevelFilter;
        match self.verbosity {
            0..=4 => LevelFilter::INFO,
            5..=8 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        }
    }
}

/// Installs the global subscriber: the engine layer (this provider's events at [`LogOptions::own_level`],
/// other crates' warnings and errors), and stderr when `--logtostderr` was given. Returns the engine log.
pub fn init(opts: &LogOptions) -> EngineLog {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let log = EngineLog::start();
    if let Some(a) = &opts.engine_address {
        log.set_address(a);
    }
    let own = opts.own_level();
    let targets = Targets::new()
        .with_default(tracing::level_filters::LevelFilter::WARN)
        .with_target("elasticache_provider", own)
        .with_target("pulumi_resource_elasticache", own)
        // The forwarding itself must not log into the forwarder.
        .with_target("h2", tracing::level_filters::LevelFilter::OFF)
        .with_target("tonic", tracing::level_filters::LevelFilter::OFF)
        .with_target("tower", tracing::level_filters::LevelFilter::OFF)
        .with_target("hyper", tracing::level_filters::LevelFilter::OFF);
    let secrets = log.secrets();
    let stderr = opts.to_stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(move || ScrubbedStderr(secrets.clone()))
            .with_ansi(false)
            .with_filter(
                Targets::new()
                    .with_default(tracing::level_filters::LevelFilter::WARN)
                    .with_target("elasticache_provider", own)
                    .with_target("pulumi_resource_elasticache", own),
            )
    });
    let _ = tracing_subscriber::registry()
        .with(EngineLayer::new(log.clone()).with_filter(targets))
        .with(stderr)
        .try_init();
    log
}

/// Stderr, with the secrets of each written line replaced (the formatter writes an event at once).
struct ScrubbedStderr(Arc<Secrets>);

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(self.0.scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> LogOptions {
        LogOptions::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn arguments_as_the_engine_passes_them() {
        let o = parse(&[
            "--logtostderr",
            "-v=9",
            "--tracing",
            "http://t",
            "127.0.0.1:4242",
        ]);
        assert_eq!(
            o,
            LogOptions {
                to_stderr: true,
                verbosity: 9,
                engine_address: Some("127.0.0.1:4242".into()),
                tracing: Some("http://t".into())
            }
        );
        assert_eq!(parse(&[]), LogOptions::default());
        assert_eq!(parse(&["-v", "5"]).verbosity, 5);
        assert_eq!(
            parse(&["--logflow", "127.0.0.1:1"])
                .engine_address
                .as_deref(),
            Some("127.0.0.1:1")
        );
        assert_eq!(
            parse(&["-v=5"]).own_level(),
            tracing::level_filters::LevelFilter::DEBUG
        );
    }

    #[test]
    fn levels_map_to_engine_severities() {
        assert_eq!(severity(&Level::WARN), LogSeverity::Warning);
        assert_eq!(severity(&Level::TRACE), LogSeverity::Debug);
    }
}
