//! The trivial proxy-wasm filter: one HTTP context per request whose callbacks all return
//! `Continue` (the SDK's defaults). `make bench-envoy` runs it as a row of its own, so the cost
//! of any wasm filter in Envoy (context creation and the callbacks' host round trips) is
//! measured, not argued.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

struct Root;
struct Passthrough;

impl Context for Root {}
impl Context for Passthrough {}
impl HttpContext for Passthrough {}

impl RootContext for Root {
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Passthrough))
    }
}

// The macro defines the exported `_initialize` entry point, which has no doc comment.
#[allow(missing_docs)]
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
            Box::new(super::Root)
        });
    }}
}
