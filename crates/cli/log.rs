//! Logging setup: `RUST_LOG` filters, stderr carries the lines.

use tracing_subscriber::EnvFilter;

/// Plain-text logs for one-shot commands, warnings and up unless
/// `RUST_LOG` says otherwise.
pub fn init_cli() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
