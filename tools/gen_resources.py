"""The deployment template's own resources and the IAM policy, derived from the code's registries.

The PynamoDB models (`chalicelib.store.registry`) and the queue table (`chalicelib.queues`) are the one
home of tables and queues; the template is generated from them so the two cannot drift.

    python -m tools.gen_resources --stage prod --out build/resources.prod.json   # for `chalice package`
    python -m tools.gen_resources --policy        # rewrite .chalice/policy.json
    python -m tools.gen_resources --check         # exit 1 when .chalice/policy.json is stale
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / ".chalice" / "policy.json"


def logical_id(table: str) -> str:
    """`subdistricts` -> `SubdistrictsTable`."""
    return "".join(part.capitalize() for part in table.split("_")) + "Table"


def _keys(key_schema: list[dict]) -> list[dict]:
    return sorted(({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in key_schema),
                  key=lambda k: k["KeyType"] != "HASH")


def table_resource(model) -> dict:
    schema = model._get_schema()
    properties: dict = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": sorted(schema["attribute_definitions"], key=lambda a: a["AttributeName"]),
        "KeySchema": _keys(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    indexes = sorted(schema["global_secondary_indexes"], key=lambda i: i["index_name"])
    if indexes:
        properties["GlobalSecondaryIndexes"] = [
            {"IndexName": i["index_name"], "KeySchema": _keys(i["key_schema"]),
             "Projection": i["projection"]} for i in indexes]
    ttl = getattr(model.Meta, "ttl_attribute", None)
    if ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": properties}


def fixed_egress() -> dict:
    """An optional VPC whose Lambdas leave through one NAT gateway and Elastic IP (WeChat's IP whitelist)."""
    cond = {"Condition": "FixedEgress"}
    az0 = {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    return {
        "EgressVpc": {**cond, "Type": "AWS::EC2::VPC",
                      "Properties": {"CidrBlock": "10.40.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True}},
        "EgressInternetGateway": {**cond, "Type": "AWS::EC2::InternetGateway"},
        "EgressGatewayAttachment": {**cond, "Type": "AWS::EC2::VPCGatewayAttachment",
                                    "Properties": {"VpcId": {"Ref": "EgressVpc"},
                                                   "InternetGatewayId": {"Ref": "EgressInternetGateway"}}},
        "EgressPublicSubnet": {**cond, "Type": "AWS::EC2::Subnet",
                               "Properties": {"VpcId": {"Ref": "EgressVpc"}, "CidrBlock": "10.40.0.0/24",
                                              "AvailabilityZone": az0}},
        "EgressPrivateSubnet": {**cond, "Type": "AWS::EC2::Subnet",
                                "Properties": {"VpcId": {"Ref": "EgressVpc"}, "CidrBlock": "10.40.1.0/24",
                                               "AvailabilityZone": az0}},
        "EgressElasticIp": {**cond, "Type": "AWS::EC2::EIP", "DependsOn": "EgressGatewayAttachment",
                            "Properties": {"Domain": "vpc"}},
        "EgressNatGateway": {**cond, "Type": "AWS::EC2::NatGateway",
                             "Properties": {"AllocationId": {"Fn::GetAtt": ["EgressElasticIp", "AllocationId"]},
                                            "SubnetId": {"Ref": "EgressPublicSubnet"}}},
        "EgressPublicRoutes": {**cond, "Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "EgressVpc"}}},
        "EgressPublicDefaultRoute": {**cond, "Type": "AWS::EC2::Route", "DependsOn": "EgressGatewayAttachment",
                                     "Properties": {"RouteTableId": {"Ref": "EgressPublicRoutes"},
                                                    "DestinationCidrBlock": "0.0.0.0/0",
                                                    "GatewayId": {"Ref": "EgressInternetGateway"}}},
        "EgressPublicSubnetRoutes": {**cond, "Type": "AWS::EC2::SubnetRouteTableAssociation",
                                     "Properties": {"SubnetId": {"Ref": "EgressPublicSubnet"},
                                                    "RouteTableId": {"Ref": "EgressPublicRoutes"}}},
        "EgressPrivateRoutes": {**cond, "Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "EgressVpc"}}},
        "EgressPrivateDefaultRoute": {**cond, "Type": "AWS::EC2::Route",
                                      "Properties": {"RouteTableId": {"Ref": "EgressPrivateRoutes"},
                                                     "DestinationCidrBlock": "0.0.0.0/0",
                                                     "NatGatewayId": {"Ref": "EgressNatGateway"}}},
        "EgressPrivateSubnetRoutes": {**cond, "Type": "AWS::EC2::SubnetRouteTableAssociation",
                                      "Properties": {"SubnetId": {"Ref": "EgressPrivateSubnet"},
                                                     "RouteTableId": {"Ref": "EgressPrivateRoutes"}}},
        "EgressLambdaSecurityGroup": {**cond, "Type": "AWS::EC2::SecurityGroup",
                                      "Properties": {"GroupDescription": "Lambda functions: outbound only",
                                                     "VpcId": {"Ref": "EgressVpc"},
                                                     "SecurityGroupEgress": [{"IpProtocol": "-1",
                                                                              "CidrIp": "0.0.0.0/0"}]}},
    }


def queue_id(queue: str, dead_letter: bool = False) -> str:
    return queue.capitalize() + ("DeadLetterQueue" if dead_letter else "Queue")


def function_id(function: str) -> str:
    """Chalice's logical id of a function: `stats_worker` -> `StatsWorker`."""
    return "".join(part.capitalize() for part in function.split("_"))


def queue_resources(stage: str) -> dict:
    from chalicelib.config import APP_NAME
    from chalicelib.jobs import QUEUE_HANDLERS
    from chalicelib.queues import QUEUES

    resources: dict = {}
    for queue, spec in QUEUES.items():
        name = f"{APP_NAME}-{stage}-{queue}"  # chalicelib.queues.queue_name for that stage
        resources[queue_id(queue, True)] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": name + "-dlq", "MessageRetentionPeriod": 1209600,
                           "SqsManagedSseEnabled": True}}
        resources[queue_id(queue)] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": name, "VisibilityTimeout": spec.visibility_timeout_s,
                           "SqsManagedSseEnabled": True,
                           "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [queue_id(queue, True), "Arn"]},
                                             "maxReceiveCount": spec.max_receives}}}
        handler = function_id(QUEUE_HANDLERS[queue])
        # Merged into Chalice's own function resource: report partial batch failures. No DependsOn: the
        # function's QUEUE_URL_* variables (Globals) `Ref` the queue, which already orders the two (W3005).
        resources[handler] = {
            "Properties": {"Events": {f"{handler}SqsEventSource": {"Properties": {
                "FunctionResponseTypes": ["ReportBatchItemFailures"]}}}}}
    return resources


def build(stage: str = "prod"):
    """Return (resources, policy) as dicts."""
    from chalicelib.config import table_env_var
    from chalicelib.queues import QUEUES, url_env_var
    from chalicelib.store.registry import ALL_MODELS

    tables = {m.Meta.logical_name: m for m in ALL_MODELS}
    resources = {logical_id(name): table_resource(model) for name, model in tables.items()}
    resources.update(queue_resources(stage))
    resources.update(fixed_egress())
    variables = {table_env_var(name): {"Ref": logical_id(name)} for name in tables}
    for queue in QUEUES:
        variables[url_env_var(queue)] = {"Ref": queue_id(queue)}
        variables[url_env_var(queue) + "_DLQ"] = {"Ref": queue_id(queue, True)}
    template = {
        "Parameters": {
            "FixedEgress": {"Type": "String", "AllowedValues": ["true", "false"], "Default": "false",
                            "Description": "Send the functions' traffic through one NAT gateway and Elastic IP, "
                                           "so that WeChat's API IP whitelist can name it."},
        },
        "Conditions": {"FixedEgress": {"Fn::Equals": [{"Ref": "FixedEgress"}, "true"]}},
        "Globals": {"Function": {
            "Environment": {"Variables": variables},
            "VpcConfig": {"Fn::If": ["FixedEgress",
                                     {"SubnetIds": [{"Ref": "EgressPrivateSubnet"}],
                                      "SecurityGroupIds": [{"Ref": "EgressLambdaSecurityGroup"}]},
                                     {"Ref": "AWS::NoValue"}]},
        }},
        "Resources": resources,
        "Outputs": {"EgressIp": {"Condition": "FixedEgress", "Value": {"Ref": "EgressElasticIp"},
                                 "Description": "Add this address to each account's API IP whitelist"}},
    }
    def arns(names):
        out = []
        for name in names:
            out.append({"Fn::GetAtt": [logical_id(name), "Arn"]})
            out.append({"Fn::Sub": "${%s.Arn}/index/*" % logical_id(name)})
        return out

    append_only = [n for n, m in tables.items() if getattr(m.Meta, "append_only", False)]
    table_arns = arns(n for n in tables if n not in append_only)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Logs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"}},
            {"Sid": "Tables", "Effect": "Allow",
             "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                        "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                        "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"],
             "Resource": table_arns},
            {"Sid": "AuditTrailsAppendOnly", "Effect": "Allow",
             "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"],
             "Resource": arns(append_only)},
            {"Sid": "Queues", "Effect": "Allow",
             "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                        "sqs:GetQueueUrl", "sqs:ChangeMessageVisibility"],
             "Resource": [{"Fn::GetAtt": [queue_id(q, dlq), "Arn"]} for q in QUEUES for dlq in (False, True)]},
            {"Sid": "AccountSecrets", "Effect": "Allow",
             "Action": ["ssm:GetParameters", "ssm:GetParameter"],
             "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
                                     "/wechat-alliance/*"}},
            {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:alias/aws/ssm"}},
            {"Sid": "FixedEgressNetworking", "Effect": "Allow",
             "Action": ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                        "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses"],
             "Resource": "*"},
        ],
    }
    return template, policy


def render(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.gen_resources")
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", help="write the resources file for `chalice package --merge-template`")
    parser.add_argument("--policy", action="store_true", help="rewrite .chalice/policy.json")
    parser.add_argument("--check", action="store_true", help="fail when .chalice/policy.json is stale")
    args = parser.parse_args(argv)
    template, policy = build(args.stage)
    if args.check:
        if not POLICY.exists() or POLICY.read_text(encoding="utf-8") != render(policy):
            print("stale: .chalice/policy.json (run `make resources`)", file=sys.stderr)
            return 1
        return 0
    if args.policy:
        POLICY.write_text(render(policy), encoding="utf-8")
        print(f"wrote {POLICY.relative_to(ROOT)}")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(template), encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
