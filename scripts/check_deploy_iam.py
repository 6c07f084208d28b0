#!/usr/bin/env python3
"""Asserts the IAM facts of deploy/ on the templates as CloudFormation would deploy them.

usage: check_deploy_iam.py [--self-test] RENDERED_DIR

RENDERED_DIR holds the output of scripts/transform_templates.py (SAM transform applied) for
a commercial region, and RENDERED_DIR/aws-cn the same templates rendered for a China
region (used to prove that no ARN has a hard-coded partition). Every check prints one line;
any failure exits 1. --self-test first mutates a copy of the templates once per check, in
the way the check exists to catch, and fails unless that check then fails: a check that
cannot fail proves nothing. Offline; needs only the standard library.
"""

import copy
import json
import re
import sys
from pathlib import Path

TVM = "deploy--template.json"
ROLE = "deploy--protected-role.json"
GUARD = "deploy--org-guardrails.json"
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


# --- a small evaluator, enough for org-guardrails.yaml, to measure the policies' real size

EXAMPLE = {
    "AWS::Partition": "aws-us-gov",
    "TvmFunctionArn": "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:" + "s" * 64,
    "AuthorizerFunctionArn": "arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:" + "a" * 64,
    "TvmExecutionRoleArn": "arn:aws-us-gov:iam::111122223333:role/" + "r" * 64,
    "SessionTableArn": "arn:aws-us-gov:dynamodb:us-gov-west-1:111122223333:table/" + "t" * 64,
    "PolicyRoot": "/" + "p" * 63,
    "ProtectedRolePrefix": "P" * 32,
    "DeployerArns": ["arn:aws-us-gov:iam::*:role/" + "d" * 64] * 3,
    "PolicyAdminArns": ["arn:aws-us-gov:iam::111122223333:role/" + "m" * 64] * 3,
    "BreakGlassRoleArn": "arn:aws-us-gov:iam::*:role/" + "b" * 64,
    "TargetIds": [""],
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
    ("org-policy-size", f"every SCP/RCP stays under {SCP_MAX_CHARS} characters", check_org_policy_size),
]

# ------------------------------------------------------------------ self-test mutations


def stmt(t, name, policy_type, sid):
    for res in resources(t[GUARD], "AWS::Organizations::Policy").values():
        if res["Properties"]["Type"] == policy_type:
            for st in statements(res["Properties"]["Content"]):
                if st.get("Sid") == sid:
                    return st
    raise KeyError(sid)


def trust_statement(t, principal_param):
    trust = t[ROLE]["Resources"]["ProtectedRole"]["Properties"]["AssumeRolePolicyDocument"]
    return next(s for s in statements_in(trust) if s.get("Principal", {}).get("AWS") == {"Ref": principal_param})


def _set(d, key, value):
    d[key] = value


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
    "org-policy-size": lambda t: stmt(t, GUARD, "SERVICE_CONTROL_POLICY", "SessionTableChangedOnlyByDeployers")
    ["NotAction"].extend(f"dynamodb:Padding{i:04d}" for i in range(400)),
}

# ------------------------------------------------------------------ main


def load(directory):
    directory = Path(directory)
    templates = {p.name: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}
    cn = directory / "aws-cn"
    templates["aws-cn"] = {p.name: json.loads(p.read_text()) for p in sorted(cn.glob("*.json"))}
    for required in (TVM, ROLE, GUARD):
        if required not in templates:
            raise SystemExit(f"check-deploy-iam: {directory / required} is missing (run transform_templates.py)")
    return templates


def self_test(templates):
    failed = False
    for check_id, _, check in CHECKS:
        mutated = copy.deepcopy(templates)
        MUTATIONS[check_id](mutated)
        if mutated == templates:
            print(f"self-test FAIL {check_id}: the mutation changed nothing", file=sys.stderr)
            failed = True
        elif not check(mutated):
            print(f"self-test FAIL {check_id}: still passes on a template mutated to break it", file=sys.stderr)
            failed = True
        else:
            print(f"self-test ok   {check_id}: fails on the mutated copy")
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
