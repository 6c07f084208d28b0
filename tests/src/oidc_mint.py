"""Keys and tokens for the system tests' local OIDC issuer, with joserfc (an independent
JOSE implementation).

  python oidc_mint.py init DIR        generates ec-1, ec-2 (P-256), rsa-1 (RSA 2048) and
                                      prints {"kid": public JWK} for every key
  python oidc_mint.py mint DIR < SPEC mints every token of the JSON list SPEC:
      {"kid": "ec-1", "alg": "ES256", "claims": {...}, "header": {...}?,
       "hmac_with_public_key": bool?, "hmac_secret": "..."?, "none": bool?, "tamper": {...}?}
    and prints the JSON list of tokens.
"""
import base64
import json
import pathlib
import sys

from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def init(directory):
    keys = {
        "ec-1": ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"}),
        "ec-2": ECKey.generate_key("P-256", parameters={"kid": "ec-2", "use": "sig"}),
        "rsa-1": RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"}),
    }
    private = {kid: key.as_dict(private=True) for kid, key in keys.items()}
    (directory / "keys.json").write_text(json.dumps(private))
    print(json.dumps({kid: key.as_dict(private=False) for kid, key in keys.items()}))


def load(directory):
    out = {}
    for kid, data in json.loads((directory / "keys.json").read_text()).items():
        out[kid] = (RSAKey if data["kty"] == "RSA" else ECKey).import_key(data)
    return out


def mint(directory, specs):
    keys = load(directory)
    tokens = []
    for spec in specs:
        kid = spec.get("kid", "ec-1")
        header = {"alg": spec.get("alg", "ES256"), "kid": kid}
        header.update(spec.get("header", {}))
        claims = spec["claims"]
        if spec.get("none"):
            token = f"{b64({'alg': 'none', 'kid': kid})}.{b64(claims)}."
        elif spec.get("hmac_with_public_key"):
            secret = OctKey.import_key(json.dumps(keys[kid].as_dict(private=False)).encode())
            token = jwt.encode(dict(header, alg="HS256"), claims, secret, algorithms=["HS256"])
        elif "hmac_secret" in spec:
            secret = OctKey.import_key(spec["hmac_secret"].encode())
            token = jwt.encode(dict(header, alg="HS256"), claims, secret, algorithms=["HS256"])
        else:
            token = jwt.encode(header, claims, keys[kid], algorithms=[header["alg"]])
        if "tamper" in spec:
            head, _, signature = token.split(".")
            token = f"{head}.{b64(dict(claims, **spec['tamper']))}.{signature}"
        tokens.append(token)
    print(json.dumps(tokens))


if __name__ == "__main__":
    command, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    if command == "init":
        init(directory)
    else:
        mint(directory, json.load(sys.stdin))
