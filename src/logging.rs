//! Log setup. warp reports every connection that ends badly as
//! `ERROR server connection error`, and nearly all of them are a browser
//! closing an event stream or a page (`IncompleteMessage`), or a client
//! sending broken HTTP: the client's business, not the server's. Those are
//! shown only when `warp::server` is logged at debug; everything else keeps
//! its level.

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Filter, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Installs the global subscriber (stderr, `filter` as an `EnvFilter`
/// directive string, "info" if it does not parse).
pub fn init(filter: &str) {
    let env = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Any directive at debug or trace (e.g. "info,warp=debug") shows them.
    let client_errors_shown = filter.contains("debug") || filter.contains("trace");
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(ClientDisconnects { shown: client_errors_shown });
    let _ = tracing_subscriber::registry().with(env).with(layer).try_init();
}

/// Drops warp's per-connection errors unless debug logging was asked for.
struct ClientDisconnects {
    shown: bool,
}

/// Whether a log line from `target` with `message` is a client's connection
/// ending badly (see the module doc).
pub fn is_client_disconnect(target: &str, message: &str) -> bool {
    target.starts_with("warp::server") && message.starts_with("server connection error")
}

impl<S: Subscriber> Filter<S> for ClientDisconnects {
    fn enabled(&self, _meta: &tracing::Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &tracing::Event<'_>, _cx: &Context<'_, S>) -> bool {
        if self.shown || !event.metadata().target().starts_with("warp::server") {
            return true;
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        !is_client_disconnect(event.metadata().target(), &m.0)
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_client_disconnect;

    #[test]
    fn only_warps_connection_errors_count_as_client_disconnects() {
        assert!(is_client_disconnect("warp::server", "server connection error: hyper::Error(IncompleteMessage)"));
        assert!(!is_client_disconnect("warp::server", "accept error: Too many open files"));
        assert!(!is_client_disconnect("atende::web", "server connection error"));
    }
}
