#!/usr/bin/env python3
"""Envoy benchmark: the same Envoy, the same run, loopback, bounded wrk runs.

Listeners (all answering with a direct_response, so no upstream is measured):
  nofilter          router only
  jwt_authn         Envoy's native filter, RS256, no cache
  jwt_authn_cache   the same with jwt_cache_config
  tokengate         the filter with its verified-token cache (a cache hit after the first request)
  tokengate_nocache cache_capacity 0: every request verifies its signature (RS256, ES256, HS256)
  wasm_floor        the module with no rule matching the request
  passthrough       a trivial proxy-wasm filter (bench/passthrough: every callback continues)
  tenants1/2/100    one ES256 provider, and 2 and 100 (one issuer each) on one requires_any rule

For each run: requests/s, p50/p99 latency from wrk, and Envoy's CPU time per request from
/proc/<pid>/stat, with ratios to the no-filter run. Also the JWKS server's access count over the
whole benchmark, against one fetch per refresh per Envoy.

Usage: envoy.py PATH/TO/tokengate_envoy.wasm [seconds-per-run] [only-runs-whose-label-contains]
(the trivial filter, tokengate_bench_passthrough.wasm, is read from the same folder)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "envoy", "tests"))
from ports import free_port  # noqa: E402

ISS, AUD = "https://idp.bench.local", "bench-api"
HS_SECRET = b"bench-hs256-secret-of-32-bytes!!"
REFRESH = 5
ROUNDS = 5


def hcm(name, filters):
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": name,
        "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
            {"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": "ok"}}}]}]},
        "http_filters": filters + [{"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}


def listener(name, port, filters):
    return {"name": name, "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [{"filters": [hcm(name, filters)]}]}


def wasm_filter(wasm, config, vm_id="tokengate"):
    return [{"name": "envoy.filters.http.wasm", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        "config": {"name": "tokengate", "root_id": "tokengate", "failure_policy": "FAIL_CLOSED",
                   "vm_config": {"vm_id": vm_id, "runtime": "envoy.wasm.runtime.v8",
                                 "code": {"local": {"filename": wasm}}},
                   "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue",
                                     "value": json.dumps(config)}}}}]


def jwt_authn(jwks_json, es_jwks_json, cache):
    def provider(jwks):
        p = {"issuer": ISS, "audiences": [AUD], "local_jwks": {"inline_string": jwks}, "forward": True}
        if cache:
            p["jwt_cache_config"] = {"jwt_cache_size": 1000}
        return p
    return [{"name": "envoy.filters.http.jwt_authn", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
        "providers": {"idp": provider(jwks_json), "es": provider(es_jwks_json)},
        "rules": [{"match": {"prefix": "/es"}, "requires": {"provider_name": "es"}},
                  {"match": {"prefix": "/"}, "requires": {"provider_name": "idp"}}]}}]


TENANTS = 100


def tenant_iss(n):
    return f"https://tenant-{n}.bench.local"


def tenants(jwks_of, count):
    """`count` ES256 providers, one issuer each, on one rule (`requires_any` when several),
    always including tenant 57's."""
    names = {1: ["t57"], 2: ["t3", "t57"]}.get(count) or [f"t{n}" for n in range(count)]
    providers = {name: {"issuer": tenant_iss(int(name[1:])), "audiences": [AUD], "algorithms": ["ES256"],
                        "local_jwks": jwks_of(int(name[1:])), "forward": True} for name in names}
    requires = {"requires_any": names} if count > 1 else {"provider_name": names[0]}
    return {"cache_capacity": 1024, "providers": providers, "rules": [{"match": {"prefix": "/"}, "requires": requires}]}


def tokengate(cache_capacity, jwks_port_cluster, es_jwks, hs_jwks):
    remote = {"cluster": "jwks", "authority": "jwks.bench.local", "path": "/jwks.json", "refresh_seconds": REFRESH}
    return {
        "cache_capacity": cache_capacity,
        "providers": {
            "rs": {"issuer": ISS, "audiences": [AUD], "algorithms": ["RS256"], "remote_jwks": remote, "forward": True},
            "es": {"issuer": ISS, "audiences": [AUD], "algorithms": ["ES256"], "local_jwks": es_jwks, "forward": True},
            "hs": {"issuer": ISS, "audiences": [AUD], "algorithms": ["HS256"], "local_jwks": hs_jwks, "forward": True},
        },
        "rules": [{"match": {"prefix": "/es"}, "requires": {"provider_name": "es"}},
                  {"match": {"prefix": "/hs"}, "requires": {"provider_name": "hs"}},
                  {"match": {"prefix": "/"}, "requires": {"provider_name": "rs"}}],
    }


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port, path, token, seconds):
    cmd = ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}{path}"]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v, unit = float(m.group(1)), m.group(2)
        return v * {"us": 1, "ms": 1000, "s": 1_000_000}[unit]

    return reqs, rps, pct(50), pct(99), int(non2xx.group(1)) if non2xx else 0


def main():
    wasm = os.path.abspath(sys.argv[1])
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    rs_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rs_jwk = {**json.loads(RSAAlgorithm.to_jwk(rs_key.public_key())), "kid": "rs-1", "alg": "RS256"}
    es_jwk = {**json.loads(ECAlgorithm.to_jwk(ec_key.public_key())), "kid": "es-1", "alg": "ES256"}
    hs_k = jwt.utils.base64url_encode(HS_SECRET).decode()
    rs_jwks = json.dumps({"keys": [rs_jwk]})

    hits = [0]

    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            hits[0] += 1
            body = rs_jwks.encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    jwks_port = free_port()
    srv = ThreadingHTTPServer(("127.0.0.1", jwks_port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    ports = {n: free_port() for n in ["admin", "nofilter", "jwt_authn", "jwt_authn_cache", "tokengate", "tokengate_nocache",
                                      "wasm_floor", "passthrough", "tenants1", "tenants2", "tenants100"]}
    passthrough = os.path.join(os.path.dirname(wasm), "tokengate_bench_passthrough.wasm")
    tenant_keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(TENANTS)]
    tenant_jwks = lambda n: {"keys": [{**json.loads(ECAlgorithm.to_jwk(tenant_keys[n].public_key())),
                                       "kid": f"t{n}", "alg": "ES256"}]}
    es_jwks = {"keys": [es_jwk]}
    hs_jwks = {"keys": [{"kty": "oct", "kid": "hs-1", "k": hs_k}]}
    cfg = {"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ports["admin"]}}},
           "static_resources": {"listeners": [
               listener("nofilter", ports["nofilter"], []),
               listener("jwt_authn", ports["jwt_authn"], jwt_authn(rs_jwks, json.dumps(es_jwks), False)),
               listener("jwt_authn_cache", ports["jwt_authn_cache"], jwt_authn(rs_jwks, json.dumps(es_jwks), True)),
               listener("passthrough", ports["passthrough"], wasm_filter(passthrough, {}, vm_id="passthrough")),
               listener("tenants1", ports["tenants1"], wasm_filter(wasm, tenants(tenant_jwks, 1))),
               listener("tenants2", ports["tenants2"], wasm_filter(wasm, tenants(tenant_jwks, 2))),
               listener("tenants100", ports["tenants100"], wasm_filter(wasm, tenants(tenant_jwks, TENANTS))),
               listener("tokengate", ports["tokengate"], wasm_filter(wasm, tokengate(1024, None, es_jwks, hs_jwks))),
               listener("tokengate_nocache", ports["tokengate_nocache"], wasm_filter(wasm, tokengate(0, None, es_jwks, hs_jwks))),
               # The same module with no rule matching: the cost of running any wasm filter.
               listener("wasm_floor", ports["wasm_floor"], wasm_filter(wasm, {**tokengate(1024, None, es_jwks, hs_jwks),
                                                                             "rules": [{"match": {"prefix": "/never"}}]})),
           ], "clusters": [{"name": "jwks", "type": "STATIC", "connect_timeout": "1s", "load_assignment": {
               "cluster_name": "jwks", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                   "address": "127.0.0.1", "port_value": jwks_port}}}}]}]}}]}}
    work = tempfile.mkdtemp(prefix="tokengate-bench-")
    path = os.path.join(work, "envoy.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    log = open(os.path.join(work, "envoy.log"), "w")
    envoy = subprocess.Popen(["envoy", "-c", path, "--concurrency", "1", "--log-level", "warn",
                              "--base-id", str(ports["admin"] % 60000)], stdout=log, stderr=subprocess.STDOUT)
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "f3c2a7d1-6b8e-4c1f-9a2d-5e7b8c9d0a1b", "iat": now, "exp": now + 3600,
              "jti": "0b9f6c2e-3d4a-4e5b-8c7d-1f2a3b4c5d6e", "scope": "openid profile email orders:read orders:write",
              "azp": "storefront-web", "email": "alice.liddell@example.com", "name": "Alice Liddell",
              "realm_access": {"roles": ["default-roles-production", "offline_access", "customer"]}}
    rs = jwt.encode(claims, rs_key, algorithm="RS256", headers={"kid": "rs-1"})
    es = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "es-1"})
    hs = jwt.encode(claims, HS_SECRET, algorithm="HS256", headers={"kid": "hs-1"})
    t57 = jwt.encode({**claims, "iss": tenant_iss(57)}, tenant_keys[57], algorithm="ES256", headers={"kid": "t57"})
    try:
        def status(port, token, p="/"):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{p}", headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(req, timeout=3) as r:
                    return r.status
            except Exception as e:
                return getattr(e, "code", 0)

        deadline = time.time() + 30
        while (status(ports["tokengate"], rs) != 200 or status(ports["jwt_authn"], rs) != 200
               or status(ports["tenants100"], t57) != 200 or status(ports["tenants1"], t57) != 200):
            if time.time() > deadline:
                raise SystemExit("Envoy not ready: " + open(log.name).read()[-2000:])
            time.sleep(0.3)
        start_hits, start = hits[0], time.time()
        runs = [("no filter", "nofilter", "/", None),
                ("jwt_authn RS256, no cache", "jwt_authn", "/", rs),
                ("jwt_authn ES256, no cache", "jwt_authn", "/es", es),
                ("jwt_authn RS256, jwt_cache_config", "jwt_authn_cache", "/", rs),
                ("trivial proxy-wasm filter (Continue only)", "passthrough", "/", rs),
                ("tokengate, no rule matches", "wasm_floor", "/", rs),
                ("tokengate cache hit (RS256)", "tokengate", "/", rs),
                ("tokengate uncached RS256", "tokengate_nocache", "/", rs),
                ("tokengate uncached ES256", "tokengate_nocache", "/es", es),
                ("tokengate uncached HS256", "tokengate_nocache", "/hs", hs),
                ("tokengate 1 provider, cache hit (ES256)", "tenants1", "/", t57),
                ("tokengate 2 providers on one rule, cache hit (ES256)", "tenants2", "/", t57),
                (f"tokengate {TENANTS} providers on one rule, cache hit (ES256)", "tenants100", "/", t57)]
        if len(sys.argv) > 3:  # a quick look at some rows; the target table needs them all
            runs = [run for run in runs if run[0] == "no filter" or sys.argv[3] in run[0]]
        # Interleaved rounds (order reversed every other round), medians per run: sequential
        # runs drift on a shared machine.
        samples = {label: [] for label, *_ in runs}
        for rnd in range(ROUNDS):
            for label, name, p, token in (runs if rnd % 2 == 0 else runs[::-1]):
                wrk(ports[name], p, token, 1)  # warm-up
                before = cpu_seconds(envoy.pid)
                reqs, rps, p50, p99, bad = wrk(ports[name], p, token, seconds)
                cpu_us = (cpu_seconds(envoy.pid) - before) * 1e6 / max(reqs, 1)
                samples[label].append((rps, p50, p99, cpu_us, bad))
        med = lambda xs: sorted(xs)[len(xs) // 2]
        rows = [(label, med([x[0] for x in samples[label]]), med([x[1] for x in samples[label]]),
                 med([x[2] for x in samples[label]]), med([x[3] for x in samples[label]]),
                 sum(x[4] for x in samples[label])) for label, *_ in runs]
        elapsed = time.time() - start
        fetches = hits[0] - start_hits
    finally:
        envoy.terminate()
        envoy.wait(timeout=10)
        srv.shutdown()
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    base = rows[0]
    print(f"Envoy 1.40 (--concurrency 1), wrk -t1 -c8 -d{seconds}s, median of {ROUNDS} interleaved rounds, "
          "loopback, direct_response route")
    print("| run | requests/s | p50 us | p99 us | Envoy CPU us/request | CPU ratio to no filter | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, rps, p50, p99, cpu_us, bad in rows:
        print(f"| {label} | {rps:,.0f} | {p50:.0f} | {p99:.0f} | {cpu_us:.1f} | {cpu_us / base[4]:.2f} | {bad} |")
    expected = int(elapsed // REFRESH) + 1
    print(f"\nJWKS fetches during the benchmark: {fetches} in {elapsed:.0f} s at a {REFRESH} s refresh "
          f"(one per refresh per Envoy would be at most {expected})")
    if len(sys.argv) > 3:
        return
    # The issue-15 targets, as same-run ratios: (target, measured row, reference row, limit).
    cpu = {label: c for label, _, _, _, c, _ in rows}
    targets = [
        ("no rule matching: at most the trivial filter + 1 us", "tokengate, no rule matches",
         "trivial proxy-wasm filter (Continue only)", lambda ref: ref + 1.0),
        ("cache hit: at most 1.10x jwt_authn with cache", "tokengate cache hit (RS256)",
         "jwt_authn RS256, jwt_cache_config", lambda ref: 1.10 * ref),
        ("uncached RS256: at most 1.3x jwt_authn", "tokengate uncached RS256", "jwt_authn RS256, no cache",
         lambda ref: 1.3 * ref),
        ("uncached ES256: at most 2x jwt_authn", "tokengate uncached ES256", "jwt_authn ES256, no cache",
         lambda ref: 2.0 * ref),
        (f"{TENANTS} providers: within 5% of 1", f"tokengate {TENANTS} providers on one rule, cache hit (ES256)",
         "tokengate 1 provider, cache hit (ES256)", lambda ref: 1.05 * ref),
    ]
    print("\n| target | measured us | reference us | ratio | met |")
    print("|---|---:|---:|---:|---|")
    for name, row, ref_row, limit in targets:
        got, ref = cpu[row], cpu[ref_row]
        print(f"| {name} | {got:.1f} | {ref:.1f} | {got / ref:.2f}x | {'yes' if got <= limit(ref) else 'NO'} |")
    if any(r[5] for r in rows[1:]):
        raise SystemExit("some requests were refused: the comparison is void")


if __name__ == "__main__":
    main()
