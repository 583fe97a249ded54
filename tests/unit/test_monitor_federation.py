"""`egovnet monitor config --layout national|city` and `--exporter-shards`: every Prometheus
config and rules file it writes is accepted by promtool, every device is scraped by exactly
one shard (with its province as external label), the national Prometheus federates every
shard, the new rules pass their promtool unit tests, and a layout that does not fit the
inventory is bad input.

promtool comes with Debian's prometheus package; in CI (`CI` set) its absence fails these
tests instead of skipping them (as in test_monitor_config).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.console import egovnet
from tests.unit.test_monitor_config import PROMTOOL_TESTS, run, tool

PROMTOOL = Path(__file__).resolve().parent / "promtool"
NATIONAL_TESTS = PROMTOOL / "egov_national_test.yml"
SUMMARY_TESTS = PROMTOOL / "egov_shard_summary_test.yml"


def generate(directory: Path, provinces: int) -> Path:
    """A generated inventory: `provinces` provinces of 2 cities of 2 counties."""
    done = egovnet(
        "inventory",
        "generate",
        *("--provinces", str(provinces), "--cities", "2", "--counties", "2"),
        *("--departments", "1", "-o", str(directory)),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return directory


def configure(inventory: Path | None, directory: Path, *options: str) -> dict[str, Any]:
    done = egovnet(
        "monitor", "config", "-o", str(directory), "--json", *options, inventory=inventory
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def targets(path: Path) -> dict[str, dict[str, str]]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {e["targets"][0]: e["labels"] for e in entries}


@pytest.fixture(scope="module")
def national_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("national-inventory"), 3)


@pytest.fixture(scope="module")
def national(national_inventory: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("national")
    plan = configure(
        national_inventory, directory, "--layout", "national", "--exporter-shards", "2"
    )
    (directory / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    return directory


def plan_of(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "plan.json").read_text(encoding="utf-8"))
    return document


def test_every_prometheus_of_the_layout_passes_promtool(national: Path) -> None:
    instances = plan_of(national)["prometheus"]
    assert [i["name"] for i in instances] == [
        "national",
        "national-core",
        "hebei-core",
        "shanxi-core",
        "neimenggu-core",
    ]
    for instance in instances:
        config = Path(instance["config"])
        checked = run(tool("promtool"), "check", "config", config.name, cwd=config.parent)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        rules = read_yaml(config)["rule_files"]
        checked = run(tool("promtool"), "check", "rules", *rules, cwd=config.parent)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert instance["argv"][:2] == ["prometheus", f"--config.file={config}"]
    assert len({i["listen"] for i in instances}) == len(instances)


def test_each_device_is_scraped_by_one_shard_labelled_with_its_province(
    national: Path, national_inventory: Path
) -> None:
    hosts = yaml.safe_load((national_inventory / "hosts.yaml").read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for shard in plan_of(national)["shards"]:
        home = national / "shards" / shard["name"]
        config = read_yaml(home / "prometheus.yml")
        province = config["global"]["external_labels"].get("province")
        assert shard["labels"] == ({"province": province} if province else {})
        for host, labels in targets(home / "targets" / "snmp.json").items():
            assert host not in seen, f"{host} in {seen.get(host)} and {shard['name']}"
            seen[host] = shard["name"]
            assert labels.get("province") == province
    assert set(seen) == set(hosts)
    assert seen["national-core"] == "national-core"
    assert seen["hebei-c01-k02"] == "hebei-core"


def test_the_national_prometheus_federates_every_shard_and_scrapes_no_device(
    national: Path,
) -> None:
    config = read_yaml(national / "prometheus.yml")
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/federate"
    assert job["honor_labels"] is True
    assert "egov_snmp_up" in job["params"]["match[]"]
    assert '{__name__=~"egov:.+"}' in job["params"]["match[]"]
    federated = targets(national / "targets" / "federate.json")
    shards = plan_of(national)["shards"]
    assert {labels["shard"] for labels in federated.values()} == {s["name"] for s in shards}
    by_shard = {labels["shard"]: labels for labels in federated.values()}
    assert by_shard["hebei-core"] == {"shard": "hebei-core", "province": "河北省"}
    assert by_shard["national-core"] == {"shard": "national-core"}


def test_exporter_shards_split_the_snmp_job_by_hashmod(national: Path) -> None:
    config = read_yaml(national / "shards" / "hebei-core" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {"egov_snmp_0", "egov_snmp_1"} <= set(jobs)
    assert "egov_snmp" not in jobs
    for shard in (0, 1):
        hashmod, keep, *_, address = jobs[f"egov_snmp_{shard}"]["relabel_configs"]
        assert hashmod == {
            "source_labels": ["__address__"],
            "modulus": 2,
            "target_label": "__tmp_exporter_shard",
            "action": "hashmod",
        }
        assert keep["regex"] == str(shard)
        assert keep["action"] == "keep"
        assert address["target_label"] == "__address__"
    exporters = [j["relabel_configs"][-1]["replacement"] for n, j in jobs.items() if "snmp" in n]
    assert jobs["egov_exporter"]["static_configs"] == [{"targets": exporters}]


def test_the_national_rules_pass_their_promtool_unit_tests(national: Path) -> None:
    shutil.copy(NATIONAL_TESTS, national / NATIONAL_TESTS.name)
    tested = run(tool("promtool"), "test", "rules", NATIONAL_TESTS.name, cwd=national)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_shards_rules_pass_the_summary_and_every_alert_test(
    national_inventory: Path, tmp_path: Path
) -> None:
    """Production timings, which the `for:` durations of the unit tests are written for; a
    shard alerts on its devices exactly as the single Prometheus does."""
    configure(national_inventory, tmp_path, "--layout", "national", "--profile", "production")
    home = tmp_path / "shards" / "hebei-core"
    for tests in (SUMMARY_TESTS, PROMTOOL_TESTS):
        shutil.copy(tests, home / tests.name)
        tested = run(tool("promtool"), "test", "rules", tests.name, cwd=home)
        assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_national_alert_has_a_unit_test(national: Path) -> None:
    rules = read_yaml(national / "rules" / "national.rules.yml")
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    tests = read_yaml(NATIONAL_TESTS)["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert (
        alerts
        == firing
        == {
            "EgovShardPrometheusDown",
            "EgovShardBlind",
            "EgovShardManyDevicesUnreachable",
        }
    )


def test_one_province_splits_by_city(tmp_path: Path) -> None:
    """The sample (Hebei): its province cores and exit in one shard, each city (with its
    counties) in its own, labelled with province and city."""
    plan = configure(None, tmp_path, "--layout", "city")
    shards = {s["name"]: s for s in plan["shards"]}
    assert set(shards) == {"hebei-core", "shijiazhuang", "tangshan", "baoding"}
    assert shards["hebei-core"]["labels"] == {"province": "河北省"}
    assert shards["shijiazhuang"]["labels"] == {"province": "河北省", "city": "石家庄市"}
    assert sum(s["devices"] for s in shards.values()) == 13
    for instance in plan["prometheus"]:
        config = Path(instance["config"])
        checked = run(tool("promtool"), "check", "config", config.name, cwd=config.parent)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_human_output_says_how_to_start_each_prometheus(
    national_inventory: Path, tmp_path: Path
) -> None:
    done = egovnet(
        "monitor", "config", "-o", str(tmp_path), "--layout", "national",
        inventory=national_inventory,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    starts = [line for line in done.stdout.splitlines() if line.startswith("prometheus ")]
    assert len(starts) == 5
    assert f"--config.file={tmp_path / 'shards' / 'hebei-core' / 'prometheus.yml'}" in "\n".join(
        starts
    )
    assert sum(" exporter --listen " in line for line in done.stdout.splitlines()) == 4


def test_the_single_layout_is_the_default_and_unchanged_by_one_exporter(tmp_path: Path) -> None:
    plan = configure(None, tmp_path)
    assert plan["layout"] == "single"
    jobs = [j["job_name"] for j in read_yaml(tmp_path / "prometheus.yml")["scrape_configs"]]
    assert jobs == ["egov_snmp", "egov_exporter", "egov_isolation"]
    assert not (tmp_path / "shards").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--layout", "national"], "--layout national needs several"),
        (["--layout", "regional"], "unknown layout 'regional'"),
        (["--exporter-shards", "0"], "--exporter-shards 0: at least 1"),
    ],
)
def test_a_layout_that_does_not_fit_is_bad_input(
    tmp_path: Path, options: list[str], message: str
) -> None:
    done = egovnet("monitor", "config", "-o", str(tmp_path), *options)
    assert done.returncode == 2
    assert message in done.stderr
