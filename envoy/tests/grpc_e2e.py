"""gRPC through the filter (issue 15): a real grpcio client calls a real grpcio service behind
Envoy. A missing or bad token is UNAUTHENTICATED (16), a missing scope PERMISSION_DENIED (7),
an outage UNAVAILABLE (14), each with a grpc-message naming the code and never the token; a
valid token reaches the service with the claim metadata and without the token.

The service has no protobuf schema: its methods take and return raw bytes (the answer is the
metadata it received, as JSON), which is all a gate needs to be tested with.
"""

import json
from concurrent import futures

import grpc

SERVICE = "demo.Orders"


class Service:
    """A gRPC server on loopback whose every method answers with the metadata it received."""

    def __init__(self, port):
        def echo(request, context):
            return json.dumps({k: v for k, v in context.invocation_metadata()}).encode()

        handler = grpc.method_handlers_generic_handler(
            SERVICE, {m: grpc.unary_unary_rpc_method_handler(echo) for m in ("Get", "Admin")})
        down = grpc.method_handlers_generic_handler(
            "demo.Down", {"Get": grpc.unary_unary_rpc_method_handler(echo)})
        self.calls = 0
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler, down])
        self.port = port
        self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.server.start()

    def stop(self):
        self.server.stop(grace=None)


def rules():
    """Route rules for the gRPC methods, placed before the catch-all rule."""
    return [
        {"match": {"path": f"/{SERVICE}/Admin"}, "requires": {"provider_name": "idp"}, "scopes_all": ["orders:admin"]},
        {"match": {"prefix": "/demo.Down/"}, "requires": {"provider_name": "down"}},
    ]


def cluster(name, port):
    """An HTTP/2 (plaintext) cluster for the gRPC service."""
    return {"name": name, "type": "STATIC", "connect_timeout": "1s",
            "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}}}},
            "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}]}}


def call(port, method, token=None, service=SERVICE):
    """One unary call through Envoy: (status code, details, metadata dict, response)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        rpc = channel.unary_unary(f"/{service}/{method}")
        metadata = [("authorization", f"Bearer {token}")] if token else []
        try:
            response, c = rpc.with_call(b"{}", metadata=metadata, timeout=5)
            return c.code(), c.details(), dict(c.trailing_metadata() or ()), response
        except grpc.RpcError as e:
            meta = dict(e.initial_metadata() or ())
            meta.update(dict(e.trailing_metadata() or ()))
            return e.code(), e.details() or "", meta, None


def run(r, port, tokens, realm):
    """The gRPC cases; `tokens` holds good, admin, expired and forged tokens."""
    S = grpc.StatusCode
    code, details, meta, body = call(port, "Get", tokens["good"])
    seen = json.loads(body) if body else {}
    r.check("gRPC: valid token reaches the service with the claim metadata, without the token",
            code == S.OK and seen.get("x-jwt-sub") == "alice" and "authorization" not in seen, (code, details, seen))
    code, details, meta, _ = call(port, "Get")
    r.check("gRPC: no token is UNAUTHENTICATED (16) with a challenge and the code in grpc-message",
            code == S.UNAUTHENTICATED and "ERR_JWT_MISSING" in details
            and meta.get("www-authenticate") == f'Bearer realm="{realm}"', (code, details, meta))
    for name, token, want in [("expired", tokens["expired"], "ERR_JWT_EXPIRED"),
                              ("forged", tokens["forged"], "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"),
                              ("malformed", "not-a-token", "ERR_JWS_INVALID")]:
        code, details, meta, _ = call(port, "Get", token)
        leaked = any(token in str(v) for v in [details, *meta.values()]) or token.split(".")[-1] in details
        r.check(f"gRPC: {name} token is UNAUTHENTICATED (16), grpc-message {want}, no token echoed",
                code == S.UNAUTHENTICATED and want in details and not leaked
                and 'error="invalid_token"' in meta.get("www-authenticate", ""), (code, details, meta))
    code, details, meta, _ = call(port, "Admin", tokens["good"])
    r.check("gRPC: missing scope is PERMISSION_DENIED (7) with ERR_JWT_INSUFFICIENT_SCOPE",
            code == S.PERMISSION_DENIED and "ERR_JWT_INSUFFICIENT_SCOPE" in details
            and 'scope="orders:admin"' in meta.get("www-authenticate", ""), (code, details, meta))
    code, details, _, body = call(port, "Admin", tokens["admin"])
    r.check("gRPC: the scope present is OK", code == S.OK and body, (code, details))
    code, details, meta, _ = call(port, "Get", tokens["good"], service="demo.Down")
    r.check("gRPC: key outage is UNAVAILABLE (14) with ERR_JWKS_UNAVAILABLE, no invalid_token challenge",
            code == S.UNAVAILABLE and "ERR_JWKS_UNAVAILABLE" in details and "www-authenticate" not in meta,
            (code, details, meta))
