"""`egovnet config parse` as an engineer runs it: the facts, the lines not understood with
their numbers, coverage, and the exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from typer.testing import Result

RunCli = Callable[[Sequence[str]], Result]

CLEAN_VRP = """#
sysname AR1
#
ip vpn-instance vpna
 ipv4-family
  route-distinguisher 100:1
#
interface GigabitEthernet0/0/1
 ip address 202.1.1.1 255.255.255.252
 traffic-filter inbound acl 3000
 nat outbound 2000
#
interface GigabitEthernet0/0/2
 ip binding vpn-instance vpna
 ip address 10.1.1.1 255.255.255.0
 ip address 10.1.2.1 255.255.255.0 sub
#
acl number 2000
 rule 5 permit source 10.0.0.0 0.255.255.255
acl number 3000
 rule 5 deny ip source 10.0.0.0 0.255.255.255
 rule 10 permit ip
#
bgp 100.1
 peer 202.1.1.2 as-number 200
 ipv4-family unicast
  network 10.0.0.0 255.0.0.0
  peer 202.1.1.2 ip-prefix OUT export
#
ip route-static 0.0.0.0 0.0.0.0 202.1.1.2
ip route-static vpn-instance vpna 0.0.0.0 0 202.1.1.2 public
#
return
"""


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def test_a_fully_understood_config_exits_0_with_its_facts(run_cli: RunCli, tmp_path: Path) -> None:
    path = write(tmp_path, "ar1.cfg", CLEAN_VRP)
    result = run_cli(["config", "parse", str(path), "--platform", "huawei_vrp", "--json"])
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    [facts] = document["files"]
    assert list(facts)[:6] == ["file", "platform", "platform_given", "encoding", "hostname", "vrfs"]
    assert facts["hostname"] == "AR1"
    assert facts["platform_given"] == "huawei_vrp"
    assert facts["vrfs"] == ["global", "vpna"]
    assert facts["interfaces"][1] == {
        "name": "GigabitEthernet0/0/2",
        "vrf": "vpna",
        "addresses": ["10.1.1.1/24", "10.1.2.1/24"],
        "shutdown": False,
        "filters": {"in": None, "out": None},
    }
    assert facts["interfaces"][0]["filters"] == {"in": "3000", "out": None}
    assert facts["static_routes"][1] == {
        "vrf": "vpna", "prefix": "0.0.0.0/0", "next_hop": "202.1.1.2", "interface": None,
        "preference": None, "target_vrf": "global",
    }  # fmt: skip
    assert facts["bgp"]["asn"] == 6553601
    assert facts["bgp"]["instances"][0]["neighbors"] == [
        {"address": "202.1.1.2", "remote_as": 200, "import": None, "export": "OUT"}
    ]
    assert facts["filters"][1]["rules"][0]["source"] == "10.0.0.0/8"
    assert facts["nat"] == [
        {"kind": "outbound", "interface": "GigabitEthernet0/0/1", "acl": "2000", "pool": None}
    ]
    assert facts["unparsed"] == facts["unmodelled"] == []
    assert facts["coverage"] == document["coverage"] == 1.0


def test_lines_not_understood_are_listed_with_their_numbers_and_exit_1(
    run_cli: RunCli, tmp_path: Path
) -> None:
    text = CLEAN_VRP.replace(
        "#\nreturn\n",
        "ip route-static 100.x.x.80 255.255.255.255 202.1.1.2\n#\n"
        "route-policy RP permit node 10\n if-match ip-prefix P\n#\nreturn\n",
    )
    path = write(tmp_path, "ar1.cfg", text)
    result = run_cli(["config", "parse", str(path), "--json"])
    assert result.exit_code == 1
    [facts] = json.loads(result.stdout)["files"]
    assert [u["line"] for u in facts["unparsed"]] == [32]
    assert [(u["line"], u["construct"]) for u in facts["unmodelled"]] == [(34, "route-policy")]
    assert facts["coverage"] == round(24 / 27, 4)  # 3 of 27 content lines missed
    human = run_cli(["config", "parse", str(path)])
    assert human.exit_code == 1
    assert "32" in human.stdout
    assert "route-policy RP permit node 10" in human.stdout
    assert "not an IPv4 address" in human.stdout


def test_a_gbk_config_is_read_as_gb18030(run_cli: RunCli, tmp_path: Path) -> None:
    text = CLEAN_VRP.replace("sysname AR1", "sysname 石家庄-出口").replace("\n", "\r\n")
    path = write(tmp_path, "gbk.cfg", text.encode("gbk"))
    result = run_cli(["config", "parse", str(path), "--json"])
    assert result.exit_code == 0, result.stdout
    [facts] = json.loads(result.stdout)["files"]
    assert facts["encoding"] == "gb18030"
    assert facts["hostname"] == "石家庄-出口"


def test_unreadable_input_exits_2_and_still_prints_a_document(
    run_cli: RunCli, tmp_path: Path
) -> None:
    nul = write(tmp_path, "nul.cfg", b"\x00" * 4096)
    empty = write(tmp_path, "empty.cfg", "#\nreturn\n#\n")
    good = write(tmp_path, "ar1.cfg", CLEAN_VRP)
    result = run_cli(["config", "parse", str(nul), str(empty), str(good), "--json"])
    assert result.exit_code == 2
    files = json.loads(result.stdout)["files"]
    assert "NUL" in files[0]["error"]
    assert "error" in files[1]
    assert files[2]["hostname"] == "AR1"
    missing = run_cli(["config", "parse", str(tmp_path / "nope.cfg")])
    assert missing.exit_code == 2
    assert "nope.cfg" in missing.stdout
    bad = run_cli(["config", "parse", str(good), "--platform", "junos", "--json"])
    assert bad.exit_code == 2
    assert "junos" in json.loads(bad.stdout)["error"]
