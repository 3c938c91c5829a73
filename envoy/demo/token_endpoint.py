"""The demo IdP's OAuth2 token endpoint: the client credentials grant (RFC 6749 section 4.4)
with resource indicators (RFC 8707), issuing short-lived JWT access tokens (RFC 9068).

A DEMO COMPONENT, for `make demo` on loopback only: two hard-coded clients with their secrets
in this file, no rate limiting, no persistence. It shows the flow tokengate sits in: a service
gets an audience-scoped token from its authorization server, then calls another service
through Envoy, where the filter checks it.

Clients authenticate with HTTP Basic (client_secret_basic) or in the form body
(client_secret_post). `resource` names the API the token is for (default: the orders API);
`scope` asks for a subset of the client's scopes (default: all of them).
"""

import base64
import hmac
import json
import time
import urllib.parse
import uuid

ISSUER = "https://idp.demo.local"

# client_id -> (secret, scopes it may ask for)
CLIENTS = {
    "orders-client": ("orders-secret", ["orders:read"]),
    "admin-client": ("admin-secret", ["orders:read", "orders:admin"]),
}

# RFC 8707 resource indicator -> the audience the API checks
RESOURCES = {
    "https://orders-api.demo.local": "orders-api",
    "https://billing-api.demo.local": "billing-api",
}
DEFAULT_RESOURCE = "https://orders-api.demo.local"


def _error(status, error, description, extra_headers=()):
    body = json.dumps({"error": error, "error_description": description}).encode()
    return status, [("cache-control", "no-store"), *extra_headers], body


def _client(headers, form):
    """(client_id, error response): HTTP Basic or the form body, never both (RFC 6749 2.3)."""
    basic = headers.get("authorization", "")
    in_body = "client_id" in form or "client_secret" in form
    if basic.lower().startswith("basic "):
        if in_body:
            return None, _error(400, "invalid_request", "use one client authentication method")
        try:
            raw = base64.b64decode(basic[6:], validate=True).decode()
            client_id, secret = (urllib.parse.unquote(p) for p in raw.split(":", 1))
        except (ValueError, UnicodeDecodeError):
            return None, _error(400, "invalid_request", "malformed Basic credentials")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    known = CLIENTS.get(client_id)
    # Compare even for an unknown client, so timing does not tell which client ids exist.
    expected = known[0] if known else "-" * 32
    if not hmac.compare_digest(secret.encode(), expected.encode()) or not known:
        challenge = [("www-authenticate", 'Basic realm="demo-idp"')] if basic else []
        return None, _error(401, "invalid_client", "unknown client or wrong secret", challenge)
    return client_id, None


def handle(headers, body, sign, ttl):
    """One POST to the token endpoint: (status, headers, body). `headers` has lowercase
    names; `sign(claims)` returns the signed JWT; `ttl` is the token lifetime in seconds."""
    if not headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        return _error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
    try:
        pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_request", "malformed form body")
    names = [k for k, _ in pairs]
    repeated = {k for k in names if names.count(k) > 1} - {"resource"}
    if repeated:
        return _error(400, "invalid_request", f"parameter repeated: {sorted(repeated)[0]}")
    form = {k: v for k, v in pairs if k != "resource"}
    resources = [v for k, v in pairs if k == "resource"]
    client_id, failure = _client(headers, form)
    if failure:
        return failure
    if form.get("grant_type") != "client_credentials":
        return _error(400, "unsupported_grant_type", "only client_credentials is offered here")
    allowed = CLIENTS[client_id][1]
    asked = form.get("scope", "").split() or allowed
    if any(s not in allowed for s in asked):
        return _error(400, "invalid_scope", f"{client_id} may ask for: {' '.join(allowed)}")
    if len(resources) > 1:
        return _error(400, "invalid_target", "one resource per token (one audience)")
    resource = resources[0] if resources else DEFAULT_RESOURCE
    if resource not in RESOURCES:
        return _error(400, "invalid_target", f"unknown resource; known: {' '.join(sorted(RESOURCES))}")
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": client_id, "client_id": client_id, "aud": RESOURCES[resource],
              "scope": " ".join(asked), "iat": now, "exp": now + ttl, "jti": str(uuid.uuid4())}
    token = sign(claims)
    answer = {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": " ".join(asked)}
    return 200, [("cache-control", "no-store"), ("pragma", "no-cache")], json.dumps(answer).encode()
