"""A minimal downstream API protected by sentinel-authorizer.

API Gateway runs the authorizer first; only requests naming an active Sentinel
session reach this function. It answers with what the authorizer vouched for:
who called and with which session. Deployed with template.yaml in this folder.
"""

import json


def handler(event, context):
    # HTTP API (payload 2.0) puts a Lambda authorizer's context here.
    authorizer = event.get("requestContext", {}).get("authorizer", {}).get("lambda", {})
    body = {
        "message": "hello from the protected API",
        "user": authorizer.get("user"),
        "profile": authorizer.get("profile"),
        "session_id": authorizer.get("session_id"),
        "principal_arn": authorizer.get("principal_arn"),
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
