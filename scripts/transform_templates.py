#!/usr/bin/env python3
"""Renders CloudFormation templates as the JSON CloudFormation would deploy.

usage: transform_templates.py [--region R] OUT_DIR TEMPLATE...

Each TEMPLATE (YAML or JSON, short-form intrinsics allowed) is written to
OUT_DIR/<path with "/" replaced by "--">.json. Templates with the
AWS::Serverless-2016-10-31 transform are expanded with AWS's own SAM translator
(aws-sam-translator), offline: local CodeUri paths are replaced by a placeholder S3
location first, as `sam package` would, and no managed policy is looked up (none of our
templates names one). Other templates are written as they are. Exits non-zero with the
translator's message when a template does not transform.
"""

import json
import sys
from pathlib import Path

import boto3
from cfnlint.decode import decode
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.model.exceptions import InvalidDocumentException

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
PLACEHOLDER_CODE = "s3://sentinel-artifacts-placeholder/code.zip"
# The translator needs a region: it writes the partition of that region into the few ARNs
# it generates itself (CloudFormation's own transform does the same with the stack's
# region). --region cn-north-1 renders for the aws-cn partition, which is how
# check_deploy_iam.py proves that no ARN of ours has a hard-coded partition. Creating a
# session makes no call.
DEFAULT_REGION = "us-east-1"


class NoManagedPolicies:
    """Stands in for the IAM lookup of managed policy names (offline)."""

    def load(self):
        return {}


def is_sam(template):
    transform = template.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in names


def packaged(template):
    """Replaces local CodeUri paths with an S3 location, as `sam package` does."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            props = resource.setdefault("Properties", {})
            code = props.get("CodeUri")
            if isinstance(code, str) and not code.startswith("s3://"):
                props["CodeUri"] = PLACEHOLDER_CODE
    return template


def to_plain(value):
    """cfn-lint's decoder returns str/dict/list subclasses with line marks; json wants plain."""
    return json.loads(json.dumps(value))


def transform(path, region):
    template, matches = decode(str(path))
    if matches:
        raise SystemExit(f"transform: {path}: cannot parse: {matches[0]}")
    template = to_plain(template)
    if not is_sam(template):
        return template
    session = boto3.session.Session(region_name=region)
    translator = Translator(NoManagedPolicies().load(), Parser(), boto_session=session)
    try:
        return translator.translate(packaged(template), parameter_values={})
    except InvalidDocumentException as error:
        causes = "; ".join(cause.message for cause in error.causes)
        raise SystemExit(f"transform: {path}: the SAM transform fails: {causes}")


def out_name(path):
    return str(path).replace("/", "--").rsplit(".", 1)[0] + ".json"


def main(argv):
    args = argv[1:]
    region = DEFAULT_REGION
    if args[:1] == ["--region"] and len(args) > 1:
        region, args = args[1], args[2:]
    if len(args) < 2:
        raise SystemExit(__doc__.strip().splitlines()[2])
    out_dir = Path(args[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in args[1:]:
        rendered = transform(Path(name), region)
        (out_dir / out_name(name)).write_text(json.dumps(rendered, indent=2, sort_keys=True) + "\n")
        print(f"transform: {name} -> {out_dir / out_name(name)} ({region})")


if __name__ == "__main__":
    main(sys.argv)
