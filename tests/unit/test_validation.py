"""`egovnet inventory validate` on broken inventories: what the engineer is told, and where.

Every test starts from a copy of the sample inventory, makes one mistake in it (a string
replacement on the YAML text, or raw bytes), runs the CLI in-process and checks the exit code
and the problem line `FILE:LINE: host 'H': FIELD: MESSAGE`: file, line, host and field exactly,
the message by the words egovnet itself writes (pydantic's and PyYAML's wording is not pinned).
Line numbers are looked up in the edited text, so they follow the sample if it changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from egovnet.errors import InventoryError, Problem
from egovnet.loader import load_network

RunCli = Callable[[Sequence[str]], Result]  # the `run_cli` fixture of conftest.py

HOSTS, NETWORK, GROUPS = "hosts.yaml", "network.yaml", "groups.yaml"
SECRET_VALUE = "Hunter2-xyz"  # noqa: S105 - a planted plain-text secret that must not be echoed
ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEADER = re.compile(r"✗ (\d+) problems? in the inventory")


# ----------------------------------------------------------------------------- helpers


def edit(inventory: Path, name: str, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in inventory/name by `new`."""
    path = inventory / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_no(inventory: Path, name: str, needle: str) -> int:
    """1-based line on which the one occurrence of `needle` in inventory/name starts."""
    text = (inventory / name).read_text(encoding="utf-8")
    assert text.count(needle) == 1, f"{needle!r} occurs {text.count(needle)} times in {name}"
    return text[: text.index(needle)].count("\n") + 1


def at(file: Path, line: int | None, host: str | None = None, field: str | None = None) -> str:
    """The start of a problem line, as `Problem.__str__` lays it out."""
    where = f"{file}:{line}:" if line is not None else f"{file}:"
    who = f" host '{host}':" if host else ""
    what = f" {field}:" if field else ""
    return f"{where}{who}{what} "


def validate(run_cli: RunCli, inventory: Path, *extra: str) -> Result:
    return run_cli(["-i", str(inventory), "inventory", "validate", *extra])


def problem_lines(result: Result) -> list[str]:
    """The problem lines on stderr after checking exit code 2 and the count in the header."""
    assert result.exit_code == 2, result.output
    assert result.stdout == "", "problems belong on stderr"
    header, *lines = ANSI.sub("", result.stderr).splitlines()
    match = HEADER.fullmatch(header)
    assert match, f"unexpected header {header!r}"
    assert int(match[1]) == len(lines), result.stderr
    assert all(line.startswith("  ") for line in lines), result.stderr
    return [line.removeprefix("  ") for line in lines]


def expect(result: Result, prefix: str, *words: str, count: int | None = 1) -> str:
    """The one problem line that starts with `prefix` and contains every one of `words`.

    `count` is how many problems the run reports in all (None: do not check).
    """
    lines = problem_lines(result)
    listing = "\n".join(lines)
    if count is not None:
        assert len(lines) == count, f"expected {count} problem(s), got:\n{listing}"
    found = [line for line in lines if line.startswith(prefix) and all(w in line for w in words)]
    assert len(found) == 1, f"no single problem {prefix!r} + {words!r} in:\n{listing}"
    return found[0]


def json_problems(result: Result) -> list[dict[str, Any]]:
    """The problems of `--json` output after checking exit code 2 and that stdout is pure JSON."""
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is False
    problems: list[dict[str, Any]] = document["problems"]
    for problem in problems:
        assert set(problem) == {"file", "field", "message", "host", "line"}, problem
    return problems


# ----------------------------------------------------------------------------- valid input


def test_sample_is_valid_with_summary(run_cli: RunCli, sample_inventory: Path) -> None:
    result = validate(run_cli, sample_inventory)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert f"{sample_inventory}: 河北省电子政务外网 is valid: 13 nodes (" in result.stdout
    assert "2 province, 1 exit, 3 city, 7 county" in result.stdout


def test_sample_is_valid_json(run_cli: RunCli, sample_inventory: Path) -> None:
    result = validate(run_cli, sample_inventory, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert summary["nodes"] == 13
    assert summary["tiers"] == {"province": 2, "exit": 1, "city": 3, "county": 7}


# ----------------------------------------------------------------------------- files


def test_yaml_syntax_error_names_file_and_line(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, HOSTS, "    region: 石家庄市\n", "    region: 石家庄市: 市\n")
    line = line_no(inventory_copy, HOSTS, "石家庄市: 市")
    result = validate(run_cli, inventory_copy)
    expect(result, at(inventory_copy / HOSTS, line) + "YAML syntax error: ")


def test_yaml_syntax_error_json(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, HOSTS, "    region: 石家庄市\n", "    region: 石家庄市: 市\n")
    line = line_no(inventory_copy, HOSTS, "石家庄市: 市")
    [problem] = json_problems(validate(run_cli, inventory_copy, "--json"))
    assert problem["file"] == str(inventory_copy / HOSTS)
    assert (problem["line"], problem["host"], problem["field"]) == (line, None, "")
    assert problem["message"].startswith("YAML syntax error: ")


@pytest.mark.parametrize("content", [b"", b"# nothing here yet\n"], ids=["empty", "comment-only"])
def test_empty_hosts_file(run_cli: RunCli, inventory_copy: Path, content: bytes) -> None:
    (inventory_copy / HOSTS).write_bytes(content)
    result = validate(run_cli, inventory_copy)
    expect(result, at(inventory_copy / HOSTS, None) + "file is empty")


def test_hosts_file_without_hosts(run_cli: RunCli, inventory_copy: Path) -> None:
    (inventory_copy / HOSTS).write_bytes(b"{}\n")
    result = validate(run_cli, inventory_copy)
    expect(result, at(inventory_copy / HOSTS, None) + "no hosts defined")


def test_missing_hosts_file(run_cli: RunCli, inventory_copy: Path) -> None:
    (inventory_copy / HOSTS).unlink()
    result = validate(run_cli, inventory_copy)
    expect(result, at(inventory_copy / HOSTS, None) + "file is missing")


def test_missing_network_file(run_cli: RunCli, inventory_copy: Path) -> None:
    (inventory_copy / NETWORK).unlink()
    result = validate(run_cli, inventory_copy)
    expect(result, at(inventory_copy / NETWORK, None) + "file is missing")


def test_missing_network_file_json(run_cli: RunCli, inventory_copy: Path) -> None:
    (inventory_copy / NETWORK).unlink()
    problems = json_problems(validate(run_cli, inventory_copy, "--json"))
    assert problems == [
        {
            "file": str(inventory_copy / NETWORK),
            "field": "",
            "message": "file is missing",
            "host": None,
            "line": None,
        }
    ]


def test_non_utf8_hosts_file(run_cli: RunCli, inventory_copy: Path) -> None:
    """A region saved in GBK (a common Windows default in China) is refused with its line."""
    line = line_no(inventory_copy, HOSTS, "石家庄市")
    path = inventory_copy / HOSTS
    raw = path.read_bytes()
    path.write_bytes(raw.replace("石家庄市".encode(), "石家庄市".encode("gbk")))
    # GBK 石 is CA AF, which happens to be a valid UTF-8 pair; 家 (BC D2) is where it breaks
    offset = raw.index("石家庄市".encode()) + 2
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(path, line) + "not valid UTF-8",
        f"(byte 0xbc at offset {offset})",
        "save the file as UTF-8",
    )


# ----------------------------------------------------------------------------- keys


def test_unknown_host_key_suggests_the_right_one(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "    parent: baoding\n    slot: 2\n",
        "    parnet: baoding\n    slot: 2\n",
    )
    line = line_no(inventory_copy, HOSTS, "parnet: baoding")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "dingzhou", "data.parnet"),
        "unknown key 'parnet' (did you mean 'parent'?)",
    )


def test_unknown_network_key(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        NETWORK,
        "  uplinks_per_node: 2\n",
        "  uplinks_per_node: 2\n  uplink_per_node: 2\n",
    )
    line = line_no(inventory_copy, NETWORK, "uplink_per_node: 2")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / NETWORK, line, None, "address_plan.uplink_per_node"),
        "unknown key 'uplink_per_node' (did you mean 'uplinks_per_node'?)",
    )


def test_keepalive_above_a_third_of_hold(run_cli: RunCli, inventory_copy: Path) -> None:
    """FRR takes `timers bgp 4 9` without a word and keeps 3 9: a rollout of it could never
    make the running config match (it failed on the province core), so it is refused here."""
    edit(inventory_copy, NETWORK, "  keepalive: 3\n", "  keepalive: 4\n")
    line = line_no(inventory_copy, NETWORK, "  hold: 9")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / NETWORK, line, None, "routing.hold"),
        "hold must be at least 3 x keepalive (4 s)",
    )
    edit(inventory_copy, NETWORK, "  hold: 9\n", "  hold: 12\n")
    assert validate(run_cli, inventory_copy).exit_code == 0


def test_duplicate_host_name(run_cli: RunCli, inventory_copy: Path) -> None:
    first = line_no(inventory_copy, HOSTS, "zhuozhou:\n")
    second = line_no(inventory_copy, HOSTS, "zunhua:\n")
    edit(inventory_copy, HOSTS, "zunhua:\n", "zhuozhou:\n")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, second, "zhuozhou"),
        "duplicate host name: 'zhuozhou' is defined again here",
        f"(first on line {first})",
    )


# ----------------------------------------------------------------------------- addresses


def test_duplicate_hand_written_management_address(run_cli: RunCli, inventory_copy: Path) -> None:
    """One copy-and-paste mistake: both cores given the same management address."""
    for platform in ("huawei_vrp", "h3c_comware"):
        edit(
            inventory_copy,
            HOSTS,
            f"  platform: {platform}\n",
            f"  hostname: 10.64.8.50\n  platform: {platform}\n",
        )
    second = line_no(inventory_copy, HOSTS, "  hostname: 10.64.8.50\n  platform: h3c_comware")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, second, "hebei-core-2", "hostname"),
        "management address 10.64.8.50",
        "duplicates",
        "of 'hebei-core-1'",
    )


def test_loopback_duplicates_an_allocated_one(run_cli: RunCli, inventory_copy: Path) -> None:
    # qianan is allocated 10.64.0.73 (loopbacks pool + its leaf index)
    edit(
        inventory_copy,
        HOSTS,
        "    region: 遵化市\n",
        "    region: 遵化市\n    loopback: 10.64.0.73\n",
    )
    line = line_no(inventory_copy, HOSTS, "loopback: 10.64.0.73")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "zunhua", "data.loopback"),
        "loopback 10.64.0.73",
        "duplicates",
        "of 'qianan'",
    )


ZUNHUA_DEPARTMENT = (
    "    slot: 2\n"
    "    departments:\n"
    "      - {name: zhengwufuwu, zone: public, description: 市政务服务中心}\n"
)


def test_department_prefix_overlaps_an_allocated_subnet(
    run_cli: RunCli, inventory_copy: Path
) -> None:
    # qianan's zhengwufuwu is allocated 10.96.73.0/26
    edit(
        inventory_copy,
        HOSTS,
        ZUNHUA_DEPARTMENT,
        ZUNHUA_DEPARTMENT.replace("zone: public,", "zone: public, prefix: 10.96.73.0/25,"),
    )
    line = line_no(inventory_copy, HOSTS, "prefix: 10.96.73.0/25")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "zunhua", "data.departments.0.prefix"),
        "department 'zhengwufuwu' 10.96.73.0/25 of 'zunhua' overlaps",
        "10.96.73.0/26 of 'qianan'",
    )


# ----------------------------------------------------------------------------- the tree


def test_parent_is_not_a_host(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "    parent: baoding\n    slot: 2\n",
        "    parent: baodin\n    slot: 2\n",
    )
    line = line_no(inventory_copy, HOSTS, "parent: baodin\n")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "dingzhou", "data.parent"),
        "parent 'baodin' is not a host in hosts.yaml (did you mean 'baoding'?)",
    )


def test_parent_is_not_a_host_json(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "    parent: baoding\n    slot: 2\n",
        "    parent: baodin\n    slot: 2\n",
    )
    line = line_no(inventory_copy, HOSTS, "parent: baodin\n")
    problems = json_problems(validate(run_cli, inventory_copy, "--json"))
    assert problems == [
        {
            "file": str(inventory_copy / HOSTS),
            "field": "data.parent",
            "message": "parent 'baodin' is not a host in hosts.yaml (did you mean 'baoding'?)",
            "host": "dingzhou",
            "line": line,
        }
    ]


def test_county_under_a_county(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "    parent: baoding\n    slot: 2\n",
        "    parent: zhuozhou\n    slot: 2\n",
    )
    line = line_no(inventory_copy, HOSTS, "parent: zhuozhou")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "dingzhou", "data.parent"),
        "a county must hang under a city, but parent 'zhuozhou' is a county",
    )


def test_city_under_a_county(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "    region: 保定市\n    parent: hebei-core-1\n    uplinks: [hebei-core-2]\n",
        "    region: 保定市\n    parent: zhengding\n",
    )
    line = line_no(inventory_copy, HOSTS, "parent: zhengding")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "baoding", "data.parent"),
        "a city must hang under a province, but parent 'zhengding' is a county",
    )


def test_cycle_between_two_counties(run_cli: RunCli, inventory_copy: Path) -> None:
    for region, other in (("正定县", "luancheng"), ("栾城区", "zhengding")):
        edit(
            inventory_copy,
            HOSTS,
            f"    region: {region}\n    parent: shijiazhuang\n",
            f"    region: {region}\n    parent: {other}\n",
        )
    hosts = inventory_copy / HOSTS
    zhengding = line_no(inventory_copy, HOSTS, "parent: luancheng")
    luancheng = line_no(inventory_copy, HOSTS, "parent: zhengding")
    result = validate(run_cli, inventory_copy)
    # the cycle is reported once, on the first host of the loop in file order
    expect(
        result,
        at(hosts, zhengding, "zhengding", "data.parent") + "parent chain forms a cycle",
        "cycle: zhengding → luancheng → zhengding",
        count=3,
    )
    expect(
        result,
        at(hosts, zhengding, "zhengding", "data.parent") + "a county must hang under a city",
        count=3,
    )
    expect(
        result,
        at(hosts, luancheng, "luancheng", "data.parent") + "a county must hang under a city",
        count=3,
    )


def test_cycle_between_a_city_and_its_county(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "    region: 石家庄市\n    parent: hebei-core-1\n",
        "    region: 石家庄市\n    parent: zhengding\n",
    )
    hosts = inventory_copy / HOSTS
    line = line_no(inventory_copy, HOSTS, "parent: zhengding")
    uplinks = line_no(inventory_copy, HOSTS, "parent: zhengding\n    uplinks:") + 1
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(hosts, line, "shijiazhuang", "data.parent") + "parent chain forms a cycle",
        "cycle: shijiazhuang → zhengding → shijiazhuang",
        count=3,
    )
    expect(
        result,
        at(hosts, line, "shijiazhuang", "data.parent") + "a city must hang under a province",
        "parent 'zhengding' is a county",
        count=3,
    )
    # with a county for parent, its province uplink is no longer a sibling of the parent
    expect(
        result,
        at(hosts, uplinks, "shijiazhuang", "data.uplinks.0"),
        "uplink 'hebei-core-2' (province) must be a sibling of the parent",
        count=3,
    )


def test_unknown_platform(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "zunhua:\n  groups: [county]\n",
        "zunhua:\n  platform: juniper_junos\n  groups: [county]\n",
    )
    line = line_no(inventory_copy, HOSTS, "platform: juniper_junos")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "zunhua", "platform"),
        "unknown platform 'juniper_junos': expected",
        "huawei_vrp",
    )


def test_unknown_tier(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, HOSTS, "    region: 遵化市\n", "    region: 遵化市\n    tier: gateway\n")
    line = line_no(inventory_copy, HOSTS, "tier: gateway")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "zunhua", "data.tier"),
        "unknown tier 'gateway': expected",
        "county",
    )


def test_unknown_tier_inherited_from_a_group(run_cli: RunCli, inventory_copy: Path) -> None:
    """The problem points at groups.yaml, where the tier was written, for the host using it."""
    edit(inventory_copy, GROUPS, "    tier: exit\n", "    tier: gateway\n")
    line = line_no(inventory_copy, GROUPS, "tier: gateway")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / GROUPS, line, "hebei-exit", "data.tier"),
        "unknown tier 'gateway': expected",
    )


def test_unknown_zone(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "      - {name: zhengwufuwu, zone: public, description: 市政务服务中心}\nbaoding:",
        "      - {name: zhengwufuwu, zone: dmz, description: 市政务服务中心}\nbaoding:",
    )
    line = line_no(inventory_copy, HOSTS, "zone: dmz")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "shijiazhuang", "data.departments.1.zone"),
        "unknown zone 'dmz': expected one of private, public",
    )


def test_too_many_uplinks(run_cli: RunCli, inventory_copy: Path) -> None:
    """A parent plus one redundant uplink is two links: more than uplinks_per_node: 1."""
    edit(inventory_copy, NETWORK, "  uplinks_per_node: 2\n", "  uplinks_per_node: 1\n")
    hosts = inventory_copy / HOSTS
    exit_line = line_no(inventory_copy, HOSTS, "    uplinks: [hebei-core-2]\n    slot: 7")
    city_line = line_no(inventory_copy, HOSTS, "    uplinks: [hebei-core-2]\n    slot: 1")
    baoding_line = line_no(inventory_copy, HOSTS, "    uplinks: [hebei-core-2]\n    slot: 2")
    tangshan_line = line_no(inventory_copy, HOSTS, "    uplinks: [hebei-core-1]\n    slot: 1")
    result = validate(run_cli, inventory_copy)
    dual_homed = (
        ("hebei-exit", exit_line),
        ("shijiazhuang", city_line),
        ("baoding", baoding_line),
        ("tangshan", tangshan_line),
    )
    for host, line in dual_homed:
        expect(
            result,
            at(hosts, line, host, "data.uplinks"),
            "2 uplinks counting the parent, but address_plan.uplinks_per_node is 1",
            count=4,
        )


# ----------------------------------------------------------------------------- slots and pools


def test_slot_collision_between_siblings(run_cli: RunCli, inventory_copy: Path) -> None:
    line = line_no(inventory_copy, HOSTS, "    parent: baoding\n    slot: 2\n") + 1
    edit(
        inventory_copy,
        HOSTS,
        "    parent: baoding\n    slot: 2\n",
        "    parent: baoding\n    slot: 1\n",
    )
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "dingzhou", "data.slot"),
        "slot 1 is also taken by 'zhuozhou'",
    )


def test_pools_overlap(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "    pool: 10.96.0.0/16\n", "    pool: 10.80.128.0/17\n")
    line = line_no(inventory_copy, NETWORK, "pool: 10.80.0.0/16")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / NETWORK, line, None, "zones.private.pool"),
        "pool 10.80.0.0/16 overlaps zones.public.pool (10.80.128.0/17, line 26)",
    )


def test_pool_too_small_for_a_top_level_block(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "  loopbacks: 10.64.0.0/24\n", "  loopbacks: 10.64.0.0/27\n")
    line = line_no(inventory_copy, NETWORK, "loopbacks: 10.64.0.0/27")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / NETWORK, line, None, "address_plan.loopbacks"),
        "pool exhausted: 10.64.0.0/27 cannot hold one province block (/26",
        "use a larger pool",
    )


def test_pool_with_room_for_one_top_level_block(run_cli: RunCli, inventory_copy: Path) -> None:
    """Two province cores, room for one: the second core's slot is out of range."""
    edit(inventory_copy, NETWORK, "  loopbacks: 10.64.0.0/24\n", "  loopbacks: 10.64.0.0/26\n")
    line = line_no(inventory_copy, HOSTS, "    slot: 1\n    uplinks: [hebei-core-1]")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "hebei-core-2", "data.slot"),
        "slot 1 is out of range 0..0",
        "1 province block(s) at the top",
    )


def new_counties(count: int) -> str:
    return "".join(
        f"sjz-new-{i}:\n  groups: [county]\n  data:\n"
        f"    region: 新县{i}\n    parent: shijiazhuang\n"
        for i in range(1, count + 1)
    )


def test_fanout_too_small_no_free_slot(run_cli: RunCli, inventory_copy: Path) -> None:
    """fanout.city: 7 and shijiazhuang already has 3 counties: the 8th has no slot left."""
    with (inventory_copy / HOSTS).open("a", encoding="utf-8") as hosts:
        hosts.write(new_counties(5))
    line = line_no(inventory_copy, HOSTS, "region: 新县5\n") + 1
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "sjz-new-5", "data.slot"),
        "pool exhausted: no free slot left",
        "address_plan.fanout.city gives 'shijiazhuang' 7 child slot(s)",
    )


def test_fanout_below_written_slots(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "    city: 7 ", "    city: 1 ")
    line = line_no(inventory_copy, HOSTS, "    parent: shijiazhuang\n    slot: 3\n") + 1
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "jingxing", "data.slot"),
        "slot 3 is out of range 1..1",
        "address_plan.fanout.city gives 'shijiazhuang' 1 child slot(s)",
        count=4,  # luancheng, jingxing, dingzhou, zunhua: every county past slot 1
    )


def test_pool_in_test_net_1(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "  internet: 198.18.0.0/23 ", "  internet: 192.0.2.0/23 ")
    line = line_no(inventory_copy, NETWORK, "internet: 192.0.2.0/23")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / NETWORK, line, None, "address_plan.internet"),
        "192.0.2.0/23 overlaps 192.0.2.0/24, which is reserved (TEST-NET-1",
    )


def test_address_in_test_net_1(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "  ntp: [10.64.8.1]\n", "  ntp: [192.0.2.1]\n")
    line = line_no(inventory_copy, NETWORK, "ntp: [192.0.2.1]")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / NETWORK, line, None, "services.ntp"),
        "192.0.2.1 is in 192.0.2.0/24, which is reserved (TEST-NET-1)",
    )


# ----------------------------------------------------------------------------- secrets


def test_plaintext_password_on_a_host(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "zunhua:\n  groups: [county]\n",
        f"zunhua:\n  groups: [county]\n  password: {SECRET_VALUE}\n",
    )
    line = line_no(inventory_copy, HOSTS, "password:")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "zunhua", "password"),
        "plain-text secret: write {secret: NAME}",
    )
    assert SECRET_VALUE not in result.output


SNMP_KEY = "        auth_key: {secret: snmp-noc-auth}\n"


def test_plaintext_snmp_key_in_network_file(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, SNMP_KEY, f"        auth_key: {SECRET_VALUE}\n")
    line = line_no(inventory_copy, NETWORK, "auth_key:")
    result = validate(run_cli, inventory_copy)
    # the list index in the field is asserted by test_plaintext_snmp_key_field_has_list_index
    expect(
        result,
        f"{inventory_copy / NETWORK}:{line}: services.snmp.users.",
        "auth_key: plain-text secret: write {secret: NAME}",
        count=None,
    )


def test_plaintext_snmp_key_field_has_list_index(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, SNMP_KEY, f"        auth_key: {SECRET_VALUE}\n")
    line = line_no(inventory_copy, NETWORK, "auth_key:")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / NETWORK, line, None, "services.snmp.users.0.auth_key"),
        "plain-text secret: write {secret: NAME}",
        count=None,
    )


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_plaintext_snmp_key_is_not_echoed(
    run_cli: RunCli, inventory_copy: Path, as_json: bool
) -> None:
    edit(inventory_copy, NETWORK, SNMP_KEY, f"        auth_key: {SECRET_VALUE}\n")
    result = validate(run_cli, inventory_copy, *(["--json"] if as_json else []))
    assert result.exit_code == 2
    assert SECRET_VALUE not in result.output


def test_plaintext_enable_secret_in_connection_options(
    run_cli: RunCli, inventory_copy: Path
) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "zunhua:\n  groups: [county]\n",
        "zunhua:\n  groups: [county]\n  connection_options:\n    netmiko:\n      extras:\n"
        f"        secret: {SECRET_VALUE}\n",
    )
    line = line_no(inventory_copy, HOSTS, f"secret: {SECRET_VALUE}")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "zunhua", "connection_options.netmiko.extras.secret"),
        "plain-text secret",
    )


# ----------------------------------------------------------------------------- all at once


def test_problems_in_two_files_are_all_reported(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "routing:\n", "routnig:\n")
    edit(
        inventory_copy,
        HOSTS,
        "    parent: baoding\n    slot: 2\n",
        "    parent: baodin\n    slot: 2\n",
    )
    network_line = line_no(inventory_copy, NETWORK, "routnig:")
    hosts_line = line_no(inventory_copy, HOSTS, "parent: baodin\n")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, hosts_line, "dingzhou", "data.parent"),
        "parent 'baodin' is not a host",
        count=2,
    )
    expect(
        result,
        at(inventory_copy / NETWORK, network_line, None, "routnig"),
        "unknown key 'routnig' (did you mean 'routing'?)",
        count=2,
    )


def test_problems_in_two_files_json(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "routing:\n", "routnig:\n")
    edit(
        inventory_copy,
        HOSTS,
        "    parent: baoding\n    slot: 2\n",
        "    parent: baodin\n    slot: 2\n",
    )
    problems = json_problems(validate(run_cli, inventory_copy, "--json"))
    located = [(p["file"], p["line"], p["host"], p["field"]) for p in problems]
    assert located == [
        (
            str(inventory_copy / HOSTS),
            line_no(inventory_copy, HOSTS, "parent: baodin\n"),
            "dingzhou",
            "data.parent",
        ),
        (
            str(inventory_copy / NETWORK),
            line_no(inventory_copy, NETWORK, "routnig:"),
            None,
            "routnig",
        ),
    ]


def test_render_writes_nothing_for_a_broken_inventory(
    run_cli: RunCli, inventory_copy: Path, tmp_path: Path
) -> None:
    edit(
        inventory_copy,
        HOSTS,
        "    parent: baoding\n    slot: 2\n",
        "    parent: baodin\n    slot: 2\n",
    )
    line = line_no(inventory_copy, HOSTS, "parent: baodin\n")
    output = tmp_path / "configs"
    result = run_cli(["-i", str(inventory_copy), "render", "-o", str(output)])
    expect(
        result,
        at(inventory_copy / HOSTS, line, "dingzhou", "data.parent"),
        "parent 'baodin' is not a host",
    )
    assert not output.exists()
    assert not (tmp_path / "build").exists()


# ----------------------------------------------------------------------------- known bugs


DINGZHOU_DATA = "  data:\n    region: 定州市\n"


def test_problem_past_line_99_keeps_its_line_number(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, HOSTS, DINGZHOU_DATA, DINGZHOU_DATA.replace("data:", "date:"))
    line = line_no(inventory_copy, HOSTS, "  date:\n")
    assert line > 99, "the edit must land past line 99 for this test to mean anything"
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "dingzhou", "date"),
        "unknown key 'date' (did you mean 'data'?)",
    )


def test_host_with_a_shape_error_is_not_reported_missing(
    run_cli: RunCli, inventory_copy: Path
) -> None:
    edit(inventory_copy, HOSTS, "  platform: h3c_comware\n", "  platform: juniper_junos\n")
    line = line_no(inventory_copy, HOSTS, "platform: juniper_junos")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "hebei-core-2", "platform"),
        "unknown platform 'juniper_junos'",
    )


def test_missing_parent_points_at_the_host(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, HOSTS, "    parent: tangshan\n    slot: 1\n", "    slot: 1\n")
    line = line_no(inventory_copy, HOSTS, "qianan:")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / HOSTS, line, "qianan", "data.parent"),
        "needs a parent",
    )


def test_management_pool_too_small(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "  management: 10.64.8.0/24 ", "  management: 10.64.8.0/26 ")
    line = line_no(inventory_copy, NETWORK, "management: 10.64.8.0/26")
    result = validate(run_cli, inventory_copy)
    expect(
        result,
        at(inventory_copy / NETWORK, line, None, "address_plan.management"),
        "pool exhausted",
        count=None,
    )


def test_asn_base_too_high_names_its_line(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "  asn_base: 4200000000\n", "  asn_base: 4294967290\n")
    line = line_no(inventory_copy, NETWORK, "asn_base:")
    lines = problem_lines(validate(run_cli, inventory_copy))
    assert lines
    for problem in lines:
        assert problem.startswith(f"{inventory_copy / NETWORK}:{line}: "), problem
        assert "routing.asn_base: AS number" in problem


def test_network_name_is_printed_literally(run_cli: RunCli, inventory_copy: Path) -> None:
    edit(inventory_copy, NETWORK, "name: 河北省电子政务外网\n", 'name: "河北 [/] [red]test"\n')
    result = validate(run_cli, inventory_copy)
    assert result.exit_code == 0, result.output
    assert "河北 [/] [red]test is valid: 13 nodes" in result.stdout


# ------------------------------------------------- cross-references, as a table of cases


@dataclass(frozen=True)
class Case:
    """One mistake (replace `old` by `new` in `file`) and the one problem it must give: on
    the line where `needle` stands after the edit, at `field`, saying `message`."""

    id: str
    file: str
    old: str
    new: str
    needle: str
    field: str
    message: str
    host: str | None = None


V2C_UNKNOWN_HOST = Case(
    "v2c-host-unknown",
    NETWORK,
    "  ssh:\n",
    "    v2c:\n      community: {secret: snmp-legacy}\n      hosts: [zunhua, nowhere]\n  ssh:\n",
    "hosts: [zunhua, nowhere]",
    "services.snmp.v2c.hosts.1",
    "no host 'nowhere' in hosts.yaml",
)

CROSS_REFERENCES = [
    V2C_UNKNOWN_HOST,
    Case(
        "snmp-user-twice",
        NETWORK,
        "        priv_key: {secret: snmp-noc-priv}\n",
        "        priv_key: {secret: snmp-noc-priv}\n"
        "      - {name: noc, auth_key: {secret: a}, priv_key: {secret: b}}\n",
        "- {name: noc, auth_key",
        "services.snmp.users.1.name",
        "SNMP user 'noc' is defined twice",
    ),
    Case(
        "ntp-on-a-loopback",
        NETWORK,
        "  ntp: [10.64.8.1]",
        "  ntp: [10.64.8.1, 10.64.0.0]",
        "ntp: [10.64.8.1, 10.64.0.0]",
        "services.ntp.1",
        "10.64.0.0 is a router's address (loopback of hebei-core-1): name a server's address",
    ),
    Case(
        "syslog-in-the-link-pool",
        NETWORK,
        "  syslog: [10.64.8.1]",
        "  syslog: [10.64.31.250]",
        "syslog: [10.64.31.250]",
        "services.syslog.0",
        "10.64.31.250 is a router's address (in address_plan.links, which only routers use): "
        "name a server's address",
    ),
    Case(
        "aaa-on-a-management-address",
        NETWORK,
        "    servers: [10.64.8.1]",
        "    servers: [10.64.8.2]",
        "servers: [10.64.8.2]",
        "services.aaa.servers.0",
        "10.64.8.2 is a router's address (management address of hebei-core-1): "
        "name a server's address",
    ),
    Case(
        "policy-exit-unknown",
        NETWORK,
        "routing:\n",
        "isolation:\n  exits: [nowhere]\nrouting:\n",
        "exits: [nowhere]",
        "isolation.exits.0",
        "no host 'nowhere' in hosts.yaml",
    ),
    Case(
        "policy-shared-service-unknown-host",
        NETWORK,
        "routing:\n",
        "isolation:\n  shared_services: [nowhere/finance]\nrouting:\n",
        "shared_services: [nowhere/finance]",
        "isolation.shared_services.0",
        "no host 'nowhere' in hosts.yaml",
    ),
]


@pytest.mark.parametrize("case", CROSS_REFERENCES, ids=lambda case: case.id)
def test_cross_reference_is_refused(inventory_copy: Path, case: Case) -> None:
    """The loader (so `inventory validate` and every part) refuses the inventory with one
    problem naming file, line and field: no part has to check it again."""
    edit(inventory_copy, case.file, case.old, case.new)
    line = line_no(inventory_copy, case.file, case.needle)
    with pytest.raises(InventoryError) as raised:
        load_network(inventory_copy)
    file = str(inventory_copy / case.file)
    assert raised.value.problems == [Problem(file, case.field, case.message, case.host, line)]


def test_unknown_v2c_host_fails_validate_with_exit_2(run_cli: RunCli, inventory_copy: Path) -> None:
    case = V2C_UNKNOWN_HOST
    edit(inventory_copy, case.file, case.old, case.new)
    line = line_no(inventory_copy, case.file, case.needle)
    expect(validate(run_cli, inventory_copy), at(inventory_copy / NETWORK, line, None, case.field))
    problems = json_problems(validate(run_cli, inventory_copy, "--json"))
    assert [(p["file"], p["field"], p["line"]) for p in problems] == [
        (str(inventory_copy / NETWORK), "services.snmp.v2c.hosts.1", line)
    ]


def test_an_exit_needs_an_internet_zone(inventory_copy: Path) -> None:
    """Without a zone that has internet, the exit's uplink has no VRF to sit in: refused at
    the exit's tier (before, the render stopped on it with a StopIteration)."""
    edit(inventory_copy, NETWORK, "    internet: true\n", "    internet: false\n")
    with pytest.raises(InventoryError) as raised:
        load_network(inventory_copy)
    groups = str(inventory_copy / GROUPS)
    tier = [p for p in raised.value.problems if p.field == "data.tier"]
    assert [(p.file, p.host) for p in tier] == [(groups, "hebei-exit")]
    assert "needs a zone with internet: true" in tier[0].message
