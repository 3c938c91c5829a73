#!/usr/bin/env bash
# Builds the npm package in js/ from scratch: the wasm-bindgen crate for wasm32-unknown-unknown,
# wasm-bindgen-cli (installed at exactly Cargo.lock's wasm-bindgen version) with --target web,
# then wasm-opt from npm's binaryen. Prints the size table (raw, after wasm-opt, gzipped, next to
# jose's bundle measured the same way) and the verifier's size part by part
# (scripts/wasm-parts.py), into target/js-size.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh

# npm dev dependencies (binaryen, workerd, playwright-core, jose...), pinned to exact versions
# in package.json and the lockfile. `npm install --no-save` rather than `npm ci`: npm 11 refuses
# `ci` here because the lockfile lists workerd's optional binaries for Linux only.
if [ ! -x js/node_modules/.bin/wasm-opt ] || [ js/package.json -nt js/node_modules/.package-lock.json ]; then
  (cd js && npm install --no-audit --no-fund --loglevel=error --no-save)
fi

# wasm-bindgen-cli must match the wasm-bindgen crate exactly; it is not locked (its own
# lockfile wants a crate version the registry lacks), which is fine for a build tool.
VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
TOOLS="$ROOT/.tools/wasm-bindgen-$VERSION"
if [ ! -x "$TOOLS/bin/wasm-bindgen" ]; then
  echo "build-js: installing wasm-bindgen-cli $VERSION (takes several minutes once)"
  cargo install wasm-bindgen-cli --version "$VERSION" --root "$TOOLS" --quiet
fi

# A separate -p run: the proxy-wasm crate's features never unify with this one's.
# simd128 (V8 since Node 16.4 and Chrome 91, Firefox 89, Safari 16.4, workerd): sha2's wasm
# SIMD backend hashes HS256 input about twice as fast (bench/node.mjs).
RUSTFLAGS_WASM="-C target-feature=+simd128"
# The standard library is rebuilt for the module (-Zbuild-std, from rustup's rust-src):
# - panics trap at once (-Cpanic=immediate-abort). The module already aborts on a panic, and
#   none is reachable from input (fuzzed); this drops the message formatting a trap never shows;
# - core's size-optimised algorithms (optimize_for_size: sorting, formatting);
# - core itself at opt-level 3, as the crates on the hot path: at the profile's `s`, FastVerify's
#   P-521 ran 30 % slower in bench/verify-wasm.mjs (0.9 KB gzipped on the verifier, 5 KB on
#   the gate buys it back).
# Together 118 -> 100 KB gzipped for the verifier at the same speed (BENCHMARKS.md, "fifth
# stop"). These are unstable options of the stable compiler, enabled for these two cargo runs
# only (RUSTC_BOOTSTRAP=1). A compiler that refuses them builds the plain module, with a warning.
BUILD_STD=()
if RUSTC_BOOTSTRAP=1 rustc -Zunstable-options -Cpanic=immediate-abort --target wasm32-unknown-unknown \
    --print cfg >/dev/null 2>&1 && [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
  RUSTFLAGS_WASM="$RUSTFLAGS_WASM -Zunstable-options -Cpanic=immediate-abort"
  BUILD_STD=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
    --config 'profile.wasm-release.package.core.opt-level=3')
else
  echo "build-js: WARNING: this rustc cannot rebuild std for wasm (-Zbuild-std, -Cpanic=immediate-abort):" \
    "building the larger plain module" >&2
fi
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$RUSTFLAGS_WASM"
RAW_DIR="target/wasm32-unknown-unknown/wasm-release"
OUT="js/pkg"
rm -rf "$OUT"
mkdir -p "$OUT"

# Two modules from the one crate: the verifier (`tokengate`), and the HTTP gate
# (`tokengate/gate`, feature `gate`: the configuration parser and regex engine on top), so
# verify-only users never download the gate. Both builds write the same rustc output file, so
# each is bound before the next build.
# build NAME FEATURES [PACKAGE]: leaves js/pkg/NAME.js and js/pkg/NAME_bg.wasm, sets *_SIZE
# variables. PACKAGE is tokengate-js unless given.
# --one-caller-inline-max-function-size: binaryen otherwise inlines every function that has one
# caller, whatever its size, so the JWK parser carried the RSA, EC, OKP and oct key builders in
# one 19 KB function. V8 compiles a wasm function on its first call, whole: the first key set
# parsed compiled all four (46.7 -> 33.6 KB compiled for one RSA key, 1.1 KB smaller gzipped,
# same speed; BENCHMARKS.md, "fifth stop").
WASM_OPT=(js/node_modules/.bin/wasm-opt -O3 --one-caller-inline-max-function-size 200 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue)
build() {
  local name="$1" features="$2" package="${3:-tokengate-js}"
  local raw="$RAW_DIR/${package//-/_}.wasm"
  RUSTC_BOOTSTRAP=1 cargo build -p "$package" --target wasm32-unknown-unknown --profile wasm-release "${BUILD_STD[@]}" $features
  RAW_SIZE=$(stat -c %s "$raw")
  "$TOOLS/bin/wasm-bindgen" --target web --weak-refs --out-dir "$OUT" --out-name "$name" --no-typescript "$raw"
  local bg="$OUT/${name}_bg.wasm"
  BOUND_SIZE=$(stat -c %s "$bg")
  "${WASM_OPT[@]}" --strip-debug --strip-producers "$bg" -o "$bg.opt"
  mv "$bg.opt" "$bg"
  OPT_SIZE=$(stat -c %s "$bg")
  GZ_SIZE=$(gzip -9 -c "$bg" | wc -c)
  # The same module with its function names kept, for the part-by-part table.
  local named="target/js-size/$name"
  rm -rf "$named" && mkdir -p "$named"
  "$TOOLS/bin/wasm-bindgen" --target web --weak-refs --keep-debug --out-dir "$named" --out-name "$name" --no-typescript "$raw"
  "${WASM_OPT[@]}" -g "$named/${name}_bg.wasm" -o "$named/named.wasm"
}

build tokengate_gate "--features gate"
GATE=("$RAW_SIZE" "$BOUND_SIZE" "$OPT_SIZE" "$GZ_SIZE")
# The crypto module (js/crypto): the core's own RSA, ECDSA and EdDSA verification, which the
# main module leaves out. js/lib/modulecrypto.js loads it only when a verification needs it (the
# synchronous `verify` of a public-key token outside Node, `signatureBackend: 'wasm'`, a key
# the runtime's crypto cannot import, P-384/P-521 under `auto` where it is packaged along).
build tokengate_crypto "" tokengate-js-crypto
CRYPTO=("$RAW_SIZE" "$BOUND_SIZE" "$OPT_SIZE" "$GZ_SIZE")
build tokengate_js ""
# The package's JavaScript as a web app ships it, bundled like jose's below (the browser entry,
# wasm-bindgen's glue for both modules, lib/; the .wasm files stay separate).
JS_DIR=target/js-size/tokengate
mkdir -p "$JS_DIR"
(cd js && echo "export { jwtVerify, createRemoteJWKSet } from './lib/browser.js';" | node_modules/.bin/esbuild --bundle \
  --minify --format=esm --platform=browser --external:'*.wasm' --log-level=warning --outfile="../$JS_DIR/tokengate.min.js")
JS_RAW=$(stat -c %s "$JS_DIR/tokengate.min.js")
JS_GZ=$(gzip -9 -c "$JS_DIR/tokengate.min.js" | wc -c)
# jose, as a web app ships it: esbuild --bundle --minify of jwtVerify + createRemoteJWKSet.
JOSE_DIR=target/js-size/jose
mkdir -p "$JOSE_DIR"
# (From stdin inside js/, so that 'jose' resolves to js/node_modules.)
(cd js && echo "export { jwtVerify, createRemoteJWKSet } from 'jose';" | node_modules/.bin/esbuild --bundle \
  --minify --format=esm --platform=browser --log-level=warning --outfile="../$JOSE_DIR/jose.min.js")
JOSE_RAW=$(stat -c %s "$JOSE_DIR/jose.min.js")
JOSE_GZ=$(gzip -9 -c "$JOSE_DIR/jose.min.js" | wc -c)
JOSE_VERSION=$(node -p "require('./js/node_modules/jose/package.json').version")
{
  echo "| artifact | verifier (\`tokengate\`) | crypto module (loaded when needed) | gate (\`tokengate/gate\`) |"
  echo "|---|---:|---:|---:|"
  echo "| rustc output (\`$RAW_DIR/\`) | $RAW_SIZE | ${CRYPTO[0]} | ${GATE[0]} |"
  echo "| after wasm-bindgen | $BOUND_SIZE | ${CRYPTO[1]} | ${GATE[1]} |"
  echo "| after wasm-opt | $OPT_SIZE | ${CRYPTO[2]} | ${GATE[2]} |"
  echo "| after wasm-opt, gzip -9 | $GZ_SIZE | ${CRYPTO[3]} | ${GATE[3]} |"
  echo "| JavaScript (browser entry, glue, lib/) bundled as jose's below: bytes, gzip -9 | $JS_RAW, $JS_GZ | | |"
  echo ""
  echo "jose $JOSE_VERSION, \`jwtVerify\` + \`createRemoteJWKSet\` bundled by esbuild --bundle --minify: $JOSE_RAW bytes, gzip -9 $JOSE_GZ."
  echo ""
  echo "The verifier's wasm part by part (scripts/wasm-parts.py):"
  echo ""
  python3 scripts/wasm-parts.py target/js-size/tokengate_js/named.wasm --markdown
} | tee target/js-size.md
