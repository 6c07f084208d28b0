"""Call a downstream API behind sentinel-authorizer in `proof` mode.

Run it with a Sentinel session's credentials in the environment, as `sentinel exec`
sets them:

    sentinel exec --profile dev -- \
        python examples/downstream/client.py https://API/whoami --audience orders-api

It sends `X-Sentinel-Session-ID` and `X-Sentinel-Proof`, exactly what `sentinel proof`
prints: the proof is an `sts:GetCallerIdentity` request signed with the session's own
keys (SigV4 in the Authorization header, for service `sts`), with the audience in a
signed `x-sentinel-audience` header, as the standard base64 of
`{"method", "url", "headers", "body"}`. The authorizer replays it to STS, so only a
holder of the session's secret key can make one. Needs botocore and nothing else.
"""

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BODY = "Action=GetCallerIdentity&Version=2011-06-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def sts_endpoint(region):
    """AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the region's STS endpoint; ends in /."""
    configured = (
        os.environ.get("AWS_ENDPOINT_URL_STS", "").strip()
        or os.environ.get("AWS_ENDPOINT_URL", "").strip()
    )
    if configured:
        return configured.rstrip("/") + "/"
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"https://sts.{region}.amazonaws.com{suffix}/"


def valid_audience(audience):
    """Non-empty printable ASCII without spaces or commas, as `sentinel proof` requires."""
    return bool(audience) and all("!" <= c <= "~" and c != "," for c in audience)


def proof(credentials, region, audience):
    """The X-Sentinel-Proof value for these credentials and audience."""
    url = sts_endpoint(region)
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname if parts.port in (None, default_port) else f"{parts.hostname}:{parts.port}"
    # Every header is set before signing, so SigV4 covers them all.
    request = AWSRequest(
        method="POST",
        url=url,
        data=BODY,
        headers={"host": host, "content-type": CONTENT_TYPE, "x-sentinel-audience": audience},
    )
    SigV4Auth(credentials, "sts", region).add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    document = {"method": "POST", "url": url, "headers": headers, "body": BODY}
    return base64.b64encode(json.dumps(document).encode()).decode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="the downstream API URL to call (GET)")
    parser.add_argument(
        "--print-headers",
        action="store_true",
        help="print the two headers as JSON instead of calling a URL (like `sentinel proof --json`)",
    )
    parser.add_argument(
        "--audience",
        default=os.environ.get("SENTINEL_AUDIENCE"),
        help="the API's audience, its authorizer's SENTINEL_AUDIENCE (default: env SENTINEL_AUDIENCE)",
    )
    args = parser.parse_args()

    missing = [
        name
        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "SENTINEL_SESSION_ID",
        )
        if not os.environ.get(name)
    ]
    if missing:
        sys.exit(
            f"client.py: error: {', '.join(missing)} not set\n"
            "hint: run it under `sentinel exec --profile P -- ...`"
        )
    if not valid_audience(args.audience or ""):
        sys.exit(
            "client.py: error: pass --audience (or set SENTINEL_AUDIENCE): one word of "
            "printable ascii, no spaces or commas"
        )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        sys.exit("client.py: error: set AWS_REGION to the region the proof is signed for")

    credentials = Credentials(
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ["AWS_SESSION_TOKEN"],
    )
    headers = {
        "X-Sentinel-Session-ID": os.environ["SENTINEL_SESSION_ID"],
        "X-Sentinel-Proof": proof(credentials, region, args.audience),
    }
    if args.print_headers:
        print(json.dumps(headers))
        return 0
    if not args.url:
        sys.exit("client.py: error: name the URL to call (or pass --print-headers)")
    request = urllib.request.Request(args.url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    print(status)
    print(body.decode("utf-8", errors="replace"))
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
