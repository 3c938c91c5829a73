#!/usr/bin/env bash
# The CLI on an embedded default: builds it, mints a demo HS256 access token with an embedded
# demo secret (Python's standard library only), and shows tokengate accepting it and rejecting
# tampered, expired, wrong-audience and revoked variants, then a JSON Lines batch.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p tokengate-cli
bin=target/release/tokengate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A demo secret, not a real one: 32 bytes, base64url.
secret_b64="ZGVtby1zZWNyZXQtZm9yLXRva2VuZ2F0ZS1kZW1vLTMy"
cat >"$work/jwks.json" <<JSON
{"keys":[{"kty":"oct","kid":"demo-hs256","alg":"HS256","k":"$secret_b64"}]}
JSON

mint() { # mint EXP_OFFSET AUD JTI
  python3 - "$secret_b64" "$1" "$2" "$3" <<'PY'
import base64, hashlib, hmac, json, sys, time
secret_b64, exp_offset, aud, jti = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
secret = base64.urlsafe_b64decode(secret_b64 + "=" * (-len(secret_b64) % 4))
now = int(time.time())
header = {"alg": "HS256", "typ": "at+jwt", "kid": "demo-hs256"}
claims = {"iss": "https://idp.demo.local", "sub": "alice", "aud": aud, "iat": now - 5,
          "exp": now + exp_offset, "jti": jti, "scope": "orders:read orders:write"}
signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
print(signing_input + "." + b64(sig))
PY
}

good=$(mint 300 orders-api jti-1)
expired=$(mint -3600 orders-api jti-2)
other_aud=$(mint 300 billing-api jti-3)
tampered="${good%?}$( [ "${good: -1}" = A ] && echo B || echo A )"
echo '{"jti":["jti-4"]}' >"$work/denylist.json"
revoked=$(mint 300 orders-api jti-4)

run() { # run LABEL TOKEN [extra args]
  local label=$1 token=$2; shift 2
  printf '\n== %s\n$ tokengate verify --jwks jwks.json --alg HS256 --iss https://idp.demo.local --aud orders-api --typ at+jwt %s -\n' "$label" "$*"
  set +e
  printf '%s' "$token" | "$bin" verify --jwks "$work/jwks.json" --alg HS256 \
    --iss https://idp.demo.local --aud orders-api --typ at+jwt "$@" -
  echo "(exit $?)"
  set -e
}

run "a valid token: accepted" "$good"
run "the same token with one signature character changed: rejected" "$tampered"
run "an expired token: rejected" "$expired"
run "a token for another audience: rejected" "$other_aud"
run "a revoked token (denylist by jti): rejected" "$revoked" --denylist "$work/denylist.json"

printf '\n== a JSON Lines batch (tokengate verify --batch)\n'
jwks=$(cat "$work/jwks.json")
policy='{"algorithms":["HS256"],"issuers":["https://idp.demo.local"],"audiences":["orders-api"]}'
printf '{"id":"good","token":"%s","jwks":%s,"policy":%s}\n{"id":"expired","token":"%s","jwks":%s,"policy":%s}\n{"id":"garbage","token":"not.a.token","jwks":%s,"policy":%s}\n' \
  "$good" "$jwks" "$policy" "$expired" "$jwks" "$policy" "$jwks" "$policy" \
  | "$bin" verify --batch | cut -c1-160

printf '\n== inspect (decodes without verifying; labelled UNVERIFIED)\n'
printf '%s' "$good" | "$bin" inspect -
