//! The verifier module's global allocator: Talc, in place of the standard library's dlmalloc.
//!
//! A fresh isolate (workerd, a browser tab) compiles each wasm function on its first call, so
//! the allocator's code is paid for on every cold start. For a first ES256 token V8 compiled
//! 16 allocator functions, 5.5 KB, with dlmalloc and 5, 2.3 KB, with Talc (BENCHMARKS.md, "The
//! edge, thirteenth stop"), at the same speed in Node. Talc grows the linear memory the same
//! way (`memory.grow`) and is single-threaded, as the module is.
//!
//! The gate's module (feature `gate`) keeps dlmalloc: there, with link-time optimisation,
//! Talc's allocation path was inlined into the gate's code, 8.5 KB larger after wasm-opt.

#[cfg(all(
    target_family = "wasm",
    not(target_feature = "atomics"),
    not(feature = "gate")
))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
