#!/usr/bin/env python3
"""make demo: Envoy + the tokengate filter + a demo IdP (JWKS and an OAuth2 token endpoint)
and upstream, on loopback.

Prints ready-to-run curl lines: the OAuth2 client credentials flow (get a short-lived token
for orders-api from the demo IdP, call through Envoy, watch it expire), and accepted and
rejected tokens. Serves until Ctrl-C, which stops everything it started. `--check` runs the
same requests itself and exits (CI).

Usage: demo.py PATH/TO/tokengate_envoy.wasm [--check] [--token-ttl SECONDS]
"""

import json
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import token_endpoint  # noqa: E402


def port(preferred):
    for p in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return s.getsockname()[1]
            except OSError:
                continue
    raise SystemExit("no free port")


def serve(handler_body, p, post=None):
    """GET answers with `handler_body(request)`; POST, when given, with `post(headers, body)`
    returning (status, headers, body)."""
    class H(BaseHTTPRequestHandler):
        def _send(self, status, headers, body):
            self.send_response(status)
            self.send_header("content-type", "application/json")
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            status, body = handler_body(self)
            self._send(status, [], body)

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            if post is None or self.path.split("?")[0] != "/token" or not 0 <= length <= 64 * 1024:
                self._send(404 if length <= 64 * 1024 else 413, [], b'{"error":"not_found"}')
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*post(headers, self.rfile.read(length)))

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", p), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    wasm, check = os.path.abspath(sys.argv[1]), "--check" in sys.argv
    # Demo access tokens live 60 s (the filter allows 5 s of clock skew on top); the check
    # uses 2 s so it can watch one expire.
    ttl = int(sys.argv[sys.argv.index("--token-ttl") + 1]) if "--token-ttl" in sys.argv else (2 if check else 60)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "demo-1", "alg": "RS256", "use": "sig"})
    jwks = json.dumps({"keys": [jwk]}).encode()
    ports = {"LISTENER_PORT": port(10000), "ADMIN_PORT": port(9901), "JWKS_PORT": port(8081), "UPSTREAM_PORT": port(8082)}
    sign_access_token = lambda claims: jwt.encode(claims, key, algorithm="RS256",
                                                  headers={"kid": "demo-1", "typ": "at+jwt"})
    jwks_srv = serve(lambda h: (200, jwks), ports["JWKS_PORT"],
                     post=lambda headers, body: token_endpoint.handle(headers, body, sign_access_token, ttl))
    up_srv = serve(lambda h: (200, json.dumps({"upstream": "hello", "path": h.path,
                                                "x-jwt-sub": h.headers.get("x-jwt-sub")}).encode()), ports["UPSTREAM_PORT"])
    work = tempfile.mkdtemp(prefix="tokengate-demo-")
    with open(os.path.join(HERE, "..", "examples", "demo-envoy.yaml")) as f:
        config = string.Template(f.read()).substitute({**{k: str(v) for k, v in ports.items()}, "WASM": wasm})
    # The demo IdP's key, for envoy/demo/mint.py (removed with the rest on exit).
    key_path = os.path.join(work, "demo-key.pem")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    cfg = os.path.join(work, "envoy.yaml")
    with open(cfg, "w") as f:
        f.write(config)
    log = open(os.path.join(work, "envoy.log"), "w")
    envoy = subprocess.Popen(["envoy", "-c", cfg, "--concurrency", "2", "--log-level", "info",
                              "--base-id", str(ports["ADMIN_PORT"] % 60000)], stdout=log, stderr=subprocess.STDOUT)

    def stop(*_):
        envoy.terminate()
        try:
            envoy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            envoy.kill()
        jwks_srv.shutdown()
        up_srv.shutdown()
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    now = int(time.time())
    base = {"iss": "https://idp.demo.local", "sub": "alice", "aud": "orders-api", "iat": now, "exp": now + 3600,
            "scope": "orders:read"}
    sign = lambda **kw: jwt.encode({**base, **kw}, key, algorithm="RS256", headers={"kid": "demo-1"})
    tokens = [("accepted (200)", "/orders", sign(), 200),
              ("rejected: expired (401)", "/orders", sign(exp=now - 60), 401),
              ("rejected: wrong audience (401)", "/orders", sign(aud="billing-api"), 401),
              ("rejected: no orders:admin scope (403)", "/admin/stats", sign(), 403),
              ("rejected: no token (401)", "/orders", None, 401),
              ("public path, no token needed (200)", "/public/status", None, 200)]
    L = ports["LISTENER_PORT"]

    def get(path, token):
        req = urllib.request.Request(f"http://127.0.0.1:{L}{path}",
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0

    # Ready means every worker has the keys: the first accepted token shows one root context
    # fetched and published them; the others adopt them on their next one-second tick. So wait
    # for that tick, then for ten accepted tokens in a row on fresh connections.
    deadline = time.time() + 30
    ok_in_a_row = 0
    first_ok = None
    while ok_in_a_row < 10 or first_ok is None or time.time() < first_ok + 1.2:
        if get("/orders", tokens[0][2]) == 200:
            first_ok = first_ok or time.time()
            ok_in_a_row += 1
        else:
            ok_in_a_row = 0
            time.sleep(0.2)
        if time.time() > deadline or envoy.poll() is not None:
            tail = open(log.name).read()[-2000:]
            stop()
            raise SystemExit(f"Envoy did not come up; its log ended with:\n{tail}")

    mint_cmd = f"{sys.executable} {os.path.relpath(os.path.join(HERE, 'mint.py'))} --key {key_path}"

    token_url = f"http://127.0.0.1:{ports['JWKS_PORT']}/token"

    def oauth(form, basic=None):
        """POST to the demo token endpoint: (status, JSON answer)."""
        headers = {"content-type": "application/x-www-form-urlencoded"}
        if basic:
            headers["authorization"] = "Basic " + __import__("base64").b64encode(basic.encode()).decode()
        req = urllib.request.Request(token_url, data=urllib.parse.urlencode(form).encode(), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    if check:
        # The OAuth2 flow the demo prints: client credentials, resource indicators, expiry.
        flow = []
        s, got = oauth({"grant_type": "client_credentials", "resource": token_endpoint.DEFAULT_RESOURCE},
                       "orders-client:orders-secret")
        access = got.get("access_token", "")
        flow.append(("token endpoint: client_credentials (Basic) issues a Bearer token",
                     s == 200 and got.get("token_type") == "Bearer" and got.get("expires_in") == ttl))
        flow.append(("its access token calls /orders through Envoy (200)", get("/orders", access) == 200))
        flow.append(("it has no orders:admin scope (403)", get("/admin/stats", access) == 403))
        s, got = oauth({"grant_type": "client_credentials", "client_id": "admin-client",
                        "client_secret": "admin-secret", "scope": "orders:admin"})
        flow.append(("client_secret_post with scope orders:admin: /admin/stats (200)",
                     s == 200 and get("/admin/stats", got.get("access_token")) == 200))
        s, got = oauth({"grant_type": "client_credentials", "resource": "https://billing-api.demo.local"},
                       "orders-client:orders-secret")
        flow.append(("a token for billing-api is refused by orders-api (401)",
                     s == 200 and get("/orders", got.get("access_token")) == 401))
        flow.append(("wrong client secret: 401 invalid_client",
                     oauth({"grant_type": "client_credentials"}, "orders-client:nope") == (401, {
                         "error": "invalid_client", "error_description": "unknown client or wrong secret"})))
        flow.append(("a scope the client may not have: 400 invalid_scope",
                     oauth({"grant_type": "client_credentials", "scope": "orders:admin"},
                           "orders-client:orders-secret")[1].get("error") == "invalid_scope"))
        flow.append(("an unknown resource: 400 invalid_target",
                     oauth({"grant_type": "client_credentials", "resource": "https://evil.example"},
                           "orders-client:orders-secret")[1].get("error") == "invalid_target"))
        flow.append(("another grant type: 400 unsupported_grant_type",
                     oauth({"grant_type": "password"}, "orders-client:orders-secret")[1].get("error")
                     == "unsupported_grant_type"))
        time.sleep(ttl + 5 + 1.5)  # past exp and the provider's 5 s clock skew
        flow.append((f"the {ttl} s token has expired: 401", get("/orders", access) == 401))
        # The mint line the demo prints works, and a claim changed on it changes the verdict.
        minted = lambda *claims: subprocess.run([*mint_cmd.split(), *claims], capture_output=True,
                                                text=True, check=True).stdout.strip()
        tokens.append(("minted with the printed command (200)", "/orders", minted(), 200))
        tokens.append(("minted with scope orders:admin (200)", "/admin/stats", minted("scope=orders:admin"), 200))
        tokens.append(("minted for another audience (401)", "/orders", minted("aud=billing-api"), 401))
        failed = [(label, want, get(p, t)) for label, p, t, want in tokens if get(p, t) != want]
        failed += [(label, True, False) for label, ok in flow if not ok]
        stop()
        for label, want, got in failed:
            print(f"demo check FAILED: {label}: got {got}")
        print(f"demo check: {len(tokens) + len(flow) - len(failed)} passed, {len(failed)} failed")
        left = os.path.exists(work)
        if left:
            print("demo check FAILED: its temporary directory was left behind")
        sys.exit(1 if failed or left else 0)

    print(f"\ntokengate demo: Envoy on http://127.0.0.1:{L} (admin :{ports['ADMIN_PORT']}), "
          f"IdP (JWKS, /token) :{ports['JWKS_PORT']}, upstream :{ports['UPSTREAM_PORT']}\n")
    print("# The OAuth2 flow (demo IdP, client credentials + RFC 8707 resource): get a token for orders-api,")
    print(f"# call through Envoy, and call again after {ttl} s (+5 s clock skew) to see it expire")
    print(f"TOKEN=$(curl -s {token_url} -u orders-client:orders-secret -d grant_type=client_credentials \\\n"
          f"  -d resource={token_endpoint.DEFAULT_RESOURCE} | {sys.executable} -c 'import json,sys; "
          f"print(json.load(sys.stdin)[\"access_token\"])')")
    print(f"curl -si http://127.0.0.1:{L}/orders -H \"Authorization: Bearer $TOKEN\"")
    print(f"# admin-client:admin-secret may ask for scope=orders:admin; resource=https://billing-api.demo.local "
          "gives a token orders-api refuses\n")
    for label, path, token, _ in tokens:
        auth = f" -H 'Authorization: Bearer {token}'" if token else ""
        print(f"# {label}\ncurl -si http://127.0.0.1:{L}{path}{auth}\n")
    print("# mint your own: change or add any claim (claim=value; claim= removes it), see the verdict")
    print(f"curl -si http://127.0.0.1:{L}/admin/stats -H \"Authorization: Bearer $({mint_cmd} sub=bob scope=orders:admin)\"\n")
    print(f"# metrics\ncurl -s http://127.0.0.1:{ports['ADMIN_PORT']}/stats | grep tokengate\n")
    print(f"Envoy log: {log.name}\nCtrl-C stops Envoy and the demo servers and removes {work}.")
    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        envoy.wait()
    except KeyboardInterrupt:
        pass
    stop()


if __name__ == "__main__":
    main()
