"""Our one-pass JWS parse against PyJWT's own two steps, side by side in one run.

Issue 13 asked to replace ``jws.py`` with PyJWT's ``get_unverified_header`` + ``decode`` if
the CPU goal allows. This measures both on a request token shaped like Keycloak's, and
checks the property the isolation work depends on: a repeated claim is refused by ours,
while PyJWT keeps the last copy. Run: ``.venv/bin/python -m bench.jws_parse``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from keycloak_duo_bridge import jws

ROUNDS = 20_000
ISSUER = "http://127.0.0.1:8080/realms/globex"


def _token(key: rsa.RSAPrivateKey) -> str:
    claims = {
        "iss": ISSUER,
        "aud": "kdb-bridge",
        "sub": "8f0a" * 9,
        "exp": int(time.time()) + 3600,
        "nonce": "n" * 43,
        "return_url": f"{ISSUER}/login-actions/required-action?session_code={'x' * 43}"
        f"&execution=duo-step-up&client_id=demo-app&tab_id={'t' * 11}",
        "username": "alice",
        "client_id": "demo-app",
        "fp": "f" * 43,
        "email": "alice@example.com",
        "email_verified": True,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def _microseconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(ROUNDS):
        run()
    return (time.perf_counter() - started) / ROUNDS * 1e6


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main() -> None:
    """Print both parse times (twice, interleaved), the duplicate-claim check, then JSON."""
    token = _token(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def ours() -> object:
        return jws.parse(token)

    def pyjwt_two_step() -> object:
        jwt.get_unverified_header(token)
        return jwt.decode(token, options={"verify_signature": False}, algorithms=["RS256"])

    times: dict[str, list[float]] = {"ours": [], "pyjwt": []}
    for _ in range(2):
        times["ours"].append(_microseconds(ours))
        times["pyjwt"].append(_microseconds(pyjwt_two_step))
    for name, values in times.items():
        print(f"{name:6} parse: {min(values):7.1f} µs per token (best of {len(values)})")
    header, payload = _b64(b'{"alg":"none"}'), _b64(b'{"sub":"a","sub":"b"}')
    repeated = f"{header}.{payload}."
    try:
        jws.parse(repeated)
        ours_refuses = False
    except jws.JwsError:
        ours_refuses = True
    kept = jwt.decode(repeated, options={"verify_signature": False}, algorithms=["none"])["sub"]
    print(f"repeated claim: ours refuses it: {ours_refuses}; PyJWT keeps {kept!r}")
    print(
        json.dumps(
            {
                "jws_parse_us_ours": round(min(times["ours"]), 1),
                "jws_parse_us_pyjwt": round(min(times["pyjwt"]), 1),
                "pyjwt_vs_ours_ratio": round(min(times["pyjwt"]) / min(times["ours"]), 2),
                "ours_refuses_repeated_claims": ours_refuses,
                "pyjwt_refuses_repeated_claims": kept != "b",
            }
        )
    )


if __name__ == "__main__":
    main()
