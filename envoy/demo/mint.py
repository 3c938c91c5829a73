#!/usr/bin/env python3
"""Mints a token for the running `make demo`, signed with its demo IdP key.

Usage: mint.py --key DEMO_KEY.pem [claim=value ...]

Defaults: iss https://idp.demo.local, aud orders-api, sub alice, scope orders:read, iat now,
exp in an hour, kid demo-1. Each claim=value overrides one (a value that parses as JSON is
taken as JSON: exp=0, aud='["a","b"]'; claim= removes the claim). Prints the token.
"""

import json
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization


def main(argv):
    if len(argv) < 2 or argv[0] != "--key":
        raise SystemExit(__doc__)
    with open(argv[1], "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    now = int(time.time())
    claims = {"iss": "https://idp.demo.local", "sub": "alice", "aud": "orders-api", "iat": now,
              "exp": now + 3600, "scope": "orders:read"}
    for arg in argv[2:]:
        name, sep, value = arg.partition("=")
        if not sep or not name:
            raise SystemExit(f"not claim=value: {arg!r}\n\n{__doc__}")
        if value == "":
            claims.pop(name, None)
            continue
        try:
            claims[name] = json.loads(value)
        except ValueError:
            claims[name] = value
    print(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "demo-1"}))


if __name__ == "__main__":
    main(sys.argv[1:])
