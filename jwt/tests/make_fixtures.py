"""Mints the fixed tokens of jwt/tests/verify.rs with joserfc, an independent JOSE
implementation: `../../.venv/bin/python make_fixtures.py > fixtures.json`.

Every token is issued at IAT (a fixed instant) so the tests can pass their own `now`."""
import json

from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

ISS = "https://issuer.example.test"
IAT = 1_796_000_000

ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"})
rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})
rotated = ECKey.generate_key("P-256", parameters={"kid": "ec-2", "use": "sig"})
stranger = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"})


def claims(**extra):
    base = {"iss": ISS, "sub": "spiffe://company.internal/ns/prod/sa/app", "aud": "sentinel",
            "iat": IAT, "exp": IAT + 300}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def mint(key, alg, payload, kid=None, **header):
    h = {"alg": alg, "kid": kid or key.kid}
    h.update(header)
    return jwt.encode(h, payload, key, algorithms=[alg])


def public(key):
    return key.as_dict(private=False)


tokens = {
    "es256": mint(ec, "ES256", claims()),
    "rs256": mint(rsa, "RS256", claims()),
    "ps256": mint(rsa, "PS256", claims()),
    "rotated": mint(rotated, "ES256", claims()),
    "wrong_iss": mint(ec, "ES256", claims(iss="https://other.example.test")),
    "wrong_aud": mint(ec, "ES256", claims(aud="someone-else")),
    "aud_list": mint(ec, "ES256", claims(aud=["x", "sentinel"])),
    "no_aud": mint(ec, "ES256", claims(aud=None)),
    "aud_number": mint(ec, "ES256", claims(aud=5)),
    "no_iat": mint(ec, "ES256", claims(iat=None)),
    "no_exp": mint(ec, "ES256", claims(exp=None)),
    "nbf_later": mint(ec, "ES256", claims(nbf=IAT + 120)),
    "long_lived": mint(ec, "ES256", claims(exp=IAT + 7200)),
    "other_domain": mint(ec, "ES256", claims(sub="spiffe://evil.internal/ns/prod/sa/app")),
    "not_spiffe": mint(ec, "ES256", claims(sub="app")),
    "unknown_kid": mint(ec, "ES256", claims(), kid="nobody"),
    "no_kid": jwt.encode({"alg": "ES256"}, claims(), ec, algorithms=["ES256"]),
    "stranger_key": mint(stranger, "ES256", claims()),
    "rsa_key_es_alg": mint(ec, "ES256", claims(), kid="rsa-1"),
    # The public key (its JWK JSON) used as an HMAC secret: the algorithm-confusion trick.
    "hs256_public_key": jwt.encode({"alg": "HS256", "kid": "ec-1"}, claims(),
                                   OctKey.import_key(json.dumps(public(ec)).encode()),
                                   algorithms=["HS256"]),
    "hs256_plain": jwt.encode({"alg": "HS256", "kid": "ec-1"}, claims(),
                              OctKey.import_key(b"shared-secret-0123456789abcdef01"),
                              algorithms=["HS256"]),
    "cognito_access": mint(rsa, "RS256", {"iss": ISS, "sub": "user-1", "client_id": "app-client",
                                          "token_use": "access", "scope": "mrt/read mrt/write",
                                          "iat": IAT, "exp": IAT + 300}),
    "cognito_id": mint(rsa, "RS256", {"iss": ISS, "sub": "user-1", "aud": "app-client",
                                      "token_use": "id", "iat": IAT, "exp": IAT + 300}),
    "cognito_other_client": mint(rsa, "RS256", {"iss": ISS, "sub": "user-1", "client_id": "other",
                                                "token_use": "access", "scope": "mrt/read",
                                                "iat": IAT, "exp": IAT + 300}),
}
# alg none: header and payload, no signature.
import base64

def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

tokens["none"] = f"{b64({'alg': 'none', 'kid': 'ec-1'})}.{b64(claims())}."
# A valid token whose payload is changed after signing.
head, _, sig = tokens["es256"].split(".")
tokens["tampered"] = f"{head}.{b64(claims(sub='spiffe://company.internal/ns/prod/sa/admin'))}.{sig}"

print(json.dumps({
    "iss": ISS,
    "iat": IAT,
    "jwks": {"keys": [public(ec), public(rsa)]},
    "jwks_rotated": {"keys": [public(rotated), public(rsa)]},
    "tokens": tokens,
}, indent=1))
