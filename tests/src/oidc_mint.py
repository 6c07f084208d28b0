"""Keys and tokens for the system tests' local OIDC issuer, with joserfc (an independent
JOSE implementation).

  python oidc_mint.py init DIR        generates ec-1, ec-2 (P-256), rsa-1 (RSA 2048, for
                                      RS256 and PS256) and stranger (P-256 with kid ec-1:
                                      a forger's) and prints {name: public JWK}
  python oidc_mint.py mint DIR < SPECS mints one token per spec; SPECS is a JSON list
                                      (prints the list of tokens) or object (prints
                                      {name: token}). A spec:
      {"key": "ec-1"?, "kid": "..."?, "alg": "ES256"?, "claims": {...}, "header": {...}?,
       "none": bool?, "hmac_with_public_key": true | "jwk" | "pem"?, "hmac_secret": "..."?,
       "tamper": {...}?}
    `key` signs (default: `kid`, else ec-1); `kid` is the header's (default: the key's).
    Alg `none` (or "none": true) has no signature. HS256 is computed by hand with the
    key's public JWK (JSON text) or PEM as the secret (the algorithm-confusion trick), or
    with `hmac_secret`. `tamper` replaces claims after signing.
"""
import base64
import hashlib
import hmac
import json
import pathlib
import sys

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def part(obj):
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def init(directory):
    keys = {
        "ec-1": ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"}),
        "ec-2": ECKey.generate_key("P-256", parameters={"kid": "ec-2", "use": "sig"}),
        "rsa-1": RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"}),
        "stranger": ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"}),
    }
    private = {name: key.as_dict(private=True) for name, key in keys.items()}
    (directory / "keys.json").write_text(json.dumps(private))
    print(json.dumps({name: key.as_dict(private=False) for name, key in keys.items()}))


def load(directory):
    out = {}
    for name, data in json.loads((directory / "keys.json").read_text()).items():
        out[name] = (RSAKey if data["kty"] == "RSA" else ECKey).import_key(data)
    return out


def hs256(header, claims, secret):
    signing_input = f"{part(dict(header, alg='HS256'))}.{part(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def mint_one(keys, spec):
    name = spec.get("key") or spec.get("kid") or "ec-1"
    key = keys[name]
    header = {"typ": "JWT", "alg": spec.get("alg", "ES256"), "kid": spec.get("kid") or key.kid}
    header.update(spec.get("header", {}))
    claims = spec["claims"]
    confusion = spec.get("hmac_with_public_key")
    if spec.get("none") or header["alg"] == "none":
        token = f"{part(dict(header, alg='none'))}.{part(claims)}."
    elif confusion == "pem":
        token = hs256(header, claims, key.as_pem(private=False))
    elif confusion:
        token = hs256(header, claims, json.dumps(key.as_dict(private=False)).encode())
    elif "hmac_secret" in spec:
        token = hs256(header, claims, spec["hmac_secret"].encode())
    else:
        token = jwt.encode(header, claims, key, algorithms=[header["alg"]])
    if "tamper" in spec:
        head, _, signature = token.split(".")
        token = f"{head}.{part(dict(claims, **spec['tamper']))}.{signature}"
    return token


def mint(directory, specs):
    keys = load(directory)
    if isinstance(specs, dict):
        print(json.dumps({name: mint_one(keys, spec) for name, spec in specs.items()}))
    else:
        print(json.dumps([mint_one(keys, spec) for spec in specs]))


if __name__ == "__main__":
    command, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    if command == "init":
        init(directory)
    else:
        mint(directory, json.load(sys.stdin))
