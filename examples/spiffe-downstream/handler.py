"""A minimal downstream API for SPIFFE workloads, behind sentinel-authorizer in jwt mode.

API Gateway runs the authorizer first; only requests with a valid JWT-SVID (issuer,
audience, signature, lifetime, SPIFFE ID in the trust domain) reach this function. It
answers with what the authorizer vouched for. Deployed with template.yaml in this folder.
"""

import json


def handler(event, context):
    # HTTP API (payload 2.0) puts a Lambda authorizer's context here.
    authorizer = event.get("requestContext", {}).get("authorizer", {}).get("lambda", {})
    body = {
        "message": "hello from the SPIFFE-protected API",
        "sub": authorizer.get("sub"),
        "spiffe_id": authorizer.get("spiffe_id"),
        "issuer": authorizer.get("issuer"),
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
