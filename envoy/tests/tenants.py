"""Many issuers on one route (issue 15): 100 tenant providers, each with its own issuer and its
own remote JWKS, behind one `requires_any` rule. A token is tried only by the provider of the
issuer it names: a tenant's token verifies, a token naming a tenant but signed by another
tenant's key is refused and makes only that tenant's key set be fetched again, and a token
naming no tenant is refused without any key set being fetched.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

COUNT = 100
AUD = "orders-api"


def issuer(n):
    return f"https://tenant-{n}.e2e.local"


class TenantKeys:
    """One P-256 key per tenant, served at /tenants/N/jwks.json; requests counted per tenant."""

    def __init__(self, port):
        self.keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(COUNT)]
        self.docs = {}
        for n, key in enumerate(self.keys):
            jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
            jwk.update({"kid": f"t{n}", "alg": "ES256", "use": "sig"})
            self.docs[f"/tenants/{n}/jwks.json"] = json.dumps({"keys": [jwk]}).encode()
        self.hits = [0] * COUNT
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = outer.docs.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                with outer.lock:
                    outer.hits[int(self.path.split("/")[2])] += 1
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            # Envoy fetches all 100 key sets at once at start: a backlog of 5 would refuse most.
            request_queue_size = 256

        self.port = port
        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def mint(self, n, signer=None, **overrides):
        """A token naming tenant `n`, signed by tenant `signer`'s key (default: its own)."""
        signer = n if signer is None else signer
        now = int(time.time())
        claims = {"iss": issuer(n), "sub": f"user-of-{n}", "aud": AUD, "iat": now, "exp": now + 300}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys[signer], algorithm="ES256", headers={"kid": f"t{signer}"})


def config(cluster):
    """The plugin configuration: 100 providers, one rule that accepts any of them."""
    providers = {
        f"t{n}": {
            "issuer": issuer(n), "audiences": [AUD], "algorithms": ["ES256"],
            "claim_to_headers": [{"header_name": "x-tenant-sub", "claim_name": "sub"}],
            "remote_jwks": {"cluster": cluster, "authority": "tenants.e2e.local", "path": f"/tenants/{n}/jwks.json",
                            "refresh_seconds": 600, "timeout_ms": 2000, "unknown_kid_cooldown_seconds": 1},
        }
        for n in range(COUNT)
    }
    return {"realm": "tenants", "providers": providers,
            "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": [f"t{n}" for n in range(COUNT)]}}]}


def run(r, request, port, keys, wait_until):
    """The cases; `request(port, path, headers)` returns (status, headers, body)."""
    auth = lambda t: {"Authorization": f"Bearer {t}"}

    def answer(token):
        s, _, b = request(port, "/orders", auth(token))
        try:
            return s, json.loads(b)
        except ValueError:
            return s, {}

    ready = wait_until(lambda: all(answer(keys.mint(n))[0] == 200 for n in (0, 99)), timeout=30)
    r.check(f"{COUNT} tenant providers: the first and the last tenant's tokens verify", ready)
    s, echo = answer(keys.mint(57))
    r.check("a tenant's token reaches the upstream with its own claims",
            s == 200 and echo.get("headers", {}).get("x-tenant-sub") == "user-of-57", (s, echo))
    time.sleep(1.5)  # past every unknown-kid cooldown
    before = list(keys.hits)
    s, body = answer(keys.mint(57, signer=12))
    time.sleep(1.5)
    after = list(keys.hits)
    changed = [n for n in range(COUNT) if after[n] != before[n]]
    r.check("another tenant's key under tenant 57's issuer: 401 ERR_JWKS_NO_MATCHING_KEY, "
            f"only tenant 57's key set fetched again (fetched: {changed})",
            s == 401 and body.get("code") == "ERR_JWKS_NO_MATCHING_KEY" and changed == [57], (s, body, changed))
    before = list(keys.hits)
    s, body = answer(keys.mint(12, iss="https://nobody.e2e.local"))
    r.check("a token naming no configured issuer: 401 ERR_JWT_CLAIM_VALIDATION_FAILED, no key set fetched",
            s == 401 and body.get("code") == "ERR_JWT_CLAIM_VALIDATION_FAILED" and keys.hits == before, (s, body))
    s, body = answer(keys.mint(12, iss=None))
    r.check("a token without iss: 401 ERR_JWT_CLAIM_VALIDATION_FAILED", s == 401
            and body.get("code") == "ERR_JWT_CLAIM_VALIDATION_FAILED", (s, body))
    s, body = answer("e30.bm90IGpzb24.c2ln")
    r.check("a token whose payload is not JSON: 401 ERR_JWT_INVALID", s == 401 and body.get("code") == "ERR_JWT_INVALID",
            (s, body))
    s, body = answer(keys.mint(30, exp=int(time.time()) - 3600))
    r.check("an expired tenant token: 401 ERR_JWT_EXPIRED (the tenant's own verdict)",
            s == 401 and body.get("code") == "ERR_JWT_EXPIRED", (s, body))
