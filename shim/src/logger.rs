//! The `log` facade on the serial console: `[   1.234567] INFO target: msg`.
//! The level comes from the boot command line (`log=debug`), default `info`.

use log::{LevelFilter, Log, Metadata, Record};

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let ns = crate::time::now_ns();
        println!(
            "[{:>5}.{:06}] {:<5} {}: {}",
            ns / 1_000_000_000,
            ns % 1_000_000_000 / 1000,
            record.level(),
            record.target(),
            record.args()
        );
    }

    fn flush(&self) {}
}

/// Installs the console logger at level `info`.
pub fn init() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(LevelFilter::Info);
}

/// Applies `log=<off|error|warn|info|debug|trace>` from the command line.
pub fn set_level_from_cmdline() {
    if let Some(value) = crate::cmdline::get("log") {
        match value.parse::<LevelFilter>() {
            Ok(level) => log::set_max_level(level),
            Err(_) => log::warn!("unknown log level {value:?} on the command line"),
        }
    }
    log::debug!("command line: {:?}", crate::cmdline::all());
}
