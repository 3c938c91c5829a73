//! The tokengate proxy-wasm filter for Envoy: a thin adapter over the `tokengate` core. It
//! translates Envoy's configuration, clock, HTTP callouts, headers and metrics; every JWT rule
//! lives in the core.
//!
//! Built for `wasm32-wasip1` (the proxy-wasm SDK's own target; Envoy supplies the WASI clock,
//! random and stdout calls the Rust standard library makes).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod filter;
mod hold;
mod host;
mod metrics;
mod remote_sync;
mod root;
mod state;

// The macro defines the exported `_initialize` entry point, which has no doc comment.
#[allow(missing_docs)]
mod entry {
    use crate::root;
    proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
        Box::new(root::Root::default())
    });
    }}
}
