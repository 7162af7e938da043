"""Deploys a CloudFormation template to moto and prints the roles it made, resolved, as JSON.

For the IAM test: the roles template (docs/iam/roles.cfn.yml) must resolve to the policy
documents it is generated from. Usage: cfn_stack.py ENDPOINT REGION TEMPLATE STACK PARAMS_JSON
"""

import ast
import json
import sys

import boto3


def document(value):
    # moto hands inline policies back as the repr of a dict, AWS as JSON (or URL-encoded JSON).
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return ast.literal_eval(value)


def main() -> None:
    endpoint, region, template, stack, params = sys.argv[1:6]
    session = dict(
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    cfn = boto3.client("cloudformation", **session)
    iam = boto3.client("iam", **session)
    with open(template, encoding="utf-8") as handle:
        body = handle.read()
    cfn.create_stack(
        StackName=stack,
        TemplateBody=body,
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in json.loads(params).items()],
    )
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    roles = {}
    for resource in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]:
        if resource["ResourceType"] != "AWS::IAM::Role":
            continue
        name = resource["PhysicalResourceId"]
        role = iam.get_role(RoleName=name)["Role"]
        policies = {
            policy: document(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        roles[resource["LogicalResourceId"]] = {
            "name": name,
            "trust": document(role["AssumeRolePolicyDocument"]),
            "policies": policies,
        }
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    print(json.dumps({"status": described["StackStatus"], "roles": roles, "outputs": outputs}))


if __name__ == "__main__":
    main()
