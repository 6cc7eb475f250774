"""The laptop stack's moto reads a Query's partition by key (`local.aws_endpoint.indexed_dynamodb_queries`):
the answers must be moto's own — checked against a brute-force filter of a Scan after random writes of
every kind (PutItem, UpdateItem changing an index key in place, DeleteItem, BatchWriteItem,
TransactWriteItems, a cancelled transaction)."""
from __future__ import annotations

import random

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key

from local.aws_endpoint import indexed_dynamodb_queries


@pytest.fixture
def table(aws):
    indexed_dynamodb_queries()
    ddb = boto3.resource("dynamodb", region_name="cn-north-1")
    return ddb.create_table(
        TableName="things",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "gs")],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                {"AttributeName": "gs", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "by_g_only", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST")


def query_all(table, **kwargs) -> list[dict]:
    got, start = [], {}
    while True:
        page = table.query(Limit=3, **kwargs, **start)
        got += page["Items"]
        if "LastEvaluatedKey" not in page:
            return got
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def expected(items: list[dict], attr: str, value: str, order: tuple[str, ...]) -> list[tuple]:
    return sorted(tuple(i.get(a) for a in order) for i in items if i.get(attr) == value)


def test_queries_answer_as_a_brute_force_filter_after_every_kind_of_write(table):
    rng = random.Random(7)
    client = table.meta.client
    for round_ in range(12):
        for _ in range(25):
            pk, sk = f"p{rng.randrange(6)}", f"s{rng.randrange(20):02d}"
            kind = rng.randrange(6)
            if kind <= 1:
                item = {"pk": pk, "sk": sk}
                if rng.random() < 0.8:  # some items stay out of the indexes (sparse)
                    item |= {"g": f"g{rng.randrange(4)}", "gs": f"{rng.randrange(100):03d}"}
                table.put_item(Item=item)
            elif kind == 2:
                table.update_item(Key={"pk": pk, "sk": sk}, UpdateExpression="SET g = :g, gs = :s",
                                  ExpressionAttributeValues={":g": f"g{rng.randrange(4)}", ":s": f"{rng.randrange(100):03d}"})
            elif kind == 3:
                table.delete_item(Key={"pk": pk, "sk": sk})
            elif kind == 4:
                with table.batch_writer() as batch:
                    batch.put_item(Item={"pk": pk, "sk": sk + "b", "g": "g1", "gs": "050"})
                    batch.delete_item(Key={"pk": f"p{rng.randrange(6)}", "sk": f"s{rng.randrange(20):02d}"})
            else:
                ops = [{"Update": {"TableName": "things", "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                                   "UpdateExpression": "SET g = :g", "ExpressionAttributeValues": {":g": {"S": "g2"}}}}]
                if rng.random() < 0.5:  # a cancelled transaction changes nothing
                    ops.append({"ConditionCheck": {"TableName": "things", "Key": {"pk": {"S": "none"}, "sk": {"S": "x"}},
                                                   "ConditionExpression": "attribute_exists(pk)"}})
                try:
                    client.transact_write_items(TransactItems=ops)
                except client.exceptions.TransactionCanceledException:
                    pass
        items = table.scan(ConsistentRead=True)["Items"]
        for p in range(6):
            got = query_all(table, KeyConditionExpression=Key("pk").eq(f"p{p}"))
            assert [(i["pk"], i["sk"]) for i in got] == expected(items, "pk", f"p{p}", ("pk", "sk")), round_
            tail = table.query(KeyConditionExpression=Key("pk").eq(f"p{p}") & Key("sk").gt("s10"),
                               ScanIndexForward=False)["Items"]
            assert [i["sk"] for i in tail] == sorted((i["sk"] for i in items if i["pk"] == f"p{p}" and i["sk"] > "s10"),
                                                    reverse=True)
        for g in range(4):
            got = query_all(table, IndexName="by_g", KeyConditionExpression=Key("g").eq(f"g{g}"))
            assert sorted((i["gs"], i["pk"], i["sk"]) for i in got) == expected(items, "g", f"g{g}", ("gs", "pk", "sk"))
            assert [i["gs"] for i in got] == sorted(i["gs"] for i in got)
            ranged = table.query(IndexName="by_g", KeyConditionExpression=Key("g").eq(f"g{g}") & Key("gs").between("020", "060"),
                                 FilterExpression=Attr("pk").ne("p0"))["Items"]
            assert sorted((i["pk"], i["sk"]) for i in ranged) == sorted(
                (i["pk"], i["sk"]) for i in items if i.get("g") == f"g{g}" and "020" <= i["gs"] <= "060" and i["pk"] != "p0")
            only = query_all(table, IndexName="by_g_only", KeyConditionExpression=Key("g").eq(f"g{g}"))
            assert sorted((i["pk"], i["sk"]) for i in only) == sorted(
                (i["pk"], i["sk"]) for i in items if i.get("g") == f"g{g}")
    assert table.query(KeyConditionExpression=Key("pk").eq("nobody"))["Items"] == []


def test_an_unknown_index_is_still_moto_s_own_error(table):
    with pytest.raises(table.meta.client.exceptions.ClientError, match="Invalid index"):
        table.query(IndexName="by_nothing", KeyConditionExpression=Key("g").eq("g1"))
