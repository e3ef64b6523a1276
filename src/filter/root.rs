//! The root context: one per plugin configuration per worker VM. It parses
//! the configuration into an [`Engine`] and hands it to each request.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use super::abi::{self, Level};
use super::host_clock::HostClock;
use super::host_metrics::HostMetrics;
use super::host_store::HostStore;
use super::http::Request;
use super::watchdog::{Watchdog, TICK_MILLIS};
use crate::clock::Clock;
use crate::config::Mode;
use crate::engine::Engine;
use crate::hash::fingerprint;
use crate::store::once::{self, Event};

/// True for the first VM of this Envoy process to announce `event` with
/// `value` (`store::once`: one shared-data key per event, never one per
/// configuration or version).
fn first_in_process(metrics: &HostMetrics, event: Event, value: &str) -> bool {
    once::first(&HostStore { metrics }, event, value)
}

/// `distill-guard 0.1.0 (abc1234)`: what is running, for bug reports.
pub fn version() -> String {
    let git = option_env!("DISTILL_GUARD_GIT").unwrap_or("unknown");
    format!("distill-guard {} ({git})", env!("CARGO_PKG_VERSION"))
}

pub struct Root {
    engine: Option<Rc<Engine>>,
    metrics: Rc<HostMetrics>,
    watchdog: Rc<Watchdog>,
}

impl Root {
    pub fn new() -> Root {
        Root {
            engine: None,
            metrics: Rc::new(HostMetrics::new()),
            watchdog: Rc::new(Watchdog::default()),
        }
    }
}

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        // Envoy starts one VM per worker thread (and more on the main
        // thread); say it once per process, through shared data.
        if first_in_process(&self.metrics, Event::Started, &version()) {
            abi::log(Level::Info, &format!("{} starting", version()));
        }
        true
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        // Envoy passes no buffer at all when `configuration` is absent: that
        // is "all defaults", like an empty document.
        let bytes = match abi::get_buffer(abi::PLUGIN_CONFIGURATION, 0, usize::MAX) {
            Ok(b) => b.unwrap_or_default(),
            Err(status) => {
                abi::log(
                    Level::Error,
                    &format!("distill-guard: cannot read the plugin configuration (status {status})"),
                );
                return false;
            }
        };
        match Engine::from_config(&bytes) {
            Ok(engine) => {
                let s = engine.settings();
                // Once per process and configuration: an xDS update logs again.
                let config_id = format!("{:016x}", fingerprint(&bytes));
                if s.default_secret && first_in_process(&self.metrics, Event::DefaultSecret, &config_id) {
                    abi::log(
                        Level::Warn,
                        "distill-guard: identity.secret is not set; identity keys use the public built-in key (set a secret in production)",
                    );
                }
                if first_in_process(&self.metrics, Event::Configured, &config_id) {
                    let mode = if s.mode == Mode::Enforce { "enforce" } else { "shadow" };
                    abi::log(
                        Level::Info,
                        &format!(
                            "distill-guard: configured: mode {mode}, inspecting up to {} body bytes",
                            engine.body_cap()
                        ),
                    );
                }
                self.engine = Some(Rc::new(engine));
                self.metrics.predefine(&crate::metrics::labelled::predefined());
                if abi::set_tick_period(TICK_MILLIS).is_err() {
                    abi::log(
                        Level::Warn,
                        "distill-guard: no tick timer: stalled requests cannot be resumed",
                    );
                }
                true
            }
            Err(e) => {
                // Returning false makes Envoy reject the filter (at startup:
                // Envoy does not start; on an xDS update: the update is refused).
                abi::log(Level::Error, &format!("distill-guard: {e}"));
                false
            }
        }
    }

    fn on_tick(&mut self) {
        self.watchdog.tick(HostClock.now_secs());
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        // Never None: the SDK panics on None. Without an engine (cannot
        // happen once on_configure succeeded) the request passes through.
        let engine = self.engine.clone();
        let (metrics, watchdog) = (Rc::clone(&self.metrics), Rc::clone(&self.watchdog));
        Some(Box::new(Request::new(context_id, engine, metrics, watchdog)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
