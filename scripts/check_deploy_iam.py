#!/usr/bin/env python3
"""Asserts the IAM facts of deploy/ on the templates as CloudFormation would deploy them.

usage: check_deploy_iam.py [--self-test] RENDERED_DIR

RENDERED_DIR holds the output of scripts/transform_templates.py (SAM transform applied) for
a commercial region, and RENDERED_DIR/aws-cn the same templates rendered for a China
region (used to prove that no ARN has a hard-coded partition). Every check prints one line;
any failure exits 1. --self-test first mutates a copy of the templates once per check (once
per way it can fail, for checks with several parts), in the way the check exists to catch,
and fails unless that check then fails: a check that cannot fail proves nothing. Offline;
needs only the standard library.
"""

import copy
import json
import re
import sys
from pathlib import Path

TVM = "deploy--template.json"
ROLE = "deploy--protected-role.json"
GUARD = "deploy--org-guardrails.json"
PROXY = "deploy--proxy.json"
SCP_MAX_CHARS = 5120  # AWS Organizations' limit for one SCP or RCP document

# ------------------------------------------------------------------ helpers


def as_list(value):
    return value if isinstance(value, list) else [value]


def statements(document):
    return as_list(document.get("Statement", []))


def walk(node):
    """Every dict below node (CloudFormation Fn::If branches included)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def statements_in(node):
    return [d for d in walk(node) if "Effect" in d and ("Action" in d or "NotAction" in d)]


def resources(template, type_name):
    return {k: r for k, r in template["Resources"].items() if r.get("Type") == type_name}


def role_policy_statements(role):
    out = []
    for policy in as_list(role["Properties"].get("Policies", [])):
        out.extend(statements_in(policy))
    return out


def actions(statement):
    return [a for a in as_list(statement.get("Action", [])) if isinstance(a, str)]


def org_policies(template, policy_type):
    return [r["Properties"]["Content"] for r in resources(template, "AWS::Organizations::Policy").values()
            if r["Properties"]["Type"] == policy_type]


def java_like(pattern):
    """CloudFormation's AllowedPattern is a Java regex matched against the whole value."""
    return re.compile(pattern)


# ------------------------------------------------------------------ checks
# Each takes {file name: template} and returns a list of problems (empty = holds).


def check_max_duration(t):
    problems = []
    param = t[TVM]["Parameters"]["MaxDurationSeconds"]
    if not param.get("MaxValue", 10**9) <= 3600:
        problems.append(f"MaxDurationSeconds MaxValue is {param.get('MaxValue')}, STS refuses role chaining above 3600")
    if not param.get("Default", 0) <= 3600:
        problems.append("MaxDurationSeconds Default is above 3600")
    env = t[TVM]["Resources"]["TvmFunction"]["Properties"]["Environment"]["Variables"]
    if env.get("SENTINEL_MAX_DURATION") != {"Ref": "MaxDurationSeconds"}:
        problems.append("SENTINEL_MAX_DURATION is not the MaxDurationSeconds parameter")
    return problems


def check_break_glass_condition(t):
    problems = []
    trust = t[ROLE]["Resources"]["ProtectedRole"]["Properties"]["AssumeRolePolicyDocument"]
    found = False
    for st in statements_in(trust):
        principal = st.get("Principal", {}).get("AWS")
        conditions = st.get("Condition", {})
        if principal == {"Ref": "TvmExecutionRoleArn"}:
            if conditions.get("StringLike", {}).get("sts:SourceIdentity") != "sentinel=*":
                problems.append("the TVM's trust statement does not require a sentinel=* source identity")
        elif principal == {"Ref": "BreakGlassRoleArn"}:
            found = True
            if st.get("Effect") != "Allow" or "sentinel=*" not in as_list(
                    conditions.get("StringNotLike", {}).get("sts:SourceIdentity", [])):
                problems.append("the break-glass statement lacks StringNotLike sts:SourceIdentity sentinel=*")
        else:
            problems.append(f"protected role trusts an unexpected principal {principal!r}")
    if not found:
        problems.append("no break-glass statement found in the protected role's trust policy")
    return problems


def check_break_glass_alarm(t):
    problems = []
    role = t[ROLE]
    filters = resources(role, "AWS::Logs::MetricFilter")
    alarms = resources(role, "AWS::CloudWatch::Alarm")
    metric = None
    for f in filters.values():
        pattern = json.dumps(f["Properties"]["FilterPattern"])
        if "AssumeRole" in pattern and "BreakGlassRoleArn" in pattern and "ProtectedRole.Arn" in pattern:
            metric = f["Properties"]["MetricTransformations"][0]
    if metric is None:
        problems.append("no metric filter counts the break-glass principal's AssumeRole of the protected role")
    elif not any(a["Properties"].get("MetricName") == metric["MetricName"]
                 and a["Properties"].get("Namespace") == metric["MetricNamespace"] for a in alarms.values()):
        problems.append("no alarm on the break-glass metric")
    rule = role.get("Rules", {}).get("BreakGlassNeedsAlarm")
    if not rule or "CloudTrailLogGroupName" not in json.dumps(rule):
        problems.append("a break-glass principal can be configured without the alarm's log group (Rules)")
    return problems


def check_invoke_guard(t):
    for scp in org_policies(t[GUARD], "SERVICE_CONTROL_POLICY"):
        for st in statements(scp):
            if (st.get("Effect") == "Deny" and "lambda:InvokeFunction" in actions(st)
                    and {"Ref": "TvmFunctionArn"} in as_list(st.get("Resource"))
                    and {"Fn::Sub": "${TvmFunctionArn}:*"} in as_list(st.get("Resource"))
                    and st.get("Condition") == {"BoolIfExists": {"lambda:InvokedViaFunctionUrl": "false"}}):
                return []
    return ["no SCP denies lambda:InvokeFunction on the TVM (and its qualifiers) to everyone unless "
            "lambda:InvokedViaFunctionUrl is true"]


def check_change_guard(t):
    problems = []
    deployers = {"ArnNotLike": {"aws:PrincipalArn": {"Ref": "DeployerArns"}}}
    scps = [st for scp in org_policies(t[GUARD], "SERVICE_CONTROL_POLICY") for st in statements(scp)]

    def guarded(resource, must_not_exempt):
        for st in scps:
            if (st.get("Effect") == "Deny" and "NotAction" in st and resource in as_list(st.get("Resource"))
                    and st.get("Condition") == deployers
                    and not (set(as_list(st["NotAction"])) & must_not_exempt)):
                return True
        return False

    if not guarded({"Ref": "TvmFunctionArn"}, {"lambda:*", "lambda:UpdateFunctionCode", "lambda:Update*",
                                               "lambda:UpdateFunctionConfiguration", "lambda:AddPermission"}):
        problems.append("no SCP keeps the TVM function's code and configuration to the deployers")
    if not guarded({"Ref": "TvmExecutionRoleArn"}, {"iam:*", "iam:PassRole", "iam:Pass*",
                                                    "iam:UpdateAssumeRolePolicy", "iam:Update*"}):
        problems.append("no SCP keeps iam:PassRole and changes of the execution role to the deployers")
    return problems


def check_rcp(t):
    problems = []
    rcps = [st for rcp in org_policies(t[GUARD], "RESOURCE_CONTROL_POLICY") for st in statements(rcp)]
    protected = {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${ProtectedRolePrefix}*"}
    ok = False
    for st in rcps:
        if (st.get("Effect") == "Deny" and st.get("Principal") == "*" and "sts:AssumeRole" in actions(st)
                and "sts:AssumeRoleWithWebIdentity" in actions(st) and "sts:AssumeRoleWithSAML" in actions(st)
                and protected in as_list(st.get("Resource"))):
            allowed = json.dumps(st.get("Condition", {}).get("ArnNotLike", {}).get("aws:PrincipalArn"))
            ok = '"TvmExecutionRoleArn"' in allowed and "DeployerArns" not in allowed and len(st["Condition"]) == 1
    if not ok:
        problems.append("no RCP denies every STS assume action on protected roles to all but the TVM (and break-glass)")
    revoker = {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/SentinelRevoker"}
    if not any(st.get("Effect") == "Deny" and "sts:AssumeRole" in actions(st) and revoker in as_list(st.get("Resource"))
               and st.get("Condition") == {"ArnNotLike": {"aws:PrincipalArn": {"Ref": "TvmExecutionRoleArn"}}}
               for st in rcps):
        problems.append("no RCP keeps SentinelRevoker to the TVM's execution role")
    return problems


def check_revoker_trust(t):
    problems = []
    role = t[ROLE]["Resources"].get("RevokerRole")
    if role is None:
        return ["protected-role.yaml has no RevokerRole"]
    props = role["Properties"]
    if props.get("RoleName") != "SentinelRevoker":
        problems.append(f"the revoker is named {props.get('RoleName')!r}, the TVM assumes SentinelRevoker")
    trust = statements(props["AssumeRolePolicyDocument"])
    if len(trust) != 1 or trust[0].get("Effect") != "Allow" or trust[0].get("Condition") or \
            trust[0].get("Principal") != {"AWS": {"Ref": "TvmExecutionRoleArn"}} or \
            as_list(trust[0].get("Action")) != ["sts:AssumeRole"]:
        problems.append("SentinelRevoker must trust exactly the TVM's execution role, for sts:AssumeRole only")
    granted = set()
    for st in role_policy_statements(role):
        if st.get("Effect") != "Allow":
            continue
        granted.update(actions(st))
        resource = as_list(st.get("Resource"))
        if resource != [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ProtectedRolePrefix}*"}]:
            problems.append(f"SentinelRevoker may act on {resource!r}, not only this account's protected roles")
    if granted != {"iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"}:
        problems.append(f"SentinelRevoker is allowed {sorted(granted)}, not exactly Get/Put/DeleteRolePolicy")
    return problems


def check_tvm_revoke_grants(t):
    problems = []
    sts = role_policy_statements(t[TVM]["Resources"]["TvmExecutionRole"])
    revoker = {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/SentinelRevoker"}
    if not any("sts:AssumeRole" in actions(s) and as_list(s.get("Resource")) == [revoker] for s in sts):
        problems.append("the execution role may not assume SentinelRevoker (partition-aware ARN)")
    own = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ProtectedRolePrefix}*"}
    iam = [(a, s) for s in sts for a in actions(s) if a.startswith("iam:")]
    if {a for a, _ in iam} != {"iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"}:
        problems.append(f"the execution role's IAM actions are {sorted({a for a, _ in iam})}")
    if any(as_list(s.get("Resource")) != [own] for _, s in iam):
        problems.append("the execution role's IAM actions reach beyond its own account's protected roles")
    return problems


def check_policy_root_pattern(t):
    problems = []
    for name in (TVM, GUARD):
        param = t[name]["Parameters"]["PolicyRoot"]
        pattern = java_like(param["AllowedPattern"])
        for bad in ["/aws", "/aws/x", "/AWS/x", "/Aws-policies", "/ssm", "/SSM/p", "/sSm", "/awsome",
                    "/sentinel/", "sentinel", "/", "/a//b"]:
            if pattern.fullmatch(bad):
                problems.append(f"{name}: PolicyRoot pattern accepts {bad!r}")
        for good in ["/sentinel/policies", "/team/aws", "/x", "/a.b/c_d-e"]:
            if not pattern.fullmatch(good):
                problems.append(f"{name}: PolicyRoot pattern refuses {good!r}")
        if not pattern.fullmatch(param.get("Default", "")):
            problems.append(f"{name}: PolicyRoot default does not match its own pattern")
    return problems


def check_retention(t):
    param = t[TVM]["Parameters"]["SessionRetentionDays"]
    return [] if param.get("MinValue", 0) >= 1 else ["SessionRetentionDays may be 0 (rows deleted as they expire)"]


def check_rules(t):
    problems = []
    rules = t[TVM].get("Rules", {}).values()

    def refused(when, needs):
        return any(when in json.dumps(r.get("RuleCondition")) and needs in json.dumps(r.get("Assertions"))
                   for r in rules)

    if not refused("DomainName", "CertificateArn"):
        problems.append("a DomainName without CertificateArn is not refused (Rules)")
    if not refused("EnableFunctionUrl", "AllowedOrgIds"):
        problems.append("AllowedOrgIds with the Function URL is not refused (Rules)")
    return problems


def check_stack_dimension(t):
    problems = []
    tvm = t[TVM]["Resources"]
    for fn in ("TvmFunction", "AuthorizerFunction"):
        env = tvm[fn]["Properties"]["Environment"]["Variables"]
        if env.get("SENTINEL_STACK_NAME") != {"Ref": "AWS::StackName"}:
            problems.append(f"{fn} does not get SENTINEL_STACK_NAME = the stack name")
    stack_dim = {"Name": "Stack", "Value": {"Ref": "AWS::StackName"}}
    seen = set()
    for name, alarm in resources(t[TVM], "AWS::CloudWatch::Alarm").items():
        props = alarm["Properties"]
        if "Sentinel" in json.dumps(props.get("Metrics", "")):
            problems.append(f"{name} reads the Sentinel namespace through a metrics query without the stack")
        if props.get("Namespace") == "Sentinel":
            seen.add(props.get("MetricName"))
            if stack_dim not in as_list(props.get("Dimensions", [])):
                problems.append(f"{name} alarms on Sentinel metrics of every stack (no Stack dimension)")
    for metric in ("Errors", "AuthorizerErrors"):
        if metric not in seen:
            problems.append(f"no alarm on the Sentinel {metric} metric")
    return problems


def check_partition(t):
    problems = []
    for name, template in t.get("aws-cn", {}).items():
        hits = sorted(set(re.findall(r"arn:aws:[a-z0-9-]*", json.dumps(template))))
        if hits:
            problems.append(f"{name} rendered for aws-cn still holds {', '.join(hits)}")
    if not t.get("aws-cn"):
        problems.append("no aws-cn rendering to check")
    return problems


# --- workload identity: POST /exchange (SPEC §10), the TVM's one route without AWS_IAM

EXCHANGE_ROUTE = "POST /exchange"
# JwtIssuers as an operator may set it: off, an SSM parameter, the JSON list itself.
JWT_ISSUERS_CASES = {
    "off": "",
    "in SSM": "/sentinel/jwt-issuers",
    "inline": '[{"issuer": "https://token.actions.githubusercontent.com", "audiences": ["sentinel"]}]',
}
JWT_ISSUERS_ARN = {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwtIssuers}"}


def decide(node, conditions):
    """node as deployed under these conditions: every Fn::If decided, AWS::NoValue dropped
    (NO_VALUE when node itself is dropped); every other intrinsic left as it is."""
    if isinstance(node, list):
        return [v for v in (decide(x, conditions) for x in node) if v is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if node == {"Ref": "AWS::NoValue"}:
        return NO_VALUE
    if set(node) == {"Fn::If"}:
        name, if_true, if_false = node["Fn::If"]
        return decide(if_true if conditions[name] else if_false, conditions)
    return {k: v for k, v in ((k, decide(v, conditions)) for k, v in node.items()) if v is not NO_VALUE}


def tvm_conditions(t, jwt_issuers="", **overrides):
    """The TVM template's conditions with every parameter at its default but JwtIssuers (and overrides)."""
    template = t[TVM]
    params = {name: p.get("Default", "") for name, p in template["Parameters"].items()}
    params["JwtIssuers"] = jwt_issuers
    params.update(overrides)
    return evaluate_conditions(template, params)


def tvm_routes(t, jwt_issuers):
    """{route key: its auth} of the TVM's APIs as deployed with this JwtIssuers: "AWS_IAM" for a
    route that requires SigV4, else what it has instead. Routes come from the OpenAPI bodies
    (what SAM renders the events into) and from any AWS::ApiGatewayV2::Route resource."""
    conditions = tvm_conditions(t, jwt_issuers)
    routes = {}
    for name, api in resources(t[TVM], "AWS::ApiGatewayV2::Api").items():
        if not conditions.get(api.get("Condition"), True):
            continue
        body = decide(api["Properties"].get("Body", {}), conditions)
        schemes = body.get("components", {}).get("securitySchemes", {})
        sigv4 = [s for s, scheme in schemes.items() if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4"]
        for path, item in body.get("paths", {}).items():
            for method, operation in item.items():
                if method == "parameters":
                    continue
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                # An operation without security falls back to the document's, then to none.
                security = operation.get("security", body.get("security", []))
                iam = len(security) == 1 and [list(req) for req in security] in [[[s]] for s in sigv4]
                routes[f"{verb} {path}"] = "AWS_IAM" if iam else json.dumps(security)
    for name, route in resources(t[TVM], "AWS::ApiGatewayV2::Route").items():
        if conditions.get(route.get("Condition"), True):
            props = route["Properties"]
            auth = props.get("AuthorizationType", "NONE")
            routes[json.dumps(props.get("RouteKey")).strip('"')] = "AWS_IAM" if auth == "AWS_IAM" else auth
    return routes


def check_exchange_route(t):
    problems = []
    for case, value in JWT_ISSUERS_CASES.items():
        routes = tvm_routes(t, value)
        unsigned = sorted(key for key, auth in routes.items() if auth != "AWS_IAM")
        expected = [] if case == "off" else [EXCHANGE_ROUTE]
        if unsigned != expected:
            problems.append(f"JwtIssuers {case}: the routes without AWS_IAM are {unsigned or 'none'}, "
                            f"expected {expected or 'none'} (every other route keeps AWS_IAM)")
        if len(routes) - len(unsigned) < 8:
            problems.append(f"JwtIssuers {case}: only {len(routes) - len(unsigned)} routes with AWS_IAM "
                            "(/, /profiles and the admin routes)")
    return problems


def check_tvm_url_auth(t):
    urls = {k: r for k, r in resources(t[TVM], "AWS::Lambda::Url").items()
            if '"TvmFunction"' in json.dumps(r["Properties"].get("TargetFunctionArn"))}
    if not urls:
        return ["the TVM has no Function URL to check (EnableFunctionUrl)"]
    return [f"{k} has AuthType {r['Properties'].get('AuthType')!r}, not AWS_IAM"
            for k, r in urls.items() if r["Properties"].get("AuthType") != "AWS_IAM"]


def check_exchange_throttle(t):
    problems = []
    params = t[TVM]["Parameters"]
    stages = resources(t[TVM], "AWS::ApiGatewayV2::Stage")
    for case, value in JWT_ISSUERS_CASES.items():
        conditions = tvm_conditions(t, value)
        settings = [decide(s["Properties"].get("RouteSettings", {}), conditions) for s in stages.values()]
        exchange = [r[EXCHANGE_ROUTE] for r in settings if isinstance(r, dict) and EXCHANGE_ROUTE in r]
        if case == "off":
            if exchange:
                problems.append("JwtIssuers off: the stage still has route settings for POST /exchange, "
                                "a route that does not exist then (the deploy fails)")
        elif exchange != [{"ThrottlingRateLimit": {"Ref": "ExchangeThrottlingRateLimit"},
                           "ThrottlingBurstLimit": {"Ref": "ExchangeThrottlingBurstLimit"}}]:
            problems.append(f"JwtIssuers {case}: POST /exchange is not throttled by ExchangeThrottlingRateLimit "
                            f"and ExchangeThrottlingBurstLimit ({exchange!r})")
    for exchange, default in (("ExchangeThrottlingRateLimit", "ApiThrottlingRateLimit"),
                              ("ExchangeThrottlingBurstLimit", "ApiThrottlingBurstLimit")):
        if exchange not in params or not params[exchange].get("Default", 10**9) <= params[default]["Default"]:
            problems.append(f"{exchange} does not default to at most {default}'s default "
                            "(the unauthenticated route is throttled harder than the signed ones)")
    return problems


def check_jwt_issuers_grants(t):
    problems = []
    role = t[TVM]["Resources"]["TvmExecutionRole"]
    env = t[TVM]["Resources"]["TvmFunction"]["Properties"]["Environment"]["Variables"]
    for case, value in JWT_ISSUERS_CASES.items():
        conditions = tvm_conditions(t, value)
        if case != "off" and decide(env, conditions).get("SENTINEL_JWT_ISSUERS") != {"Ref": "JwtIssuers"}:
            problems.append(f"JwtIssuers {case}: SENTINEL_JWT_ISSUERS is not the JwtIssuers parameter")
        sts = [st for policy in decide(role["Properties"].get("Policies", []), conditions)
               for st in statements_in(policy) if "JwtIssuers" in json.dumps(st)]
        if case != "in SSM":
            if sts:
                problems.append(f"JwtIssuers {case}: the execution role still has {[s.get('Sid') for s in sts]} "
                                "for an issuer parameter that is not one")
            continue
        reads = [st for st in sts if any(a.lower().startswith("ssm:") for a in actions(st))]
        decrypts = [st for st in sts if any(a.lower().startswith("kms:") for a in actions(st))]
        if [actions(st) for st in reads] != [["ssm:GetParameters"]] or \
                [as_list(st.get("Resource")) for st in reads] != [[JWT_ISSUERS_ARN]]:
            problems.append("JwtIssuers in SSM: the role may not ssm:GetParameters on exactly that parameter and "
                            f"nothing more ({reads!r})")
        want = {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"},
                "kms:EncryptionContext:PARAMETER_ARN": JWT_ISSUERS_ARN}
        if [actions(st) for st in decrypts] != [["kms:Decrypt"]] or \
                [st.get("Condition") for st in decrypts] != [{"StringEquals": want}]:
            problems.append("JwtIssuers in SSM: kms:Decrypt is not confined to SSM decrypting exactly that parameter "
                            f"({decrypts!r})")
        if len(sts) != len(reads) + len(decrypts) or any(st.get("Effect") != "Allow" or "NotAction" in st
                                                        for st in sts):
            problems.append("JwtIssuers in SSM: the role has other grants on the issuer parameter")
    return problems


def check_jwt_issuers_forms(t):
    problems = []
    pattern = java_like(t[TVM]["Parameters"]["JwtIssuers"]["AllowedPattern"])
    for bad in ["/aws/x", "/AWS/x", "/ssm", "/sSm/p", " /sentinel/jwt-issuers", "sentinel/jwt-issuers", "/",
                "/a//b", '{"issuer": "https://a"}', ' [{"issuer": "https://a"}]']:
        if pattern.fullmatch(bad):
            problems.append(f"the JwtIssuers pattern accepts {bad!r}")
    for good in ["", "/sentinel/jwt-issuers", "/team/aws", '[{"issuer": "https://a/b", "audiences": ["x"]}]',
                 '[\n  {"issuer": "https://a"}\n]']:
        if not pattern.fullmatch(good):
            problems.append(f"the JwtIssuers pattern refuses {good!r}")
        conditions = tvm_conditions(t, good)
        expected = (good != "", good.startswith("/"))
        found = (conditions.get("HasJwtIssuers"), conditions.get("JwtIssuersInSsm"))
        if found != expected:
            problems.append(f"JwtIssuers {good!r}: (HasJwtIssuers, JwtIssuersInSsm) is {found}, expected {expected}")
    return problems


# --- approvals and break-glass (SPEC §9): two tables, their routes, notifications, the alarm

# The tables as approvals/src/dynamodb.rs lays them out (create_tables): key, and each
# index's partition key (every index is sorted on created_at and projects everything).
GATE_TABLES = {
    "ApprovalTable": ("request_id", {"by-requester": "requester"}),
    "BreakGlassTable": ("breakglass_id", {"by-status": "status", "by-kind": "kind"}),
}
# Exactly the calls the stores make, on exactly what they make them on:
# approvals: GetItem (consistent), PutItem (create; replace conditioned on the version),
# Scan (consistent; listings without a requester), Query on by-requester;
# break-glass: GetItem (consistent), PutItem (the two Puts of TransactWriteItems, which has
# no IAM action of its own; the cursor key), UpdateItem (attach the session, review),
# DeleteItem (a cooldown whose vend failed, conditioned on its event), Query on both indexes.
GATE_GRANTS = {
    ("${ApprovalTable.Arn}", "dynamodb:GetItem"),
    ("${ApprovalTable.Arn}", "dynamodb:PutItem"),
    ("${ApprovalTable.Arn}", "dynamodb:Scan"),
    ("${ApprovalTable.Arn}/index/by-requester", "dynamodb:Query"),
    ("${BreakGlassTable.Arn}", "dynamodb:GetItem"),
    ("${BreakGlassTable.Arn}", "dynamodb:PutItem"),
    ("${BreakGlassTable.Arn}", "dynamodb:UpdateItem"),
    ("${BreakGlassTable.Arn}", "dynamodb:DeleteItem"),
    ("${BreakGlassTable.Arn}/index/by-status", "dynamodb:Query"),
    ("${BreakGlassTable.Arn}/index/by-kind", "dynamodb:Query"),
}
# The stores' source, read to prove GATE_GRANTS covers every call it makes (a grant the
# template lacks fails in AWS only, where moto without auth would have let it pass).
GATE_STORE_SOURCES = ("approvals/src/dynamodb.rs", "approvals/src/dynamodb/*.rs")
# The same for the session table: the store the TVM writes and lists it with.
SESSION_STORE_SOURCES = ("sessions/src/dynamodb.rs", "sessions/src/dynamodb/*.rs")
# SDK operation (as called: `.get_item()`) or transaction part (`Put::builder()`) -> action.
SDK_CALLS = {
    r"\.get_item\(\)": "dynamodb:GetItem", r"\.put_item\(\)": "dynamodb:PutItem",
    r"\.update_item\(\)": "dynamodb:UpdateItem", r"\.delete_item\(\)": "dynamodb:DeleteItem",
    r"\.scan\(\)": "dynamodb:Scan", r"\.query\(\)": "dynamodb:Query",
    r"\.batch_get_item\(\)": "dynamodb:BatchGetItem", r"\.batch_write_item\(\)": "dynamodb:BatchWriteItem",
    r"\bPut::builder\(\)": "dynamodb:PutItem", r"\bUpdate::builder\(\)": "dynamodb:UpdateItem",
    r"\bDelete::builder\(\)": "dynamodb:DeleteItem", r"\bConditionCheck::builder\(\)": "dynamodb:ConditionCheckItem",
}
GATE_ROUTES = {"POST /requests", "GET /requests", "GET /requests/{id}", "POST /requests/{id}/approve",
               "POST /requests/{id}/deny", "POST /requests/{id}/revoke", "POST /breakglass", "GET /breakglass",
               "GET /breakglass/{id}", "POST /breakglass/{id}/review"}
# Row writes, which the guard keeps to the TVM; with the reads, all the change guard may leave out
# (dynamodb:Describe* and List* read the table's settings).
ROW_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
              "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}
TABLE_READS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
             "dynamodb:ConditionCheckItem", "dynamodb:PartiQLSelect", "dynamodb:Describe*", "dynamodb:List*"}
# NotifyTopic as an operator may set it.
NOTIFY_TOPIC_CASES = {"none": "", "create": "create", "existing": "arn:aws:sns:eu-west-1:111122223333:sentinel-notices"}


def resource_text(resource):
    """A resource as text: ${X.Arn} for Fn::GetAtt, the template of a plain Fn::Sub, else its JSON."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and list(resource) == ["Fn::GetAtt"]:
        return "${" + ".".join(as_list(resource["Fn::GetAtt"])) + "}"
    if isinstance(resource, dict) and list(resource) == ["Fn::Sub"] and isinstance(resource["Fn::Sub"], str):
        return resource["Fn::Sub"]
    return json.dumps(resource, sort_keys=True)


def branches(node):
    """Every value node can take: both branches of each Fn::If, AWS::NoValue left out."""
    if isinstance(node, dict) and list(node) == ["Fn::If"]:
        return [v for branch in node["Fn::If"][1:] for v in branches(branch)]
    return [] if node == {"Ref": "AWS::NoValue"} else [node]


def check_gate_tables(t):
    problems = []
    res = t[TVM]["Resources"]
    for name, (key, indexes) in GATE_TABLES.items():
        table = res.get(name)
        if table is None or table.get("Type") != "AWS::DynamoDB::Table":
            problems.append(f"no DynamoDB table {name}")
            continue
        props = table["Properties"]
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if table.get(policy) != "Retain":
                problems.append(f"{name}: {policy} is {table.get(policy)!r}, not Retain (the rows are the audit trail)")
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            problems.append(f"{name} is not on demand")
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is not True:
            problems.append(f"{name} has no point-in-time recovery")
        if props.get("TimeToLiveSpecification") != {"AttributeName": "ttl", "Enabled": True}:
            problems.append(f"{name}: time to live is not on `ttl`, the attribute the TVM sets")
        if props.get("DeletionProtectionEnabled") is not True:
            problems.append(f"{name} has no deletion protection")
        sse = branches(props.get("SSESpecification"))
        if not sse or any(b.get("SSEEnabled") is not True or b.get("SSEType") != "KMS" for b in sse):
            problems.append(f"{name} is not KMS-encrypted in every case")
        if props.get("KeySchema") != [{"AttributeName": key, "KeyType": "HASH"}]:
            problems.append(f"{name}: the key is not {key} alone")
        found = {}
        for index in props.get("GlobalSecondaryIndexes", []):
            schema = {k["KeyType"]: k["AttributeName"] for k in index.get("KeySchema", [])}
            found[index.get("IndexName")] = (schema.get("HASH"), schema.get("RANGE"),
                                             index.get("Projection", {}).get("ProjectionType"))
        want = {index: (partition, "created_at", "ALL") for index, partition in indexes.items()}
        if found != want:
            problems.append(f"{name}: indexes {found}, the stores read {want}")
        if any(a.get("AttributeType") != "S" for a in props.get("AttributeDefinitions", [])):
            problems.append(f"{name}: a key attribute is not a string")
    env = decide(res["TvmFunction"]["Properties"]["Environment"]["Variables"], tvm_conditions(t))
    for variable, table in (("SENTINEL_APPROVAL_TABLE", "ApprovalTable"), ("SENTINEL_BREAKGLASS_TABLE", "BreakGlassTable"),
                            ("SENTINEL_SESSION_TABLE", "SessionTable")):
        if env.get(variable) != {"Ref": table}:
            problems.append(f"{variable} is {env.get(variable)!r}, not the {table} (the TVM needs all three)")
    return problems


def check_gate_table_grants(t):
    problems = []
    granted = set()
    for role_name, role in resources(t[TVM], "AWS::IAM::Role").items():
        if role["Properties"].get("ManagedPolicyArns"):
            problems.append(f"{role_name} has managed policies, whose grants this check cannot see")
        for st in role_policy_statements(role):
            if st.get("Effect") != "Allow":
                continue
            if "NotAction" in st or "NotResource" in st:
                problems.append(f"{role_name} statement {st.get('Sid')!r} allows by NotAction/NotResource")
                continue
            dynamodb = [a for a in actions(st) if a == "*" or a.lower().startswith("dynamodb:")]
            for resource in as_list(st.get("Resource")):
                for branch in branches(resource):
                    text = resource_text(branch)
                    if "ApprovalTable" in text or "BreakGlassTable" in text:
                        if role_name != "TvmExecutionRole":
                            problems.append(f"{role_name} is granted {actions(st)} on {text}; only the TVM uses it")
                        granted.update((text, a) for a in actions(st))
                    elif dynamodb and "SessionTable" not in text:
                        problems.append(f"{role_name} statement {st.get('Sid')!r} grants {dynamodb} on {text}, "
                                        "which could reach the approval and break-glass tables")
    # IAM action names are case-insensitive.
    granted_lower = {(r, a.lower()) for r, a in granted}
    wanted_lower = {(r, a.lower()) for r, a in GATE_GRANTS}
    missing = sorted(g for g in GATE_GRANTS if (g[0], g[1].lower()) not in granted_lower)
    extra = sorted(g for g in granted if (g[0], g[1].lower()) not in wanted_lower)
    if missing:
        problems.append(f"the TVM lacks {missing}, which the stores call")
    if extra:
        problems.append(f"the TVM is granted {extra}, beyond what the stores call")
    return problems


def gate_store_actions(root, sources=GATE_STORE_SOURCES):
    """The DynamoDB actions a store's source calls (by default the approval and break-glass stores)."""
    calls = set()
    for pattern in sources:
        for path in sorted(root.glob(pattern)):
            # Only the code before the unit tests: test helpers may call what the TVM never does.
            code = path.read_text().split("#[cfg(test)]", 1)[0]
            calls.update(action for call, action in SDK_CALLS.items() if re.search(call, code))
    return calls


def check_gate_grants_cover_the_code(t):
    """Every call the stores' source makes is granted on a gate table (GATE_GRANTS and the template)."""
    root = Path(__file__).resolve().parent.parent
    called = gate_store_actions(root)
    if not called:
        return [f"no DynamoDB call found in {GATE_STORE_SOURCES}: the stores moved?"]
    granted = set()
    for _, st in tvm_gate_statements(t):
        granted.update(a.lower() for a in actions(st))
    problems = [f"the stores call {a}, which the TVM is not granted on the approval or break-glass table"
                for a in sorted(called) if a.lower() not in granted]
    listed = {a.lower() for _, a in GATE_GRANTS}
    problems += [f"the stores call {a}, which GATE_GRANTS leaves out" for a in sorted(called)
                 if a.lower() not in listed]
    return problems


def check_session_grants_cover_the_code(t):
    """Every call the session store's source makes is granted to the TVM on the session table."""
    root = Path(__file__).resolve().parent.parent
    called = gate_store_actions(root, SESSION_STORE_SOURCES)
    if not called:
        return [f"no DynamoDB call found in {SESSION_STORE_SOURCES}: the store moved?"]
    granted = set()
    for st in statements_in(t[TVM]["Resources"]["TvmExecutionRole"]["Properties"]["Policies"]):
        texts = [resource_text(b) for r in as_list(st.get("Resource")) for b in branches(r)]
        if st.get("Effect") == "Allow" and "${SessionTable.Arn}" in texts:
            granted.update(a.lower() for a in actions(st))
    return [f"the session store calls {a}, which the TVM is not granted on the session table"
            for a in sorted(called) if a.lower() not in granted]


def tvm_gate_statements(t):
    """(resource text, statement) of each TVM role statement on a gate table or index."""
    found = []
    for st in statements_in(t[TVM]["Resources"]["TvmExecutionRole"]["Properties"]["Policies"]):
        for resource in as_list(st.get("Resource")):
            for branch in branches(resource):
                text = resource_text(branch)
                if "ApprovalTable" in text or "BreakGlassTable" in text:
                    found.append((text, st))
    return found


def check_table_guard(t):
    problems = []
    scps = [st for scp in org_policies(t[GUARD], "SERVICE_CONTROL_POLICY") for st in statements(scp)]
    tvm_only = {"ArnNotLike": {"aws:PrincipalArn": {"Ref": "TvmExecutionRoleArn"}}}
    deployers = {"ArnNotLike": {"aws:PrincipalArn": {"Ref": "DeployerArns"}}}
    allowed = {a.lower() for a in ROW_WRITES | TABLE_READS}
    outputs = t[TVM].get("Outputs", {})
    for param, table in (("SessionTableArn", "SessionTable"), ("ApprovalTableArn", "ApprovalTable"),
                         ("BreakGlassTableArn", "BreakGlassTable")):
        if param not in t[GUARD]["Parameters"]:
            problems.append(f"org-guardrails.yaml has no {param} parameter")
            continue
        if outputs.get(param, {}).get("Value") != {"Fn::GetAtt": [table, "Arn"]}:
            problems.append(f"the TVM stack does not output {param} (the ARN of {table}) for the guardrails")
        needed = [{"Ref": param}, {"Fn::Sub": "${%s}/*" % param}]

        def covers(st):
            return st.get("Effect") == "Deny" and all(r in as_list(st.get("Resource")) for r in needed)

        if not any(covers(st) and ROW_WRITES <= set(actions(st)) and st.get("Condition") == tvm_only for st in scps):
            problems.append(f"no SCP denies row writes ({', '.join(sorted(ROW_WRITES))}) on {param} and its "
                            "indexes to all but the TVM's execution role")
        if not any(covers(st) and "NotAction" in st and {a.lower() for a in as_list(st["NotAction"])} <= allowed
                   and st.get("Condition") == deployers for st in scps):
            problems.append(f"no SCP denies every action but row reads and writes on {param} to all but the "
                            "deployers (table settings, TTL, backups, deletion)")
    return problems


def check_gate_routes(t):
    routes = tvm_routes(t, "")
    problems = [f"the TVM API has no route {r}" for r in sorted(GATE_ROUTES - set(routes))]
    problems += [f"{r} is {routes[r]}, not AWS_IAM" for r in sorted(GATE_ROUTES & set(routes)) if routes[r] != "AWS_IAM"]
    return problems


def check_break_glass_metric_alarm(t):
    stack = [{"Name": "Stack", "Value": {"Ref": "AWS::StackName"}}]
    alarms = [a["Properties"] for a in resources(t[TVM], "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("Namespace") == "Sentinel" and a["Properties"].get("MetricName") == "BreakGlass"]
    if not alarms:
        return ["no alarm on the TVM's BreakGlass metric"]
    problems = []
    for props in alarms:
        operator, threshold = props.get("ComparisonOperator"), props.get("Threshold")
        first = (operator == "GreaterThanOrEqualToThreshold" and isinstance(threshold, (int, float)) and threshold <= 1) \
            or (operator == "GreaterThanThreshold" and isinstance(threshold, (int, float)) and threshold < 1)
        if props.get("Dimensions") != stack:
            problems.append(f"the BreakGlass alarm's dimensions are {props.get('Dimensions')!r}, not Stack alone "
                            "(the series of this stack, every profile)")
        if props.get("Statistic") != "Sum" or not first or props.get("EvaluationPeriods") != 1 \
                or not props.get("Period", 10**9) <= 60:
            problems.append("the BreakGlass alarm does not fire on the first use within a minute "
                            "(Sum >= 1, one period of 60 s)")
        if "AlarmTopicArn" not in json.dumps(props.get("AlarmActions")):
            problems.append("the BreakGlass alarm does not notify AlarmTopicArn")
    return problems


def check_notify(t):
    problems = []
    res = t[TVM]["Resources"]
    params = t[TVM]["Parameters"]
    role = res["TvmExecutionRole"]
    env = res["TvmFunction"]["Properties"]["Environment"]["Variables"]
    topic_name = next(iter(resources(t[TVM], "AWS::SNS::Topic")), None)
    for case, value in NOTIFY_TOPIC_CASES.items():
        conditions = tvm_conditions(t, NotifyTopic=value)
        created = topic_name is not None and conditions.get(res[topic_name].get("Condition"), True)
        expected = {"none": None, "create": {"Ref": topic_name}, "existing": {"Ref": "NotifyTopic"}}[case]
        if (case == "create") != bool(created):
            problems.append(f"NotifyTopic {case}: a topic is {'not ' if not created else ''}created")
        if decide(env, conditions).get("SENTINEL_NOTIFY_TOPIC_ARN") != expected:
            problems.append(f"NotifyTopic {case}: SENTINEL_NOTIFY_TOPIC_ARN is "
                            f"{decide(env, conditions).get('SENTINEL_NOTIFY_TOPIC_ARN')!r}, expected {expected!r}")
        sns = [st for policy in decide(role["Properties"].get("Policies", []), conditions)
               for st in statements_in(policy) if any(a == "*" or a.lower().startswith("sns:") for a in actions(st))]
        grants = [(actions(st), as_list(st.get("Resource"))) for st in sns]
        if grants != ([] if expected is None else [(["sns:Publish"], [expected])]):
            problems.append(f"NotifyTopic {case}: the role's SNS grants are {grants!r}, not sns:Publish on exactly "
                            "the topic")
        if created:
            topic = res[topic_name]["Properties"]
            if not topic.get("KmsMasterKeyId"):
                problems.append("the created topic is not KMS-encrypted")
            only_tvm = [st for p in resources(t[TVM], "AWS::SNS::TopicPolicy").values()
                        for st in statements(p["Properties"]["PolicyDocument"])
                        if st.get("Effect") == "Deny" and st.get("Principal") == "*" and "sns:Publish" in actions(st)
                        and st.get("Condition") == {"ArnNotEquals": {"aws:PrincipalArn": {
                            "Fn::GetAtt": ["TvmExecutionRole", "Arn"]}}}]
            if not only_tvm:
                problems.append("the created topic's policy does not deny sns:Publish to all but the TVM's role")
    webhook = params.get("NotifyWebhookUrl", {})
    if webhook.get("NoEcho") not in (True, "true"):
        problems.append("NotifyWebhookUrl is not NoEcho (it is a secret)")
    pattern = java_like(webhook.get("AllowedPattern", ".*"))
    for bad in ["http://hooks.example.com/x", "ftp://hooks.example.com/x", "https://a b", " https://a", "hooks.slack.com"]:
        if pattern.fullmatch(bad):
            problems.append(f"the NotifyWebhookUrl pattern accepts {bad!r} (the TVM takes https only)")
    for good in ["", "https://hooks.slack.com/services/T000/B000/XXXX"]:
        if not pattern.fullmatch(good):
            problems.append(f"the NotifyWebhookUrl pattern refuses {good!r}")
    for value, expected in (("", None), ("https://hooks.example.com/x", {"Ref": "NotifyWebhookUrl"})):
        got = decide(env, tvm_conditions(t, NotifyWebhookUrl=value)).get("SENTINEL_NOTIFY_WEBHOOK_URL")
        if got != expected:
            problems.append(f"NotifyWebhookUrl {value or 'empty'}: SENTINEL_NOTIFY_WEBHOOK_URL is {got!r}")
    if "NotifyWebhookUrl" in json.dumps(t[TVM].get("Outputs", {})):
        problems.append("an output shows NotifyWebhookUrl")
    return problems


# --- deploy/proxy.yaml, the signed egress proxy


def proxy_function(t):
    """(logical ID, resource) of the proxy template's one Lambda function."""
    functions = resources(t[PROXY], "AWS::Lambda::Function")
    if len(functions) != 1:
        raise SystemExit(f"check-deploy-iam: {PROXY} has {len(functions)} functions, expected one")
    return next(iter(functions.items()))


def proxy_permissions(t):
    """The Lambda permissions of the proxy template on its function (all of them, in practice)."""
    name, _ = proxy_function(t)
    return {k: r for k, r in resources(t[PROXY], "AWS::Lambda::Permission").items()
            if f'"{name}"' in json.dumps(r["Properties"].get("FunctionName"))}


def proxy_role_statements(t):
    _, function = proxy_function(t)
    role_ref = function["Properties"].get("Role")
    role_name = role_ref.get("Fn::GetAtt", [None])[0] if isinstance(role_ref, dict) else None
    role = t[PROXY]["Resources"].get(role_name)
    if role is None:
        raise SystemExit(f"check-deploy-iam: the proxy function's role {role_ref!r} is not a role of {PROXY}")
    return role, role_policy_statements(role)


def check_proxy_url_auth(t):
    name, _ = proxy_function(t)
    urls = {k: r for k, r in resources(t[PROXY], "AWS::Lambda::Url").items()
            if f'"{name}"' in json.dumps(r["Properties"].get("TargetFunctionArn"))}
    if not urls:
        return ["the proxy function has no Function URL"]
    return [f"{k} has AuthType {r['Properties'].get('AuthType')!r}, not AWS_IAM"
            for k, r in urls.items() if r["Properties"].get("AuthType") != "AWS_IAM"]


def check_proxy_permissions(t):
    problems = []
    via_url, invoke = set(), set()
    for name, res in proxy_permissions(t).items():
        props = res["Properties"]
        who = json.dumps([props.get("Principal"), props.get("PrincipalOrgID"), res.get("Condition")], sort_keys=True)
        if props.get("Action") == "lambda:InvokeFunctionUrl" and props.get("FunctionUrlAuthType") == "AWS_IAM":
            via_url.add(who)
        elif props.get("Action") == "lambda:InvokeFunction" and props.get("InvokedViaFunctionUrl") is True:
            invoke.add(who)
        else:
            problems.append(f"{name} grants {props.get('Action')!r} without being the Function URL pair "
                            "(InvokeFunctionUrl for AWS_IAM, or InvokeFunction with InvokedViaFunctionUrl)")
    if not via_url:
        problems.append("no permission grants lambda:InvokeFunctionUrl on the proxy")
    if via_url != invoke:
        problems.append("the InvokeFunctionUrl and InvokeFunction (via URL) permissions name different principals")
    return problems


def check_proxy_principal(t):
    problems = []
    for name, res in proxy_permissions(t).items():
        props = res["Properties"]
        if '"*"' in json.dumps(props.get("Principal")) and not props.get("PrincipalOrgID"):
            problems.append(f"{name} admits Principal * without PrincipalOrgID")
    return problems


def check_proxy_ssm(t):
    problems = []
    role, sts = proxy_role_statements(t)
    if role["Properties"].get("ManagedPolicyArns"):
        problems.append("the proxy's execution role has managed policies, whose grants this check cannot see")
    param_arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${%s}"
    allowed = [{"Fn::Sub": param_arn % "PolicyParameter"}, {"Fn::Sub": param_arn % "UpstreamAuthParameter"}]
    for st in sts:
        if st.get("Effect") == "Allow" and "NotAction" in st:
            problems.append(f"statement {st.get('Sid')!r} allows by NotAction")
        granted = [a for a in actions(st) if a == "*" or a.lower().startswith("ssm:")]
        if not granted:
            continue
        if set(granted) != {"ssm:GetParameters"}:
            problems.append(f"the proxy may call {sorted(granted)}, not only ssm:GetParameters")
        # Resource entries under Fn::If are the branches; AWS::NoValue is the absent one.
        for entry in as_list(st.get("Resource")):
            branches = entry["Fn::If"][1:] if isinstance(entry, dict) and "Fn::If" in entry else [entry]
            for branch in branches:
                if branch != {"Ref": "AWS::NoValue"} and branch not in allowed:
                    problems.append(f"the proxy's ssm grant reaches {branch!r}, not only its two parameters")
    return problems


def check_proxy_kms_logs(t):
    problems = []
    _, sts = proxy_role_statements(t)
    for st in sts:
        kms = [a for a in actions(st) if a.lower().startswith("kms:")]
        if kms:
            cond = st.get("Condition", {}).get("StringEquals", {})
            if kms != ["kms:Decrypt"]:
                problems.append(f"the proxy may call {kms}, not only kms:Decrypt")
            if cond.get("kms:ViaService") != {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"} or \
                    "kms:EncryptionContext:PARAMETER_ARN" not in cond:
                problems.append("the proxy's kms:Decrypt is not confined to SSM and its parameters")
        logs = [a for a in actions(st) if a.lower().startswith("logs:")]
        if logs and (set(logs) - {"logs:CreateLogStream", "logs:PutLogEvents"}
                     or as_list(st.get("Resource")) != [{"Fn::Sub": "${ProxyLogGroup.Arn}"}]):
            problems.append(f"the proxy may call {logs} on {st.get('Resource')!r}, not only write its own log group")
    return problems


def check_proxy_vpc(t):
    _, function = proxy_function(t)
    vpc = function["Properties"].get("VpcConfig") or {}
    if not vpc.get("SubnetIds") or not vpc.get("SecurityGroupIds"):
        return ["the proxy function is not in a VPC (VpcConfig with subnets and a security group)"]
    return []


def check_proxy_security_group(t):
    problems = []
    _, function = proxy_function(t)
    groups = [g["Fn::GetAtt"][0] for g in as_list((function["Properties"].get("VpcConfig") or {})
                                                  .get("SecurityGroupIds", []))
              if isinstance(g, dict) and "Fn::GetAtt" in g]
    if not groups:
        return ["the proxy function's security group is not one of its template's"]
    for name in groups:
        props = t[PROXY]["Resources"][name]["Properties"]
        if props.get("SecurityGroupIngress"):
            problems.append(f"{name} has ingress rules")
        for rule in as_list(props.get("SecurityGroupEgress", [])):
            if (rule.get("IpProtocol"), rule.get("FromPort"), rule.get("ToPort")) != ("tcp", 443, 443):
                problems.append(f"{name} lets out more than HTTPS: {rule!r}")
        if not props.get("SecurityGroupEgress"):
            problems.append(f"{name} has no egress rules, so EC2 allows all outbound traffic")
    for kind in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        for rule_name, rule in resources(t[PROXY], kind).items():
            if any(f'"{g}"' in json.dumps(rule["Properties"]) for g in groups):
                problems.append(f"{rule_name} adds a rule to the proxy's security group")
    return problems


def check_proxy_timeout(t):
    problems = []
    _, function = proxy_function(t)
    param = t[PROXY]["Parameters"]["TimeoutMs"]
    limit = function["Properties"].get("Timeout", 3) * 1000
    if not param.get("MaxValue", 10**9) < limit:
        problems.append(f"TimeoutMs may reach {param.get('MaxValue')} ms, not below the function's {limit} ms")
    if function["Properties"]["Environment"]["Variables"].get("SENTINEL_PROXY_TIMEOUT_MS") != {"Ref": "TimeoutMs"}:
        problems.append("SENTINEL_PROXY_TIMEOUT_MS is not the TimeoutMs parameter")
    return problems


def check_proxy_rules(t):
    problems = []
    rules = t[PROXY].get("Rules", {}).values()

    def refused(when, needs):
        return any(when in json.dumps(r.get("RuleCondition")) and needs in json.dumps(r.get("Assertions"))
                   for r in rules)

    for needs in ("VpcId", "SubnetIds"):
        if not refused('"false"', needs):
            problems.append(f"CreateVpc=false without {needs} is not refused (Rules)")
    if not any("AllowedPrincipals" in json.dumps(r.get("Assertions")) and "AllowedOrgId" in json.dumps(r.get("Assertions"))
               and "RuleCondition" not in r for r in rules):
        problems.append("a stack that admits no principal and no organization is not refused (Rules)")
    return problems


def check_proxy_parameter_names(t):
    problems = []
    params = t[PROXY]["Parameters"]
    for name in ("PolicyParameter", "UpstreamAuthParameter"):
        pattern = java_like(params[name]["AllowedPattern"])
        for bad in ["/aws", "/aws/x", "/AWS/x", "/Aws-policies", "/ssm", "/SSM/p", "/sSm", "/awsome",
                    "/sentinel/", "sentinel", "/", "/a//b", "/a b"]:
            if pattern.fullmatch(bad):
                problems.append(f"{name} pattern accepts {bad!r}")
        for good in ["/sentinel/proxy/policy", "/team/aws", "/x", "/a.b/c_d-e"]:
            if not pattern.fullmatch(good):
                problems.append(f"{name} pattern refuses {good!r}")
    if java_like(params["PolicyParameter"]["AllowedPattern"]).fullmatch(""):
        problems.append("PolicyParameter may be empty")
    if not java_like(params["UpstreamAuthParameter"]["AllowedPattern"]).fullmatch(""):
        problems.append("UpstreamAuthParameter cannot be left empty (no upstream credential)")
    return problems


# --- a small evaluator, enough for org-guardrails.yaml, to measure the policies' real size

EXAMPLE = {
    "AWS::Partition": "aws-us-gov",
    "TvmFunctionArn": "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:" + "s" * 64,
    "AuthorizerFunctionArn": "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:" + "a" * 64,
    "TvmExecutionRoleArn": "arn:aws-us-gov:iam::111122223333:role/" + "r" * 64,
    "SessionTableArn": "arn:aws-us-gov:dynamodb:us-gov-west-1:111122223333:table/" + "t" * 64,
    "ApprovalTableArn": "arn:aws-us-gov:dynamodb:us-gov-west-1:111122223333:table/" + "q" * 64,
    "BreakGlassTableArn": "arn:aws-us-gov:dynamodb:us-gov-west-1:111122223333:table/" + "g" * 64,
    "PolicyRoot": "/" + "p" * 63,
    "ProtectedRolePrefix": "P" * 32,
    "DeployerArns": ["arn:aws-us-gov:iam::*:role/" + "d" * 64] * 3,
    "PolicyAdminArns": ["arn:aws-us-gov:iam::111122223333:role/" + "m" * 64] * 3,
    "BreakGlassRoleArn": "arn:aws-us-gov:iam::*:role/" + "b" * 64,
    "TargetIds": [""],
    "ProxyFunctionArns": ["arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:" + "x" * 64] * 3,
    "ProxyExecutionRoleArns": ["arn:aws-us-gov:iam::111122223333:role/" + "y" * 64] * 3,
}
NO_VALUE = object()


def evaluate(node, params, conditions):
    if isinstance(node, list):
        return [v for v in (evaluate(x, params, conditions) for x in node) if v is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (key, arg), = node.items()
        if key == "Ref":
            return NO_VALUE if arg == "AWS::NoValue" else params[arg]
        if key == "Fn::Sub":
            text, local = (arg, {}) if isinstance(arg, str) else (arg[0], evaluate(arg[1], params, conditions))
            return re.sub(r"\$\{([^}]+)\}", lambda m: str({**params, **local}[m.group(1)]), text)
        if key == "Fn::Select":
            return evaluate(arg[1], params, conditions)[int(arg[0])]
        if key == "Fn::Split":
            return evaluate(arg[1], params, conditions).split(arg[0])
        if key == "Fn::Join":
            return arg[0].join(evaluate(arg[1], params, conditions))
        if key == "Fn::If":
            return evaluate(arg[1] if conditions[arg[0]] else arg[2], params, conditions)
    return {k: v for k, v in ((k, evaluate(v, params, conditions)) for k, v in node.items()) if v is not NO_VALUE}


def evaluate_conditions(template, params):
    """The template's Conditions for these parameter values (Equals, Not, And, Or, Condition)."""
    values = {}

    def holds(node):
        (key, arg), = node.items()
        if key == "Condition":
            return named(arg)
        if key == "Fn::Not":
            return not holds(arg[0])
        if key == "Fn::And":
            return all(holds(a) for a in arg)
        if key == "Fn::Or":
            return any(holds(a) for a in arg)
        if key == "Fn::Equals":
            return evaluate(arg[0], params, {}) == evaluate(arg[1], params, {})
        raise SystemExit(f"check-deploy-iam: cannot evaluate the condition {node!r}")

    def named(name):
        if name not in values:
            values[name] = holds(template["Conditions"][name])
        return values[name]

    return {name: named(name) for name in template.get("Conditions", {})}


def rendered_org_policies(template, params, policy_type):
    """The policies' Content as deployed with these parameters (resources whose Condition is false left out)."""
    conditions = evaluate_conditions(template, params)
    return [evaluate(r["Properties"]["Content"], params, conditions)
            for r in resources(template, "AWS::Organizations::Policy").values()
            if r["Properties"]["Type"] == policy_type and conditions.get(r.get("Condition"), True)]


# Two proxies, one named by its FunctionArn output and one by a pattern, and a role pattern.
PROXY_FUNCTION_ARNS = ["arn:aws:lambda:eu-central-1:111122223333:function:sentinel-proxy-admin-ProxyFunction-AbC1",
                       "arn:aws:lambda:*:444455556666:function:*-ProxyFunction-*"]
PROXY_FUNCTION_RESOURCES = set(PROXY_FUNCTION_ARNS) | {arn + ":*" for arn in PROXY_FUNCTION_ARNS}
PROXY_ROLE_ARNS = ["arn:aws:iam::111122223333:role/sentinel-proxy-admin-ProxyExecutionRole-*"]


def proxy_guard_statements(t, functions, roles):
    params = dict(EXAMPLE, ProxyFunctionArns=functions or [""], ProxyExecutionRoleArns=roles or [""])
    return [st for scp in rendered_org_policies(t[GUARD], params, "SERVICE_CONTROL_POLICY") for st in statements(scp)]


def leftover_proxy_statements(t):
    """Statements rendered for an empty proxy parameter (one given, the other empty, or both empty): an
    empty list renders as "" (and ":*"), which Organizations refuses or which matches nothing."""
    leftover = set()
    for functions, roles in (([], []), (PROXY_FUNCTION_ARNS, []), ([], PROXY_ROLE_ARNS)):
        leftover.update(st.get("Sid", "?") for st in proxy_guard_statements(t, functions, roles)
                        if {"", ":*"} & set(as_list(st.get("Resource", []))))
    return sorted(leftover)


def check_proxy_invoke_guard(t):
    problems = []
    if not {"ProxyFunctionArns", "ProxyExecutionRoleArns"} <= set(t[GUARD]["Parameters"]):
        return ["org-guardrails.yaml has no ProxyFunctionArns and ProxyExecutionRoleArns parameters"]
    # Given the function ARNs alone (no role ARNs), which must be enough for this statement.
    if not any(st.get("Effect") == "Deny" and {"lambda:InvokeFunction", "lambda:InvokeAsync"} <= set(actions(st))
               and set(as_list(st.get("Resource"))) == PROXY_FUNCTION_RESOURCES
               and st.get("Condition") == {"BoolIfExists": {"lambda:InvokedViaFunctionUrl": "false"}}
               for st in proxy_guard_statements(t, PROXY_FUNCTION_ARNS, [])):
        problems.append("with ProxyFunctionArns set, no SCP denies lambda:InvokeFunction/InvokeAsync on exactly "
                        "those functions and their qualifiers (:*) to everyone unless lambda:InvokedViaFunctionUrl "
                        "is true")
    leftover = leftover_proxy_statements(t)
    if leftover:
        problems.append(f"with a proxy parameter empty, the SCPs still hold {leftover} on empty resources "
                        "(Fn::If with AWS::NoValue)")
    return problems


def check_proxy_change_guard(t):
    problems = []
    if not {"ProxyFunctionArns", "ProxyExecutionRoleArns"} <= set(t[GUARD]["Parameters"]):
        return ["org-guardrails.yaml has no ProxyFunctionArns and ProxyExecutionRoleArns parameters"]
    deployers = {"ArnNotLike": {"aws:PrincipalArn": EXAMPLE["DeployerArns"]}}

    def guarded(sts, resource, must_not_exempt):
        return any(st.get("Effect") == "Deny" and "NotAction" in st and set(as_list(st.get("Resource"))) == resource
                   and st.get("Condition") == deployers and not set(as_list(st["NotAction"])) & must_not_exempt
                   for st in sts)

    if not guarded(proxy_guard_statements(t, PROXY_FUNCTION_ARNS, []), PROXY_FUNCTION_RESOURCES,
                   {"lambda:*", "lambda:Update*", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                    "lambda:AddPermission", "lambda:Create*", "lambda:UpdateFunctionUrlConfig"}):
        problems.append("with ProxyFunctionArns set, no SCP keeps the proxies' code, configuration and permissions "
                        "(and their qualifiers) to the deployers")
    # Given the role ARNs alone: they must not depend on the function ARNs being given.
    sts = proxy_guard_statements(t, [], PROXY_ROLE_ARNS)
    if not guarded(sts, set(PROXY_ROLE_ARNS), {"iam:*", "iam:PassRole", "iam:Pass*", "iam:UpdateAssumeRolePolicy",
                                               "iam:Update*", "iam:AttachRolePolicy", "iam:PutRolePolicy"}):
        problems.append("with ProxyExecutionRoleArns set, no SCP keeps iam:PassRole and changes of the proxies' "
                        "execution roles to the deployers")
    if not any(st.get("Effect") == "Deny" and "sts:AssumeRole" in actions(st) and "Condition" not in st
               and set(as_list(st.get("Resource"))) == set(PROXY_ROLE_ARNS) for st in sts):
        problems.append("with ProxyExecutionRoleArns set, no SCP denies every IAM principal assuming the proxies' "
                        "execution roles")
    leftover = leftover_proxy_statements(t)
    if leftover:
        problems.append(f"with a proxy parameter empty, the SCPs still hold {leftover} on empty resources "
                        "(Fn::If with AWS::NoValue)")
    return problems


def check_org_policy_size(t):
    problems = []
    conditions = {name: True for name in t[GUARD].get("Conditions", {})}  # every optional part present
    for name, res in resources(t[GUARD], "AWS::Organizations::Policy").items():
        content = evaluate(res["Properties"]["Content"], EXAMPLE, conditions)
        size = len(json.dumps(content, separators=(",", ":")))
        if size > SCP_MAX_CHARS:
            problems.append(f"{name} is {size} characters with long example ARNs, over the {SCP_MAX_CHARS} limit")
    return problems


CHECKS = [
    ("max-duration", "MaxDurationSeconds is capped at 3600 and feeds SENTINEL_MAX_DURATION", check_max_duration),
    ("break-glass-condition", "break-glass may never carry a sentinel=* source identity; the TVM always must",
     check_break_glass_condition),
    ("break-glass-alarm", "break-glass use is counted from CloudTrail and alarmed, and cannot be configured without it",
     check_break_glass_alarm),
    ("invoke-guard", "the SCP denies invoking the TVM except through the Function URL (API Gateway is a service principal)",
     check_invoke_guard),
    ("change-guard", "the SCP keeps TVM code/configuration and PassRole of its role to the deployers", check_change_guard),
    ("rcp", "the RCP keeps protected roles to the TVM (and break-glass) and revokers to the TVM, for any principal",
     check_rcp),
    ("revoker-trust", "SentinelRevoker trusts only the TVM's execution role and may only Get/Put/DeleteRolePolicy",
     check_revoker_trust),
    ("tvm-revoke-grants", "the execution role assumes SentinelRevoker and writes only its own account's protected roles",
     check_tvm_revoke_grants),
    ("policy-root", "PolicyRoot refuses /aws... and /ssm... in any case", check_policy_root_pattern),
    ("retention", "SessionRetentionDays is at least 1", check_retention),
    ("rules", "DomainName without CertificateArn and AllowedOrgIds with the Function URL are refused", check_rules),
    ("stack-dimension", "Sentinel metric alarms see this stack only, the authorizer's errors included",
     check_stack_dimension),
    ("partition", "no ARN has a hard-coded aws partition (templates rendered for aws-cn)", check_partition),
    ("exchange-route", "with JwtIssuers set, exactly one TVM route is without AWS_IAM and it is POST /exchange; "
     "with it empty, none; every other route keeps AWS_IAM", check_exchange_route),
    ("tvm-url-auth", "the TVM's Function URL has AuthType AWS_IAM", check_tvm_url_auth),
    ("exchange-throttle", "POST /exchange has its own throttling (by default below the signed routes'), and no "
     "route settings when the route does not exist", check_exchange_throttle),
    ("jwt-issuers-grants", "JwtIssuers feeds SENTINEL_JWT_ISSUERS; as an SSM parameter the role may "
     "ssm:GetParameters (and kms:Decrypt via SSM) on exactly it, otherwise nothing", check_jwt_issuers_grants),
    ("jwt-issuers-forms", "JwtIssuers is empty, an SSM name (not /aws or /ssm) or a JSON list, and the "
     "conditions tell them apart", check_jwt_issuers_forms),
    ("gate-tables", "the approval and break-glass tables are laid out as the stores read them, on demand, with "
     "PITR, TTL on ttl, deletion protection, KMS and Retain, and the TVM gets all three tables", check_gate_tables),
    ("gate-table-grants", "the TVM's role, and no other, is granted exactly the calls the stores make on the two "
     "tables and the indexes they query", check_gate_table_grants),
    ("gate-grants-cover-the-code", "every DynamoDB call in the approval and break-glass stores' source "
     "(approvals/src/dynamodb*) is granted to the TVM on those tables", check_gate_grants_cover_the_code),
    ("session-grants-cover-the-code", "every DynamoDB call in the session store's source (sessions/src/dynamodb*) "
     "is granted to the TVM on the session table", check_session_grants_cover_the_code),
    ("table-guard", "an SCP keeps row writes on each of the three tables to the TVM and every other change to the "
     "deployers", check_table_guard),
    ("gate-routes", "every /requests and /breakglass route exists with AWS_IAM", check_gate_routes),
    ("break-glass-metric-alarm", "the TVM's BreakGlass metric of this stack is alarmed on its first use",
     check_break_glass_metric_alarm),
    ("notify", "the TVM may sns:Publish to exactly the notification topic (none, created and encrypted, or named); "
     "the webhook URL is NoEcho and https", check_notify),
    ("org-policy-size", f"every SCP/RCP stays under {SCP_MAX_CHARS} characters", check_org_policy_size),
    ("proxy-invoke-guard", "given ProxyFunctionArns, an SCP denies invoking them (and :*) except through the Function "
     "URL; nothing remains when the proxy parameters are empty", check_proxy_invoke_guard),
    ("proxy-change-guard", "given the proxy ARNs, an SCP keeps the proxies' code/configuration and PassRole of their "
     "roles to the deployers, and denies assuming the roles", check_proxy_change_guard),
    ("proxy-url-auth", "the proxy's Function URL has AuthType AWS_IAM", check_proxy_url_auth),
    ("proxy-permissions", "every proxy permission is InvokeFunctionUrl (AWS_IAM) or InvokeFunction via the URL, "
     "in pairs", check_proxy_permissions),
    ("proxy-principal", "no proxy permission admits Principal * without PrincipalOrgID", check_proxy_principal),
    ("proxy-ssm", "the proxy's role may only ssm:GetParameters, on its policy and auth parameters only", check_proxy_ssm),
    ("proxy-kms-logs", "the proxy's role decrypts only through SSM for its parameters and writes only its log group",
     check_proxy_kms_logs),
    ("proxy-vpc", "the proxy function runs in a VPC", check_proxy_vpc),
    ("proxy-security-group", "the proxy's security group has no ingress and lets out HTTPS only",
     check_proxy_security_group),
    ("proxy-timeout", "TimeoutMs stays below the function's timeout and feeds SENTINEL_PROXY_TIMEOUT_MS",
     check_proxy_timeout),
    ("proxy-rules", "CreateVpc=false without a VPC and subnets, and no principal and no organization, are refused",
     check_proxy_rules),
    ("proxy-parameter-names", "PolicyParameter and UpstreamAuthParameter refuse /aws... and /ssm... in any case",
     check_proxy_parameter_names),
]

# ------------------------------------------------------------------ self-test mutations


def stmt(t, name, policy_type, sid):
    for res in resources(t[GUARD], "AWS::Organizations::Policy").values():
        if res["Properties"]["Type"] == policy_type:
            for st in statements(res["Properties"]["Content"]):
                if st.get("Sid") == sid:
                    return st
    raise KeyError(sid)


def proxy_guard_entry(t, sid):
    """(Statement list, index) of the proxy guard statement with this Sid, as written (under its Fn::If)."""
    content = t[GUARD]["Resources"]["ProxyGuardScp"]["Properties"]["Content"]
    listed = content["Statement"]
    for index, entry in enumerate(listed):
        if any(st.get("Sid") == sid for st in statements_in(entry)):
            return listed, index
    raise KeyError(sid)


def proxy_guard_statement(t, sid):
    listed, index = proxy_guard_entry(t, sid)
    return next(st for st in statements_in(listed[index]) if st.get("Sid") == sid)


def unwrap(t, sid):
    """Replaces the statement's Fn::If by the statement itself, so that it stays when its parameter is empty."""
    listed, index = proxy_guard_entry(t, sid)
    listed[index] = proxy_guard_statement(t, sid)


def trust_statement(t, principal_param):
    trust = t[ROLE]["Resources"]["ProtectedRole"]["Properties"]["AssumeRolePolicyDocument"]
    return next(s for s in statements_in(trust) if s.get("Principal", {}).get("AWS") == {"Ref": principal_param})


def _set(d, key, value):
    d[key] = value


def tvm_paths(t):
    return t[TVM]["Resources"]["TvmApi"]["Properties"]["Body"]["paths"]


def tvm_operation(t, path, method):
    return tvm_paths(t)[path][method]


def exchange_operation(t):
    """POST /exchange's operation, inside the Fn::If that makes the route conditional."""
    return tvm_paths(t)["/exchange"]["Fn::If"][1]["post"]


def jwt_issuers_statement(t, sid):
    policies = t[TVM]["Resources"]["TvmExecutionRole"]["Properties"]["Policies"]
    return next(s for s in statements_in(policies) if s.get("Sid") == sid)


def unwrap_jwt_issuers_policy(t):
    """Replaces the issuer policy's Fn::If by the policy, so that it stays whatever JwtIssuers is."""
    policies = t[TVM]["Resources"]["TvmExecutionRole"]["Properties"]["Policies"]
    index = next(i for i, p in enumerate(policies) if p.get("Fn::If", [None])[0] == "JwtIssuersInSsm")
    policies[index] = policies[index]["Fn::If"][1]


def tvm_statement(t, sid, role="TvmExecutionRole"):
    return next(s for s in statements_in(t[TVM]["Resources"][role]["Properties"]["Policies"]) if s.get("Sid") == sid)


def tvm_policy_documents(t):
    """The policy documents of the TVM's role (under Fn::If too)."""
    return [d for d in walk(t[TVM]["Resources"]["TvmExecutionRole"]["Properties"]["Policies"]) if "Statement" in d]


def remove_tvm_statement(t, sid):
    for document in tvm_policy_documents(t):
        document["Statement"] = [s for s in as_list(document["Statement"]) if s.get("Sid") != sid]


def table_statement(t, sid):
    return stmt(t, GUARD, "SERVICE_CONTROL_POLICY", sid)


def tvm_alarm(t, metric):
    return next(a["Properties"] for a in resources(t[TVM], "AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("Namespace") == "Sentinel" and a["Properties"].get("MetricName") == metric)


def proxy_statement(t, sid):
    return next(s for s in role_policy_statements(t[PROXY]["Resources"]["ProxyExecutionRole"]) if s.get("Sid") == sid)


MUTATIONS = {
    "max-duration": lambda t: _set(t[TVM]["Parameters"]["MaxDurationSeconds"], "MaxValue", 43200),
    "break-glass-condition": lambda t: trust_statement(t, "BreakGlassRoleArn").pop("Condition"),
    "break-glass-alarm": lambda t: t[ROLE]["Resources"].pop("BreakGlassUseAlarm"),
    "invoke-guard": lambda t: _set(stmt(t, GUARD, "SERVICE_CONTROL_POLICY", "TvmInvokedOnlyViaFrontDoors"),
                                   "Condition", {"BoolIfExists": {"lambda:InvokedViaFunctionUrl": "false"},
                                                 "ArnNotLike": {"aws:PrincipalArn": {"Ref": "DeployerArns"}}}),
    "change-guard": lambda t: stmt(t, GUARD, "SERVICE_CONTROL_POLICY",
                                   "ExecutionRoleChangedOrPassedOnlyByDeployers")["NotAction"].append("iam:PassRole"),
    "rcp": lambda t: _set(stmt(t, GUARD, "RESOURCE_CONTROL_POLICY", "ProtectedRolesOnlyForSentinel"),
                          "Action", ["sts:AssumeRole"]),
    "revoker-trust": lambda t: _set(t[ROLE]["Resources"]["RevokerRole"]["Properties"]["AssumeRolePolicyDocument"]
                                    ["Statement"][0], "Principal", {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}),
    "tvm-revoke-grants": lambda t: next(
        s for s in role_policy_statements(t[TVM]["Resources"]["TvmExecutionRole"]) if s.get("Sid") == "RevokeInOwnAccount"
    )["Action"].append("iam:AttachRolePolicy"),
    "policy-root": lambda t: _set(t[TVM]["Parameters"]["PolicyRoot"], "AllowedPattern",
                                  "^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"),
    "retention": lambda t: _set(t[TVM]["Parameters"]["SessionRetentionDays"], "MinValue", 0),
    "rules": lambda t: t[TVM]["Rules"].pop("DomainNameNeedsCertificate"),
    "stack-dimension": lambda t: _set(t[TVM]["Resources"]["TvmFailClosedAlarm"]["Properties"], "Dimensions", []),
    "partition": lambda t: _set(t["aws-cn"][TVM]["Resources"]["TvmExecutionRole"]["Properties"],
                                "ManagedPolicyArns", ["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
    "exchange-route": [
        lambda t: _set(tvm_operation(t, "/profiles", "get"), "security", []),
        lambda t: _set(exchange_operation(t), "security", [{"AWS_IAM": []}]),
        lambda t: _set(tvm_paths(t), "/exchange", tvm_paths(t)["/exchange"]["Fn::If"][1]),
        lambda t: _set(tvm_paths(t), "/$default", {"x-amazon-apigateway-any-method": {
            "x-amazon-apigateway-integration": exchange_operation(t)["x-amazon-apigateway-integration"]}}),
        lambda t: _set(t[TVM]["Resources"], "DebugRoute", {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {"ApiId": {"Ref": "TvmApi"}, "RouteKey": "GET /debug", "AuthorizationType": "NONE"}}),
    ],
    "tvm-url-auth": lambda t: _set(t[TVM]["Resources"]["TvmFunctionUrl"]["Properties"], "AuthType", "NONE"),
    "exchange-throttle": [
        lambda t: t[TVM]["Resources"]["TvmApiApiGatewayDefaultStage"]["Properties"].pop("RouteSettings"),
        lambda t: _set(t[TVM]["Resources"]["TvmApiApiGatewayDefaultStage"]["Properties"], "RouteSettings",
                       t[TVM]["Resources"]["TvmApiApiGatewayDefaultStage"]["Properties"]["RouteSettings"]["Fn::If"][1]),
        lambda t: _set(t[TVM]["Parameters"]["ExchangeThrottlingRateLimit"], "Default", 1000),
    ],
    "jwt-issuers-grants": [
        lambda t: _set(jwt_issuers_statement(t, "ReadJwtIssuers"), "Resource", {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwtIssuers}*"}),
        lambda t: _set(jwt_issuers_statement(t, "ReadJwtIssuers"), "Action",
                       ["ssm:GetParameters", "ssm:GetParametersByPath"]),
        lambda t: jwt_issuers_statement(t, "DecryptSecureStringJwtIssuers")["Condition"]["StringEquals"].pop(
            "kms:EncryptionContext:PARAMETER_ARN"),
        lambda t: unwrap_jwt_issuers_policy(t),
        lambda t: t[TVM]["Resources"]["TvmFunction"]["Properties"]["Environment"]["Variables"].pop(
            "SENTINEL_JWT_ISSUERS"),
    ],
    "jwt-issuers-forms": [
        lambda t: _set(t[TVM]["Parameters"]["JwtIssuers"], "AllowedPattern", "^.*$"),
        lambda t: _set(t[TVM]["Conditions"], "JwtIssuersInSsm", {"Condition": "HasJwtIssuers"}),
    ],
    "gate-tables": [
        lambda t: _set(t[TVM]["Resources"]["BreakGlassTable"]["Properties"]["PointInTimeRecoverySpecification"],
                       "PointInTimeRecoveryEnabled", False),
        lambda t: _set(t[TVM]["Resources"]["ApprovalTable"]["Properties"]["TimeToLiveSpecification"],
                       "AttributeName", "expires_at"),
        lambda t: _set(t[TVM]["Resources"]["ApprovalTable"], "DeletionPolicy", "Delete"),
        lambda t: _set(t[TVM]["Resources"]["BreakGlassTable"]["Properties"], "DeletionProtectionEnabled", False),
        lambda t: t[TVM]["Resources"]["BreakGlassTable"]["Properties"]["GlobalSecondaryIndexes"].pop(),
        lambda t: t[TVM]["Resources"]["TvmFunction"]["Properties"]["Environment"]["Variables"].pop(
            "SENTINEL_BREAKGLASS_TABLE"),
    ],
    "gate-table-grants": [
        lambda t: tvm_statement(t, "ApprovalTable")["Action"].append("dynamodb:DeleteItem"),
        lambda t: _set(tvm_statement(t, "ApprovalTableByRequester"), "Resource",
                       {"Fn::Sub": "${ApprovalTable.Arn}/index/*"}),
        lambda t: remove_tvm_statement(t, "BreakGlassTableIndexes"),
        lambda t: _set(tvm_statement(t, "ReadSessions", "AuthorizerExecutionRole"), "Resource",
                       [{"Fn::GetAtt": ["SessionTable", "Arn"]}, {"Fn::GetAtt": ["ApprovalTable", "Arn"]}]),
        lambda t: tvm_policy_documents(t)[0]["Statement"].append(
            {"Sid": "Everything", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}),
    ],
    "gate-grants-cover-the-code":
        lambda t: tvm_statement(t, "BreakGlassTable")["Action"].remove("dynamodb:DeleteItem"),
    "session-grants-cover-the-code":
        lambda t: tvm_statement(t, "SessionTable")["Action"].remove("dynamodb:DeleteItem"),
    "table-guard": [
        lambda t: table_statement(t, "ApprovalRowsWrittenOnlyByTvm")["Action"].remove("dynamodb:UpdateItem"),
        lambda t: _set(table_statement(t, "ApprovalRowsWrittenOnlyByTvm"), "Condition",
                       {"ArnNotLike": {"aws:PrincipalArn": {"Ref": "DeployerArns"}}}),
        lambda t: table_statement(t, "ApprovalTablesChangedOnlyByDeployers")["NotAction"].append(
            "dynamodb:UpdateTimeToLive"),
        lambda t: table_statement(t, "ApprovalTablesChangedOnlyByDeployers")["Resource"].remove(
            {"Fn::Sub": "${BreakGlassTableArn}/*"}),
        lambda t: table_statement(t, "SessionRowsWrittenOnlyByTvm")["Action"].remove("dynamodb:DeleteItem"),
        lambda t: t[TVM]["Outputs"].pop("BreakGlassTableArn"),
    ],
    "gate-routes": [
        lambda t: tvm_paths(t).pop("/breakglass/{id}/review"),
        lambda t: _set(tvm_operation(t, "/requests/{id}/approve", "post"), "security", []),
    ],
    "break-glass-metric-alarm": [
        lambda t: _set(tvm_alarm(t, "BreakGlass"), "Threshold", 5),
        lambda t: tvm_alarm(t, "BreakGlass")["Dimensions"].append({"Name": "Profile", "Value": "prod"}),
        lambda t: tvm_alarm(t, "BreakGlass").pop("AlarmActions"),
        lambda t: _set(tvm_alarm(t, "BreakGlass"), "Period", 300),
        lambda t: _set(tvm_alarm(t, "BreakGlass"), "MetricName", "BreakGlassUses"),
    ],
    "notify": [
        lambda t: _set(tvm_statement(t, "PublishNotifications"), "Resource", "*"),
        lambda t: _set(tvm_statement(t, "PublishNotifications"), "Action", ["sns:Publish", "sns:Subscribe"]),
        lambda t: t[TVM]["Parameters"]["NotifyWebhookUrl"].pop("NoEcho"),
        lambda t: _set(t[TVM]["Parameters"]["NotifyWebhookUrl"], "AllowedPattern", "^(https?://[!-~]+)?$"),
        lambda t: t[TVM]["Resources"]["NotificationTopic"]["Properties"].pop("KmsMasterKeyId"),
        lambda t: t[TVM]["Resources"]["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0].pop(
            "Condition"),
        lambda t: _set(t[TVM]["Resources"]["TvmFunction"]["Properties"]["Environment"]["Variables"],
                       "SENTINEL_NOTIFY_TOPIC_ARN", {"Ref": "NotifyTopic"}),
        lambda t: _set(t[TVM]["Resources"]["TvmFunction"]["Properties"]["Environment"]["Variables"],
                       "SENTINEL_NOTIFY_WEBHOOK_URL", {"Ref": "NotifyWebhookUrl"}),
    ],
    "org-policy-size": lambda t: stmt(t, GUARD, "SERVICE_CONTROL_POLICY", "SessionTableChangedOnlyByDeployers")
    ["NotAction"].extend(f"dynamodb:Padding{i:04d}" for i in range(400)),
    "proxy-invoke-guard": [
        lambda t: _set(proxy_guard_statement(t, "ProxyInvokedOnlyViaFunctionUrl"), "Condition",
                       {"BoolIfExists": {"lambda:InvokedViaFunctionUrl": "false"},
                        "ArnNotLike": {"aws:PrincipalArn": {"Ref": "DeployerArns"}}}),
        lambda t: _set(proxy_guard_statement(t, "ProxyInvokedOnlyViaFunctionUrl"), "Resource",
                       {"Ref": "ProxyFunctionArns"}),
        lambda t: _set(proxy_guard_statement(t, "ProxyInvokedOnlyViaFunctionUrl"), "Action",
                       ["lambda:InvokeAsync"]),
        lambda t: _set(t[GUARD]["Resources"]["ProxyGuardScp"], "Condition", "HasProxyRoles"),
        lambda t: unwrap(t, "ProxyInvokedOnlyViaFunctionUrl"),
    ],
    "proxy-change-guard": [
        lambda t: proxy_guard_statement(t, "ProxyFunctionsChangedOnlyByDeployers")["NotAction"].append(
            "lambda:UpdateFunctionCode"),
        lambda t: proxy_guard_statement(t, "ProxyExecutionRolesChangedOrPassedOnlyByDeployers")["NotAction"].append(
            "iam:PassRole"),
        lambda t: _set(proxy_guard_statement(t, "ProxyExecutionRolesAssumedOnlyByLambda"), "Condition",
                       {"ArnNotLike": {"aws:PrincipalArn": {"Ref": "DeployerArns"}}}),
        lambda t: _set(t[GUARD]["Resources"]["ProxyGuardScp"], "Condition", "HasProxyFunctions"),
        lambda t: unwrap(t, "ProxyExecutionRolesAssumedOnlyByLambda"),
    ],
    # A list: every mutation must make the check fail (one per way the check can catch).
    "proxy-url-auth": lambda t: _set(t[PROXY]["Resources"]["ProxyFunctionUrl"]["Properties"], "AuthType", "NONE"),
    "proxy-permissions": [
        lambda t: t[PROXY]["Resources"]["ProxyInvokePermission1"]["Properties"].pop("InvokedViaFunctionUrl"),
        lambda t: t[PROXY]["Resources"]["ProxyOrgUrlPermission"]["Properties"].pop("FunctionUrlAuthType"),
        lambda t: _set(t[PROXY]["Resources"]["ProxyUrlPermission2"]["Properties"], "Action", "lambda:GetFunction"),
        lambda t: t[PROXY]["Resources"].pop("ProxyInvokePermission3"),
    ],
    "proxy-principal": lambda t: t[PROXY]["Resources"]["ProxyOrgInvokePermission"]["Properties"].pop("PrincipalOrgID"),
    "proxy-ssm": [
        lambda t: _set(proxy_statement(t, "ReadOwnParameters"), "Action",
                       ["ssm:GetParameters", "ssm:GetParametersByPath"]),
        lambda t: _set(proxy_statement(t, "ReadOwnParameters"), "Resource", "*"),
        lambda t: _set(proxy_statement(t, "ReadOwnParameters"), "Resource", [
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${PolicyParameter}*"}]),
        lambda t: _set(t[PROXY]["Resources"]["ProxyExecutionRole"]["Properties"], "ManagedPolicyArns",
                       [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMReadOnlyAccess"}]),
    ],
    "proxy-kms-logs": [
        lambda t: proxy_statement(t, "DecryptOwnParametersThroughSsm").pop("Condition"),
        lambda t: _set(proxy_statement(t, "WriteOwnLogs"), "Resource", "*"),
    ],
    "proxy-vpc": lambda t: t[PROXY]["Resources"]["ProxyFunction"]["Properties"].pop("VpcConfig"),
    "proxy-security-group": [
        lambda t: _set(t[PROXY]["Resources"]["ProxySecurityGroup"]["Properties"], "SecurityGroupIngress",
                       [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}]),
        lambda t: _set(t[PROXY]["Resources"], "ProxyIngress", {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"GroupId": {"Fn::GetAtt": ["ProxySecurityGroup", "GroupId"]}, "IpProtocol": "-1",
                           "CidrIp": "0.0.0.0/0"}}),
        lambda t: _set(t[PROXY]["Resources"]["ProxySecurityGroup"]["Properties"]["SecurityGroupEgress"][0],
                       "ToPort", 65535),
    ],
    "proxy-timeout": lambda t: _set(t[PROXY]["Parameters"]["TimeoutMs"], "MaxValue", 60000),
    "proxy-rules": [
        lambda t: t[PROXY]["Rules"].pop("ExistingVpcNeedsNetwork"),
        lambda t: t[PROXY]["Rules"].pop("SomeoneMayCall"),
    ],
    "proxy-parameter-names": lambda t: _set(t[PROXY]["Parameters"]["PolicyParameter"], "AllowedPattern",
                                            "^/[A-Za-z0-9_./-]+$"),
}

# ------------------------------------------------------------------ main


def load(directory):
    directory = Path(directory)
    templates = {p.name: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}
    cn = directory / "aws-cn"
    templates["aws-cn"] = {p.name: json.loads(p.read_text()) for p in sorted(cn.glob("*.json"))}
    for required in (TVM, ROLE, GUARD, PROXY):
        if required not in templates:
            raise SystemExit(f"check-deploy-iam: {directory / required} is missing (run transform_templates.py)")
    return templates


def self_test(templates):
    failed = False
    for check_id, _, check in CHECKS:
        mutations = MUTATIONS[check_id]
        mutations = mutations if isinstance(mutations, list) else [mutations]
        check_failed = False
        for number, mutate in enumerate(mutations, 1):
            which = f" (mutation {number} of {len(mutations)})" if len(mutations) > 1 else ""
            mutated = copy.deepcopy(templates)
            mutate(mutated)
            if mutated == templates:
                print(f"self-test FAIL {check_id}{which}: the mutation changed nothing", file=sys.stderr)
                check_failed = True
            elif not check(mutated):
                print(f"self-test FAIL {check_id}{which}: still passes on a template mutated to break it",
                      file=sys.stderr)
                check_failed = True
        if not check_failed:
            copies = "copy" if len(mutations) == 1 else f"{len(mutations)} copies"
            print(f"self-test ok   {check_id}: fails on the mutated {copies}")
        failed = failed or check_failed
    return not failed


def main(argv):
    args = [a for a in argv[1:] if a != "--self-test"]
    if len(args) != 1:
        raise SystemExit(__doc__.strip().splitlines()[2])
    templates = load(args[0])
    ok = True
    if "--self-test" in argv[1:]:
        ok = self_test(templates)
    for check_id, description, check in CHECKS:
        problems = check(templates)
        print(f"{'ok  ' if not problems else 'FAIL'} {check_id}: {description}")
        for problem in problems:
            print(f"     {problem}", file=sys.stderr)
        ok = ok and not problems
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
