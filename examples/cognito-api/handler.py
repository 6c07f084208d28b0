"""A minimal API with Cognito-scoped routes, behind sentinel-authorizer in cognito mode.

API Gateway runs the authorizer first; only requests with a Cognito access token of an
allowed app client, carrying every scope the route requires, reach this function. It
answers with the route and what the authorizer vouched for. Deployed with template.yaml
in this folder.
"""

import json


def handler(event, context):
    # HTTP API (payload 2.0) puts a Lambda authorizer's context here.
    authorizer = event.get("requestContext", {}).get("authorizer", {}).get("lambda", {})
    body = {
        "route": event.get("routeKey"),
        "sub": authorizer.get("sub"),
        "client_id": authorizer.get("client_id"),
        "scopes": authorizer.get("scopes", "").split(),
        "issuer": authorizer.get("issuer"),
    }
    if event.get("routeKey") == "POST /orders":
        body["message"] = "order accepted (an example: nothing is stored)"
    return {
        "statusCode": 201 if event.get("routeKey") == "POST /orders" else 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
