//! The root context: one per plugin configuration per worker VM. It parses
//! the configuration into an [`Engine`] and hands it to each request.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use super::abi::{self, Level};
use super::calls::{self, Call};
use super::fleet_tick::FleetTick;
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
    context_id: u32,
    engine: Option<Rc<Engine>>,
    metrics: Rc<HostMetrics>,
    watchdog: Rc<Watchdog>,
    /// Fleet sync, when `fleet.enabled`.
    fleet: Option<FleetTick>,
    /// Tells this VM's host-call counts from other workers' (`calls`): its
    /// start time in nanoseconds.
    vm: u64,
}

impl Root {
    pub fn new(context_id: u32) -> Root {
        Root {
            context_id,
            engine: None,
            metrics: Rc::new(HostMetrics::new()),
            watchdog: Rc::new(Watchdog::default()),
            fleet: None,
            vm: abi::now_nanos().unwrap_or(u64::from(context_id)),
        }
    }
}

impl Context for Root {
    /// The VM is going away (Envoy shutting the plugin down): counts still
    /// held are sent, not lost.
    fn on_done(&mut self) -> bool {
        self.metrics.flush();
        true
    }

    fn on_http_call_response(&mut self, token_id: u32, _num_headers: usize, body_size: usize, _num_trailers: usize) {
        if let Some(fleet) = self.fleet.as_mut() {
            fleet.response(token_id, body_size, &self.metrics);
        }
    }
}

impl RootContext for Root {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        // Envoy starts one VM per worker thread (and more on the main
        // thread); say it once per process, through shared data.
        let version = version();
        if first_in_process(&self.metrics, Event::Started, &version) {
            abi::log(Level::Info, &format!("{version} starting"));
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
                let flush_ms = s.metrics_flush_interval_ms;
                // Once per process and configuration: an xDS update logs again.
                // `{:016x}`, written as identity keys are (no format! site).
                let mut config_id = String::new();
                crate::decimal::push_hex16(&mut config_id, fingerprint(&bytes));
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
                self.fleet = s.fleet.enabled.then(|| {
                    let nanos = abi::now_nanos().unwrap_or(0);
                    FleetTick::new(s.fleet.clone(), &s.namespace, nanos, self.context_id)
                });
                self.engine = Some(Rc::new(engine));
                self.metrics.predefine(crate::metrics::labelled::predefined());
                let ticking = abi::set_tick_period(TICK_MILLIS).is_ok();
                if !ticking {
                    abi::log(
                        Level::Warn,
                        "distill-guard: no tick timer: stalled requests cannot be resumed",
                    );
                }
                // Without a tick nothing would send held counts: at once then.
                self.metrics.flush_every(if ticking { flush_ms } else { 0 });
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
        calls::count(Call::Ticks);
        let now = HostClock.now_secs();
        abi::forget_log_level();
        // Before the host-call line, so it counts this tick's flush.
        self.metrics.tick();
        if abi::log_enabled(Level::Debug) {
            if let Some(line) = calls::report(self.vm) {
                abi::log(Level::Debug, &line);
            }
        }
        self.watchdog.tick(now);
        if let Some(fleet) = self.fleet.as_mut() {
            fleet.tick((now * 1_000.0) as u64, &self.metrics);
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        // Never None: the SDK panics on None. Without an engine (cannot
        // happen once on_configure succeeded) the request passes through.
        calls::count(Call::Requests);
        let engine = self.engine.clone();
        let (metrics, watchdog) = (Rc::clone(&self.metrics), Rc::clone(&self.watchdog));
        let touched = self.fleet.as_ref().map(|f| Rc::clone(&f.touched));
        Some(Box::new(
            Request::new(context_id, engine, metrics, watchdog).with_touched(touched),
        ))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
