"""The hostile-request suite (issue 12): what an attacker sends, against the real Envoy.

Every case is sent raw (rawhttp), to an enforcing listener whose Envoy does no path
normalization of its own (so the filter's own defence is what is tested) and to the same
configuration under FAIL_OPEN. A case either must never reach the upstream (and is checked
for its status and code), or is a legitimate request that must. Then 1,000 mixed requests
with a fixed seed; then the same worker must still answer.
"""

import json
import random
import time

import rawhttp


def reached(status, body):
    """Whether the echo upstream answered (and so the request got through the filter)."""
    return status == 200 and body.startswith(b'{"path"')


def code_of(body):
    try:
        return json.loads(body).get("code")
    except ValueError:
        return None


class Case:
    def __init__(self, name, path, headers=(), method="GET", status=None, code=None, allow=False, check=None):
        self.name, self.path, self.headers, self.method = name, path, list(headers), method
        self.status, self.code, self.allow, self.check = status, code, allow, check

    def run(self, port):
        return rawhttp.request(port, self.method, self.path, self.headers)

    def verdict(self, status, hdrs, body):
        """(ok, detail) for one answer."""
        got = reached(status, body)
        if self.allow:
            if not got:
                return False, (status, body[:200])
            if self.check is not None:
                echo = json.loads(body)
                return self.check(echo), echo
            return True, None
        if got:
            return False, f"REACHED THE UPSTREAM: {body[:300]!r}"
        if self.status is not None:
            allowed = self.status if isinstance(self.status, tuple) else (self.status,)
            if status not in allowed:
                return False, (status, code_of(body), body[:200])
        if self.code is not None and code_of(body) != self.code:
            return False, (status, code_of(body))
        return True, None


def cases(t):
    """The suite. `t` holds tokens: good (no admin scope), admin, forged, hs, dpop."""
    bearer = lambda tok: ("Authorization", b"Bearer " + (tok if isinstance(tok, bytes) else tok.encode()))
    good, forged = t["good"], t["forged"]
    c = []
    # Path tricks against the protected /admin rule (scope orders:admin) and around the public
    # /public exemption: refused as not normal (400), or matched as protected.
    for p in ["//admin/users", "/%61dmin/users", "/admin;x/users", "/admin%2Fusers", "/admin%2fusers",
              "/public/../admin/users", "/public/./../admin", "/public%2F..%2Fadmin", "/public/%2e%2e/admin",
              "/public//../admin", "/admin%5Cusers", "/admin/%2e%2e/public", "/admin%25", "/public/..",
              "/healthz/../admin/users", "/public/;/../admin"]:
        c.append(Case(f"path trick {p}: 400, no token", p, status=400))
        c.append(Case(f"path trick {p}: 400 with a non-admin token", p, [bearer(good)], status=400))
    c.append(Case("path trick /admin\\users: refused", "/admin\\users", status=400))
    c.append(Case("path trick /Admin/users: protected rule, 401 without token", "/Admin/users", status=401, code="ERR_JWT_MISSING"))
    c.append(Case("path trick /ADMIN/users: protected rule, 403 without the scope", "/ADMIN/users", [bearer(good)], status=403))
    c.append(Case("path trick /PUBLIC/x: not exempt, 401", "/PUBLIC/x", status=401))
    for b in [0x80, 0xA0, 0xC3, 0xFF]:
        c.append(Case(f"raw 0x{b:02X} in the path: 400", b"/admin/" + bytes([b]), status=400))
        c.append(Case(f"raw 0x{b:02X} in the path of a public route: 400", b"/public/x" + bytes([b]), status=400))
        c.append(Case(f"raw 0x{b:02X} in Authorization: 401 malformed", "/orders",
                      [("Authorization", b"Bearer " + good[:20].encode() + bytes([b]) + good[20:].encode())],
                      status=401, code="ERR_JWT_MALFORMED_CREDENTIAL"))
        c.append(Case(f"raw 0x{b:02X} in Cookie (another cookie): 401 missing", "/orders",
                      [("Cookie", b"junk=" + bytes([b, b]) + b"; theme=dark")], status=401, code="ERR_JWT_MISSING"))
        c.append(Case(f"raw 0x{b:02X} in the token cookie (allow_missing): 401", "/optional/x",
                      [("Cookie", b"access_token=ey" + bytes([b]))], status=401, code="ERR_JWT_MALFORMED_CREDENTIAL"))
        c.append(Case(f"raw 0x{b:02X} in Origin of a preflight: no bypass, 401", "/orders",
                      [("Origin", b"https://" + bytes([b]) + b".example"), ("Access-Control-Request-Method", "POST")],
                      method="OPTIONS", status=401))
    c.append(Case("Authorization: Bearer \\xff (the issue's VM crash): 401", "/orders",
                  [("Authorization", b"Bearer \xff")], status=401, code="ERR_JWT_MALFORMED_CREDENTIAL"))
    c.append(Case("Authorization twice: 401 ambiguous", "/orders", [bearer(good), bearer(forged)],
                  status=401, code="ERR_JWT_AMBIGUOUS"))
    c.append(Case("Authorization twice, both the good token: 401 ambiguous", "/orders", [bearer(good), bearer(good)],
                  status=401, code="ERR_JWT_AMBIGUOUS"))
    c.append(Case("Basic then a forged Bearer (allow_missing): 401", "/optional/x",
                  [("Authorization", "Basic dXNlcjpwYXNz"), bearer(forged)], status=401))
    c.append(Case("Bearer<TAB>forged (allow_missing): 401 malformed", "/optional/x",
                  [("Authorization", "Bearer\t" + forged)], status=401, code="ERR_JWT_MALFORMED_CREDENTIAL"))
    c.append(Case("Bearer:forged (allow_missing): 401 malformed", "/optional/x",
                  [("Authorization", "Bearer:" + forged)], status=401, code="ERR_JWT_MALFORMED_CREDENTIAL"))
    c.append(Case("Bearer with nothing (allow_missing): 401 malformed", "/optional/x",
                  [("Authorization", "Bearer")], status=401, code="ERR_JWT_MALFORMED_CREDENTIAL"))
    c.append(Case("forged token (allow_missing): 401", "/optional/x", [bearer(forged)], status=401))
    c.append(Case("Basic credentials only (allow_missing): passes unauthenticated", "/optional/x",
                  [("Authorization", "Basic dXNlcjpwYXNz")], allow=True,
                  check=lambda e: "x-jwt-sub" not in e["headers"]))
    c.append(Case("token in header and cookie: 401 ambiguous", "/orders",
                  [bearer(good), ("Cookie", "access_token=" + good)], status=401, code="ERR_JWT_AMBIGUOUS"))
    c.append(Case("token in header and query: 401 ambiguous", "/orders?access_token=" + good,
                  [bearer(good)], status=401, code="ERR_JWT_AMBIGUOUS"))
    c.append(Case("query token twice: 401 ambiguous", f"/orders?access_token={good}&access_token={good}",
                  status=401, code="ERR_JWT_AMBIGUOUS"))
    c.append(Case("percent-encoded parameter name with a forged token (allow_missing): 401",
                  "/optional/x?access%5Ftoken=" + forged, status=401))
    c.append(Case("token cookie twice in two Cookie headers: 401 ambiguous", "/orders",
                  [("Cookie", "access_token=" + good), ("Cookie", "access_token=" + good)],
                  status=401, code="ERR_JWT_AMBIGUOUS"))
    c.append(Case("forged cookie token (allow_missing): 401", "/optional/x", [("Cookie", "access_token=" + forged)], status=401))
    c.append(Case("requires_all + allow_missing: a forged second token alone: 401", "/optboth/x",
                  [("x-service-token", forged)], status=401))
    c.append(Case("requires_all + allow_missing: no token passes unauthenticated", "/optboth/x", allow=True))
    c.append(Case("forward: true with a second, forged Authorization: 401 ambiguous, never forwarded", "/fwd/x",
                  [bearer(good), bearer(forged)], status=401, code="ERR_JWT_AMBIGUOUS"))
    c.append(Case("forward: true with one token: forwarded as sent", "/fwd/x", [bearer(good)], allow=True,
                  check=lambda e: e["headers"].get("authorization") == "Bearer " + good))
    c.append(Case("requires_any: a second provider's unverified token never rides along", "/eitherlocal/x",
                  [bearer(good), ("x-service-token", forged)], allow=True,
                  check=lambda e: "x-service-token" not in e["headers"] and "authorization" not in e["headers"]
                  and e["headers"].get("x-jwt-sub") == "alice"))
    c.append(Case("custom token header twice: 401 ambiguous", "/local/x",
                  [("x-service-token", t["hs"]), ("x-service-token", t["hs"])], status=401, code="ERR_JWT_AMBIGUOUS"))
    c.append(Case("DPoP-bound token (cnf.jkt) as a bearer token: 401", "/orders", [bearer(t["dpop"])],
                  status=401, code="ERR_JWT_CONFIRMATION_UNSUPPORTED"))
    c.append(Case("alg none: 401", "/orders", [bearer(t["none"])], status=401))
    c.append(Case("64 KiB Authorization: refused", "/orders", [("Authorization", "Bearer " + "A" * 65536)],
                  status=(401, 431, 400)))
    c.append(Case("spoofed x_jwt_sub / X-JWT-SUB / x-jwt_roles replaced by the token's", "/orders",
                  [bearer(good), ("x_jwt_sub", "admin"), ("X-JWT-SUB", "mallory"), ("x-jwt_roles", "root"),
                   ("x_jwt_payload", "e30")],
                  allow=True, check=lambda e: e["headers"].get("x-jwt-sub") == "alice"
                  and e["headers"].get("x-jwt-roles") == "ops,dev"
                  and not any(k in e["headers"] for k in ("x_jwt_sub", "x-jwt_roles", "x_jwt_payload"))))
    c.append(Case("spoofed x_jwt_sub on a public route stripped", "/public/info", [("x_jwt_sub", "admin")],
                  allow=True, check=lambda e: "x_jwt_sub" not in e["headers"] and "x-jwt-sub" not in e["headers"]))
    c.append(Case("lowercase bearer scheme is fine (RFC 7235)", "/orders", [("Authorization", "bearer " + good)], allow=True))
    c.append(Case("good token: 200, token stripped", "/orders", [bearer(good)], allow=True,
                  check=lambda e: "authorization" not in e["headers"]))
    c.append(Case("admin token on /admin: 200", "/admin/users", [bearer(t["admin"])], allow=True))
    c.append(Case("admin token on /Admin (case folded): 200", "/Admin/users", [bearer(t["admin"])], allow=True))
    return c


def run(r, ctx):
    """ctx: listeners {name: port}, tokens, and the time-dependent checks' helpers."""
    t = ctx["tokens"]
    suite = cases(t)
    for listener, port in ctx["listeners"].items():
        for case in suite:
            ok, detail = case.verdict(*case.run(port))
            r.check(f"hostile [{listener}] {case.name}", ok, detail)

    # The same worker answers after each crash attempt: one connection, hostile then good.
    for listener, port in ctx["listeners"].items():
        conn = rawhttp.Connection(port)
        try:
            answers = []
            for hostile in [("Authorization", b"Bearer \xff"), ("Authorization", b"\xff\xfe\xfd")]:
                answers.append(conn.send("GET", "/orders", [hostile])[0])
                answers.append(conn.send("GET", "/orders", [("Authorization", "Bearer " + t["good"])])[0])
            conn2 = rawhttp.Connection(port)
            answers.append(conn2.send("OPTIONS", "/orders", [("Origin", b"\xff"), ("Access-Control-Request-Method", "GET")])[0])
            answers.append(conn2.send("GET", "/orders", [("Authorization", "Bearer " + t["good"])])[0])
            conn2.close()
        finally:
            conn.close()
        r.check(f"hostile [{listener}] the same worker answers the next request", answers == [401, 200, 401, 200, 401, 200], answers)

    # 1,000 mixed requests (seeded), alternating listeners.
    rng = random.Random(12)
    wrongly_allowed, wrongly_denied, sent = 0, 0, 0
    ports = list(ctx["listeners"].values())
    deadline = time.time() + 120
    for i in range(1000):
        if time.time() > deadline:
            break
        case = rng.choice(suite)
        status, hdrs, body = case.run(ports[i % len(ports)])
        sent += 1
        ok, _ = case.verdict(status, hdrs, body)
        if not ok and case.allow:
            wrongly_denied += 1
        elif not ok and reached(status, body):
            wrongly_allowed += 1
    r.check(f"hostile: {sent} mixed requests, {wrongly_allowed} wrongly allowed", sent == 1000 and wrongly_allowed == 0,
            (sent, wrongly_allowed))
    r.check(f"hostile: every legitimate request among them served ({wrongly_denied} refused)", wrongly_denied == 0,
            wrongly_denied)
