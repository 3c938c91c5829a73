#!/usr/bin/env python3
"""The size of a .wasm part by part: each function body is charged to a part by its
(demangled) name, as twiggy would, and each part is also gzipped alone. Needs the module's
`name` section (wasm-bindgen --keep-debug, wasm-opt -g); scripts/build-js.sh calls it.

    scripts/wasm-parts.py MODULE.wasm [--markdown] [--compiled TRACE [--top N]]

Sizes are of the code after wasm-opt. A part gzipped alone loses the dictionary it would share
with the rest, so the gzip column adds up to more than the whole module's.

--compiled TRACE counts only the functions V8 compiled in TRACE, the output of
`--trace-wasm-compilation-times` for this very build (its first module; bench/coldstart.mjs
--compile-trace writes one per algorithm), with a column of how many functions each part has
there, and lists the N largest (default 15) by name: where the first token's compile goes.
When the trace gives Liftoff's time in microseconds (workerd's V8 does), a column adds each
one's median over the trace's isolates of this build, and a line the time per body byte.
"""
import re
import sys
import zlib

# (part, patterns): the first part whose pattern occurs in a function's name takes it. Order
# matters: a generic core function instantiated for a tokengate type belongs to tokengate.
PARTS = [
    ("RSA (own bignum)", [r"tokengate::signature::(rsa_verify|bignum|bignum_simd|roca)"]),
    ("ECDSA P-256/384/521 (own field, the keys' on-curve check)", [r"tokengate::signature::(ec_|curve_point)"]),
    ("signature dispatch (FastVerify, host backends)", [r"tokengate::signature::backend", r"tokengate_js::webcrypto"]),
    ("Ed25519 (ed25519-dalek, curve25519-dalek)", [r"curve25519_dalek", r"ed25519_dalek"]),
    ("SHA-2, HMAC", [r"\bsha2::", r"\bhmac::", r"\bdigest::", r"block_buffer", r"<D as digest"]),
    ("HTTP gate (config, routes, decision)", [r"tokengate::gate::(config|route|http_gate|outcome|credential|request_path|authz|binding|denial|decision|issuer_index|cache)", r"tokengate_js::gate", r"regex_lite", r"wasmgate_"]),
    ("denylist", [r"tokengate::gate::denylist", r"wasmdenylist"]),
    ("JWK and JWK Set", [r"tokengate::jose::(jwk|jwks|fingerprint)", r"wasmkeyset"]),
    ("JWS header, claims, policy, verify", [r"tokengate::jose::", r"tokengate::", r"wasmpolicy", r"verifySync", r"verifyWith", r"hostCheck", r"tokengate_js::"]),
    ("JSON (serde, serde_json)", [r"serde_json", r"serde_core", r"\bserde::"]),
    ("float formatting and parsing", [r"zmij", r"f64", r"core::num::(flt2dec|dec2flt)", r"lexical"]),
    ("base64", [r"\bbase64::"]),
    ("wasm-bindgen, js-sys glue", [r"wasm_bindgen", r"js_sys", r"__wbindgen", r"__wbg", r"externref"]),
    ("allocator", [r"dlmalloc", r"^<?talc::", r"__rust_(alloc|dealloc|realloc)", r"__rdl_"]),
    ("core::fmt, panics", [r"core::fmt", r"core::panicking", r"core::result::unwrap_failed", r"core::option::"]),
    ("other core/alloc (sorting, strings, collections)", [r""]),
]


def leb(b, i):
    value = shift = 0
    while True:
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def skip_limits(b, i):
    flags, i = leb(b, i)
    _, i = leb(b, i)
    if flags & 1:
        _, i = leb(b, i)
    return i


def read(path):
    data = open(path, "rb").read()
    if data[:4] != b"\0asm":
        sys.exit(f"{path}: not a wasm module")
    i, sections = 8, []
    while i < len(data):
        sid = data[i]
        size, i = leb(data, i + 1)
        sections.append((sid, i, size))
        i += size
    imported, names, bodies, data_bytes = 0, {}, [], 0
    for sid, off, size in sections:
        j = off
        if sid == 2:  # imports: function imports shift the function index space
            count, j = leb(data, j)
            for _ in range(count):
                for _ in range(2):
                    length, j = leb(data, j)
                    j += length
                kind = data[j]
                j += 1
                if kind == 0:
                    _, j = leb(data, j)
                    imported += 1
                elif kind == 1:
                    j = skip_limits(data, j + 1)
                elif kind == 2:
                    j = skip_limits(data, j)
                elif kind == 3:
                    j += 2
                else:
                    _, j = leb(data, j)
        elif sid == 10:
            count, j = leb(data, j)
            for _ in range(count):
                length, j = leb(data, j)
                bodies.append(data[j : j + length])
                j += length
        elif sid == 11:
            data_bytes += size
        elif sid == 0:
            length, j = leb(data, j)
            if data[j : j + length] == b"name":
                j += length
                while j < off + size:
                    sub = data[j]
                    sub_size, j = leb(data, j + 1)
                    if sub == 1:
                        k = j
                        count, k = leb(data, k)
                        for _ in range(count):
                            index, k = leb(data, k)
                            length, k = leb(data, k)
                            names[index] = data[k : k + length].decode("utf-8", "replace")
                            k += length
                    j += sub_size
    if not names:
        sys.exit(f"{path}: no name section (build with wasm-bindgen --keep-debug and wasm-opt -g)")
    return imported, names, bodies, data_bytes


def traced(trace_path, imported, bodies):
    """The indices (into `bodies`) of the functions Liftoff compiled in the trace's first module,
    and each one's median Liftoff time in microseconds over every module of this build in the
    trace (each fresh isolate compiles its own; `None` when the trace gives no times in us).
    Exits if a traced body size of the first module differs from this module's (a trace of
    another build); other modules whose sizes differ (another build compared) are left out."""
    text = open(trace_path, encoding="utf-8", errors="replace").read()
    hits = re.findall(r"Compiled function (0x[0-9a-f]+)#(\d+) using Liftoff, took (\d+) (\S+) .*?bodysize (\d+)", text)
    if not hits:
        sys.exit(f"{trace_path}: no Liftoff compilation in the trace")
    by_module = {}
    for module, index, took, unit, size in hits:
        by_module.setdefault(module, []).append((int(index) - imported, int(took) if unit == "\u03bcs" else None, int(size)))

    def ours(k, size):
        return 0 <= k < len(bodies) and len(bodies[k]) == size

    chosen = set()
    for k, _, size in by_module[hits[0][0]]:
        if not ours(k, size):
            sys.exit(f"{trace_path}: function #{k + imported} of {size} bytes is not this module's: a trace of another build")
        chosen.add(k)
    times = {}
    for functions in by_module.values():
        if all(ours(k, size) for k, _, size in functions):
            for k, took, _ in functions:
                times.setdefault(k, []).append(took)

    def median(xs):
        return None if None in xs else sorted(xs)[len(xs) // 2]

    return sorted(chosen), {k: median(times[k]) for k in chosen}


def option(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    path = sys.argv[1]
    imported, names, bodies, data_bytes = read(path)
    trace = option("--compiled", None)
    indices, liftoff = traced(trace, imported, bodies) if trace else (range(len(bodies)), {})
    compiled = [(label, [re.compile(p) for p in pats]) for label, pats in PARTS]
    parts = {label: [] for label, _ in PARTS}
    named = []
    for k in indices:
        body = bodies[k]
        # A build-std module's names carry crate disambiguators (`tokengate[9dc0764c78048ef2]::`).
        name = re.sub(r"\[[0-9a-f]{16}\]", "", names.get(imported + k, ""))
        label = next(l for l, pats in compiled if any(p.search(name) for p in pats))
        parts[label].append((body, liftoff.get(k)))
        named.append((len(body), name, liftoff.get(k)))
    bodies = [bodies[k] for k in indices]
    whole = sum(len(b) for b in bodies)
    if trace:
        print_compiled(parts, named, whole, int(option("--top", 15)))
        return
    parts = {label: [b for b, _ in bs] for label, bs in parts.items()}
    rows = [(label, sum(len(b) for b in bs), len(zlib.compress(b"".join(bs), 9))) for label, bs in parts.items() if bs]
    rows.sort(key=lambda r: -r[1])
    if "--markdown" in sys.argv:
        print("| part | code bytes | share | gzip -9 alone |")
        print("|---|---:|---:|---:|")
        for label, raw, gz in rows:
            print(f"| {label} | {raw} | {100 * raw / whole:.1f} % | {gz} |")
        print(f"| data segments (tables, strings) | {data_bytes} | | |")
        print(f"| **all code** | **{whole}** | | **{len(zlib.compress(b''.join(bodies), 9))}** |")
    else:
        for label, raw, gz in rows:
            print(f"{raw:8d} {gz:8d}  {label}")
        print(f"{data_bytes:8d}           data segments")
        print(f"{whole:8d} {len(zlib.compress(b''.join(bodies), 9)):8d}  all code")


def print_compiled(parts, named, whole, top):
    """The parts of the functions a trace compiled, and its largest functions, with Liftoff's
    time for them (the median over the trace's isolates) when the trace gives it."""
    timed = all(t is not None for _, _, t in named)

    def us(ts):
        return f" {sum(ts)} |" if timed else ""

    rows = sorted(((label, bs) for label, bs in parts.items() if bs), key=lambda r: -sum(len(b) for b, _ in r[1]))
    print("| part | functions | body bytes | share |" + (" Liftoff us |" if timed else ""))
    print("|---|---:|---:|---:|" + ("---:|" if timed else ""))
    for label, bs in rows:
        raw = sum(len(b) for b, _ in bs)
        print(f"| {label} | {len(bs)} | {raw} | {100 * raw / whole:.1f} % |" + us([t for _, t in bs]))
    print(f"| **compiled** | **{len(named)}** | **{whole}** | |" + us([t for _, _, t in named]))
    if timed:
        total = sum(t for _, _, t in named)
        print(f"\nLiftoff: {1000 * total / whole:.1f} ns per body byte over all {len(named)} functions.")
    print()
    print("| largest compiled functions | body bytes |" + (" Liftoff us |" if timed else ""))
    print("|---|---:|" + ("---:|" if timed else ""))
    for size, name, t in sorted(named, key=lambda n: -n[0])[:top]:
        print(f"| `{re.sub(r'::h[0-9a-f]{16}$', '', name)[:110]}` | {size} |" + us([t]))


if __name__ == "__main__":
    main()
