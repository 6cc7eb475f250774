"""The deployable template and the Lambda zips: derived from the models, lint-clean, small, runtime-only."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from importlib.util import MAGIC_NUMBER, source_hash
from pathlib import Path

import pytest

from tools import gen_resources, precompile

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("moto/", "pytest/", "_pytest/", "chalice/cli/", "chalice/deploy/", "chalice/pipeline",
             "cfnlint/", "boto3/")
MAX_BYTES = 32 * 1024 * 1024  # of Lambda's 50 MB; bytecode (tools/precompile.py) is ~5 MB of it


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """What `make package` builds: chalice's SAM template merged with the generated resources."""
    work = tmp_path_factory.mktemp("package")
    resources = work / "resources.prod.json"
    assert gen_resources.main(["--stage", "prod", "--out", str(resources)]) == 0
    env = {**os.environ, "AWS_DEFAULT_REGION": "cn-north-1"}
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run([str(chalice), "package", "--stage", "prod", "--merge-template", str(resources),
                    str(work / "out")], cwd=ROOT, env=env, check=True, capture_output=True)
    assert precompile.main([str(work / "out" / "deployment.zip"), str(work / "out" / "layer-deployment.zip")]) == 0
    return work / "out"


def test_the_policy_file_is_generated_from_the_registries():
    assert gen_resources.main(["--check"]) == 0


def test_queues_have_dead_letter_queues_and_partial_batch_failure(package):
    template = json.loads((package / "sam.json").read_text())
    resources = template["Resources"]
    stats = resources["StatsQueue"]["Properties"]
    assert stats["QueueName"] == "wechat-alliance-prod-stats"
    assert stats["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["StatsDeadLetterQueue", "Arn"]}
    source = resources["StatsWorker"]["Properties"]["Events"]["StatsWorkerSqsEventSource"]["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["Queue"]["Fn::Sub"].endswith(":wechat-alliance-prod-stats")  # Chalice's ARN names our queue
    assert template["Globals"]["Function"]["Environment"]["Variables"]["QUEUE_URL_STATS"] == {"Ref": "StatsQueue"}
    assert resources["DailyStats"]["Properties"]["Events"]["DailyStatsEvent"]["Properties"]["Schedule"] == \
        "cron(30 0 * * ? *)"  # 08:30 Asia/Shanghai


def test_api_gateway_throttles_the_api_and_the_login_route(package):
    api = json.loads((package / "sam.json").read_text())["Resources"]["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    settings = {(m["ResourcePath"], m["HttpMethod"]): m for m in api["Properties"]["MethodSettings"]}
    assert settings[("/*", "*")]["ThrottlingRateLimit"] == gen_resources.API_THROTTLE["ThrottlingRateLimit"]
    login = settings[("/~1api~1v1~1auth~1login", "POST")]
    assert login["ThrottlingRateLimit"] <= 5 and login["ThrottlingBurstLimit"] <= 20


def test_every_table_has_keys_recovery_and_encryption():
    template, policy = gen_resources.build("prod")
    tables = {k: v for k, v in template["Resources"].items() if v.get("Type") == "AWS::DynamoDB::Table"}
    assert len(tables) >= 10
    for props in (t["Properties"] for t in tables.values()):
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["KeySchema"][0]["KeyType"] == "HASH"
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TABLE_ACCOUNTS"] == {"Ref": "AccountsTable"}
    text = json.dumps(policy)
    assert "arn:aws:" not in text and "${AWS::Partition}" in text  # deploys in aws-cn too
    assert '"*"' not in json.dumps([s["Action"] for s in policy["Statement"]])  # no wildcard actions


def test_template_passes_the_makefiles_lint_with_no_finding_at_all(package):
    """`make package` lints with `make lint-template`; the test runs that very target: any finding fails."""
    assert "$(MAKE) --no-print-directory lint-template TEMPLATE=build/package/sam.json" in \
        (ROOT / "Makefile").read_text(encoding="utf-8")  # the package target lints through it
    result = subprocess.run(["make", "--no-print-directory", "-s", "lint-template",
                             f"TEMPLATE={package / 'sam.json'}"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_the_lint_target_fails_on_a_warning(tmp_path, package):
    """A template with only a warning (W3005, a redundant DependsOn) fails the Makefile's lint."""
    template = json.loads((package / "sam.json").read_text())
    template["Resources"]["StatsWorker"]["DependsOn"] = ["StatsQueue"]
    broken = tmp_path / "sam.json"
    broken.write_text(json.dumps(template))
    result = subprocess.run(["make", "--no-print-directory", "-s", "lint-template", f"TEMPLATE={broken}"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0 and "W3005" in result.stdout, result.stdout + result.stderr


def test_zips_hold_runtime_code_only_and_stay_small(package):
    zips = sorted(package.glob("*.zip"))
    assert {z.name for z in zips} == {"deployment.zip", "layer-deployment.zip"}
    names = [n for z in zips for n in zipfile.ZipFile(z).namelist()]
    leaked = sorted({f for n in names for f in FORBIDDEN if f"/{f}" in f"/{n}" or n.startswith(f)})
    assert not leaked, leaked
    assert any(n.endswith("pynamodb/models.py") for n in names)
    assert "app.py" in zipfile.ZipFile(package / "deployment.zip").namelist()
    assert not any(n.startswith(("tests/", "local/", "bench/", "tools/")) for n in names)
    assert sum(z.stat().st_size for z in zips) < MAX_BYTES


def test_the_zips_carry_bytecode_that_python_loads_without_compiling(package, tmp_path):
    """`make package` adds unchecked-hash bytecode (tools/precompile.py): a cold start reads it instead of
    compiling every module, and its code directory is read-only so it could never cache its own."""
    for name in ("deployment.zip", "layer-deployment.zip"):
        with zipfile.ZipFile(package / name) as zipped:
            names = set(zipped.namelist())
            sources = [n for n in names if n.endswith(".py")]
            missing = [n for n in sources if precompile.pyc_name(n) not in names]
            assert len(missing) <= len(sources) // 100, missing[:10]  # a few Python 2 data files at most
            for source in ("app.py", "chalicelib/domain/records.py") if name == "deployment.zip" else \
                    [n for n in sources if n.endswith("pynamodb/models.py")]:
                pyc = zipped.read(precompile.pyc_name(source))
                assert pyc[:4] == MAGIC_NUMBER and int.from_bytes(pyc[4:8], "little") == precompile.UNCHECKED_HASH
                assert pyc[8:16] == source_hash(zipped.read(source))
            zipped.extractall(tmp_path / name)
    # As Lambda lays them out: the function in /var/task, the layer's python/ on the path. Every source of
    # the platform is then broken: unchecked bytecode is used as it is, so `import app` still works.
    task, layer = tmp_path / "deployment.zip", tmp_path / "layer-deployment.zip"
    for source in (task / "app.py", *task.glob("chalicelib/**/*.py")):
        source.write_text("raise RuntimeError('compiled from source')\n")
    site = next(layer.glob("python/lib/python3.11/site-packages"))
    probe = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import app, pynamodb; "
             "print(app.__file__.startswith(sys.argv[1]), pynamodb.__file__.startswith(sys.argv[2]))")
    env = {**os.environ, "AWS_DEFAULT_REGION": "cn-north-1", "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-I", "-c", probe, str(task), str(site)], env=env, cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True"]
