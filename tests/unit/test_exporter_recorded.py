"""The exporter's modules and walker on recorded walks of devices that cannot run here.

What a NOC relies on: Huawei and H3C boards' CPU and memory come out as `egov_` series
named after the board, with the device's inventory labels; interface, BGP and OSPF rows
are keyed by their index (integers and IPv4 addresses); and the walker stays within its
PDU budget, shrinks on tooBig, and stops an agent whose OIDs stop increasing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from egovnet.errors import InventoryError
from egovnet.loader import load_network
from egovnet.secrets import SecretStore
from exporters.collect import Family, Scrape, ScrapeCollector, scrape
from exporters.exposition import render_scrape
from exporters.modules import load_modules
from exporters.server import render
from exporters.snmp import SnmpError, Value, VarBind
from exporters.targets import Target, build_targets
from exporters.walk import SAFE_PDU_BYTES, VARBIND_BYTES, WalkLimits, WalkMemory, walk_columns
from tests.unit.conftest import SAMPLE
from tests.unit.recorded import RECORDED, RecordedAgent, read_walk

MODULES = load_modules()
FAKE = {"EGOVNET_SECRET_SNMP_NOC_AUTH": "fake-auth-key", "EGOVNET_SECRET_SNMP_NOC_PRIV": "x" * 8}


@pytest.fixture(scope="module")
def targets() -> dict[str, Target]:
    return build_targets(load_network(SAMPLE), SecretStore(environ=FAKE))


def run(target: Target, names: Sequence[str], agent: RecordedAgent, limits: WalkLimits) -> Scrape:
    return asyncio.run(scrape(target, [MODULES[n] for n in names], agent, limits))


def family(result: Scrape, name: str) -> Family:
    found = [f for f in result.families if f.name == name]
    assert len(found) == 1, f"{name}: {[f.name for f in result.families]}"
    return found[0]


def by(result: Scrape, name: str, label: str) -> dict[str, float]:
    return {labels[label]: value for labels, value in family(result, name).samples}


def test_huawei_boards_cpu_and_memory(targets: dict[str, Target]) -> None:
    agent = RecordedAgent(read_walk(RECORDED / "recorded_huawei_vrp.walk"))
    core = targets["hebei-core-1"]
    assert core.platform == "huawei_vrp"
    assert "huawei" in core.default_modules
    result = run(core, core.default_modules, agent, WalkLimits())
    assert result.up, result.errors
    assert by(result, "egov_huawei_cpu_usage_percent", "entity") == {
        "MPU Board 1": 23,
        "MPU Board 2": 4,
        "LPU Board 1": 91,
    }
    assert by(result, "egov_huawei_memory_usage_percent", "entity")["LPU Board 1"] == 62
    assert by(result, "egov_huawei_cpu_usage_percent", "entity_index")["16908289"] == 91


def test_h3c_entities_cpu_memory_and_ospf_neighbours(targets: dict[str, Target]) -> None:
    agent = RecordedAgent(read_walk(RECORDED / "recorded_h3c_comware.walk"))
    core = targets["hebei-core-2"]
    result = run(core, core.default_modules, agent, WalkLimits())
    assert result.up, result.errors
    assert by(result, "egov_h3c_cpu_usage_percent", "entity") == {
        "Board on slot 1": 12,
        "Board on slot 2": 97,
        "Fan 1": 0,
    }
    assert by(result, "egov_h3c_memory_usage_percent", "entity")["Board on slot 2"] == 88
    neighbours = family(result, "egov_ospf_neighbor_state").samples
    assert sorted((s["neighbor_address"], s["router_id"], v) for s, v in neighbours) == [
        ("10.64.16.0", "10.64.0.1", 8),
        ("10.64.16.4", "10.64.0.8", 2),
    ]
    assert {s["addressless_index"] for s, _ in neighbours} == {"0"}
    # a module the device does not answer is empty, not an error
    assert not [f for f in result.families if f.name.startswith("egov_huawei_")]


def test_interfaces_and_bgp_peers_keyed_by_index_and_named_by_the_inventory(
    targets: dict[str, Target],
) -> None:
    """Rows keyed by ifIndex and by peer address; the inventory adds what each connects to:
    the port to hebei-core-2 is a downlink of hebei-core-1, port 5 is no link at all."""
    agent = RecordedAgent(read_walk(RECORDED / "recorded_huawei_vrp.walk"))
    result = run(targets["hebei-core-1"], ["system", "if_mib", "bgp"], agent, WalkLimits())
    octets = {
        s["ifName"]: (s["ifAlias"], s.get("role"), s.get("neighbor"), v)
        for s, v in family(result, "egov_if_in_octets_total").samples
    }
    assert octets == {
        "GigabitEthernet0/0/11": ("to hebei-core-2", "downlink", "hebei-core-2", 918273645546),
        "GigabitEthernet0/0/3": ("to shijiazhuang", "downlink", "shijiazhuang", 5566),
        "GigabitEthernet0/0/5": ("", None, None, 0),
    }
    assert by(result, "egov_if_speed_bps", "ifName")["GigabitEthernet0/0/11"] == 10e9
    assert by(result, "egov_if_oper_status", "ifName")["GigabitEthernet0/0/3"] == 2
    peers = {
        s["peer"]: (s["remote_as"], s["neighbor"], s["vrf"], v)
        for s, v in family(result, "egov_bgp_peer_state").samples
    }
    assert peers == {
        "10.64.20.3": ("4200000001", "hebei-core-2", "global", 6),
        "10.64.16.129": ("4200000010", "shijiazhuang", "global", 3),
    }
    assert family(result, "egov_sys_uptime_seconds").samples == [({}, 8640000.0)]
    assert family(result, "egov_sys_info").samples == [({"sysName": "hebei-core-1"}, 1)]


def test_every_series_carries_the_inventory_labels(targets: dict[str, Target]) -> None:
    agent = RecordedAgent(read_walk(RECORDED / "recorded_h3c_comware.walk"))
    county = targets["zhengding"]
    result = run(county, ["system", "h3c"], agent, WalkLimits())
    text = render(ScrapeCollector(result)).decode()
    series = [line for line in text.splitlines() if line.startswith("egov_")]
    assert len(series) > 5
    for line in series:
        for label in (
            'host="zhengding"',
            'tier="county"',
            'province="河北省"',
            'city="石家庄市"',
            'county="正定县"',
        ):
            assert label in line, line
    up = [line for line in text.splitlines() if line.startswith("egov_snmp_up{")]
    assert up == [
        'egov_snmp_up{city="石家庄市",county="正定县",host="zhengding",province="河北省",'
        'tier="county"} 1.0'
    ]


def test_columns_go_wide_within_the_pdu_budget(targets: dict[str, Target]) -> None:
    """if_mib's 15 columns in 4 streams: each GETBULK asks for several columns, never more
    varbinds than the budget holds, and far fewer requests than a column-by-column walk."""
    agent = RecordedAgent(read_walk(RECORDED / "recorded_huawei_vrp.walk"))
    limits = WalkLimits(pdu_bytes=1400, streams=4)
    result = run(targets["hebei-core-1"], ["if_mib"], agent, limits)
    assert result.up
    bulks = [asked for kind, asked in agent.requests if kind == "bulk"]
    assert all(asked <= 1400 // VARBIND_BYTES for asked in bulks), bulks
    assert len(bulks) <= 8, bulks  # column by column with 3 rows each would take 30
    assert len(family(result, "egov_if_out_errors_total").samples) == 3


class TooBigAgent(RecordedAgent):
    """Answers tooBig to any GETBULK asking for more than `most` varbinds."""

    def __init__(self, most: int) -> None:
        super().__init__(read_walk(RECORDED / "recorded_huawei_vrp.walk"))
        self.most = most

    async def bulk(self, oids: Sequence[tuple[int, ...]], repetitions: int) -> list[VarBind]:
        if len(oids) * repetitions > self.most:
            self.requests.append(("toobig", len(oids) * repetitions))
            raise SnmpError("toobig", "agent said tooBig")
        return await super().bulk(oids, repetitions)


def test_toobig_shrinks_the_request_and_the_walk_completes() -> None:
    agent = TooBigAgent(most=4)
    columns = [(1, 3, 6, 1, 2, 1, 31, 1, 1, 1, n) for n in (1, 6, 10, 15)]
    rows = asyncio.run(walk_columns(agent, columns, WalkLimits(pdu_bytes=1400, streams=1)))
    assert [len(rows[c]) for c in columns] == [3, 3, 3, 3]
    assert agent.requests[0][0] == "toobig"
    assert any(kind == "bulk" for kind, _ in agent.requests)


def test_toobig_even_for_one_varbind_is_an_error() -> None:
    agent = TooBigAgent(most=0)
    with pytest.raises(SnmpError) as caught:
        asyncio.run(walk_columns(agent, [(1, 3, 6, 1, 2, 1, 31)], WalkLimits(streams=1)))
    assert caught.value.kind == "toobig"


class LoopingAgent(RecordedAgent):
    """A broken agent: after the first row it answers the same OID again and again."""

    async def bulk(self, oids: Sequence[tuple[int, ...]], repetitions: int) -> list[VarBind]:
        self.requests.append(("bulk", len(oids) * repetitions))
        row: list[VarBind] = [((*oid, 1), 7) for oid in oids]
        return row * repetitions


def test_a_looping_agent_ends_the_walk_with_a_loop_error(targets: dict[str, Target]) -> None:
    agent = LoopingAgent({})
    result = run(targets["zhengding"], ["bgp"], agent, WalkLimits())
    assert not result.up
    assert [(module, kind) for module, kind, _ in result.errors] == [("bgp", "loop")]
    # caught in each stream's first answer, not after MAX_ROWS rows
    assert len(agent.requests) <= WalkLimits().streams


def test_a_failing_module_leaves_the_others_series(targets: dict[str, Target]) -> None:
    walk = read_walk(RECORDED / "recorded_huawei_vrp.walk")

    class HalfBroken(RecordedAgent):
        async def bulk(self, oids: Sequence[tuple[int, ...]], repetitions: int) -> list[VarBind]:
            if oids[0][:7] == (1, 3, 6, 1, 2, 1, 15):  # BGP4-MIB
                raise SnmpError("agent", "agent said genErr")
            return await super().bulk(oids, repetitions)

    result = run(
        targets["hebei-core-1"], ["system", "bgp", "huawei"], HalfBroken(walk), WalkLimits()
    )
    assert [(m, k) for m, k, _ in result.errors] == [("bgp", "agent")]
    assert by(result, "egov_huawei_cpu_usage_percent", "entity")["MPU Board 1"] == 23
    assert "} 0.0" in render(ScrapeCollector(result)).decode().split("egov_snmp_up{")[1]


def test_v2c_only_for_the_hosts_network_yaml_lists(inventory_copy: Path) -> None:
    network_yaml = inventory_copy / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    text = text.replace(
        "  ssh:\n",
        "    v2c:\n      community: {secret: snmp-legacy}\n      hosts: [zunhua]\n  ssh:\n",
        1,
    )
    network_yaml.write_text(text, encoding="utf-8")
    store = SecretStore(environ=FAKE | {"EGOVNET_SECRET_SNMP_LEGACY": "legacy-community"})
    targets = build_targets(load_network(inventory_copy), store)
    assert targets["zunhua"].credentials.version == "v2c"
    assert targets["zunhua"].credentials.community == "legacy-community"
    assert {t.credentials.version for n, t in targets.items() if n != "zunhua"} == {"v3"}
    assert "legacy-community" not in repr(targets["zunhua"])


def test_v2c_for_a_host_not_in_the_inventory_is_refused_at_load(inventory_copy: Path) -> None:
    network_yaml = inventory_copy / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8").replace(
        "  ssh:\n", "    v2c:\n      community: {secret: c}\n      hosts: [nowhere]\n  ssh:\n", 1
    )
    network_yaml.write_text(text, encoding="utf-8")
    with pytest.raises(InventoryError, match=r"services\.snmp\.v2c\.hosts\.0: no host 'nowhere'"):
        load_network(inventory_copy)


TABLE = (1, 3, 6, 1, 4, 1, 99999, 1)


def long_table(rows: int) -> dict[tuple[int, ...], Value]:
    return {(*TABLE, column, row): row for column in (1, 2) for row in range(1, rows + 1)}


def test_the_next_walk_asks_for_as_many_rows_as_the_table_had() -> None:
    """Max-repetitions sized to the table: once a target's 200-row table has been seen,
    the next scrape reads it in one GETBULK that asks for just past its end."""
    agent = RecordedAgent(long_table(200))
    columns = [(*TABLE, 1), (*TABLE, 2)]
    memory, limits = WalkMemory(), WalkLimits(pdu_bytes=65_000, streams=1)
    first = asyncio.run(walk_columns(agent, columns, limits, memory))
    assert [len(first[c]) for c in columns] == [200, 200]
    asked_first = len(agent.requests)
    assert asked_first > 1  # the table's size was not known yet
    second = asyncio.run(walk_columns(agent, columns, limits, memory))
    assert second == first
    assert agent.requests[asked_first:] == [("bulk", 2 * 201)]


def test_a_big_table_never_seen_before_takes_a_handful_of_requests() -> None:
    """Not one request per few rows: an unknown table is read in growing steps."""
    agent = RecordedAgent(long_table(1000))
    columns = [(*TABLE, 1), (*TABLE, 2)]
    limits = WalkLimits(pdu_bytes=65_000, streams=1)
    rows = asyncio.run(walk_columns(agent, columns, limits, WalkMemory()))
    assert [len(rows[c]) for c in columns] == [1000, 1000]
    assert len(agent.requests) <= 6, agent.requests


class LosesBigAnswers(RecordedAgent):
    """A path dropping IP fragments: answers bigger than one packet never arrive."""

    async def bulk(self, oids: Sequence[tuple[int, ...]], repetitions: int) -> list[VarBind]:
        if len(oids) * repetitions * VARBIND_BYTES > SAFE_PDU_BYTES:
            self.requests.append(("lost", len(oids) * repetitions))
            raise SnmpError("timeout", "no answer")
        return await super().bulk(oids, repetitions)


def test_a_target_whose_big_answers_are_lost_is_walked_small_next_time() -> None:
    agent = LosesBigAnswers(long_table(100))
    columns = [(*TABLE, 1), (*TABLE, 2)]
    memory, limits = WalkMemory(), WalkLimits(streams=1)
    with pytest.raises(SnmpError, match="no answer"):
        asyncio.run(walk_columns(agent, columns, limits, memory))
    rows = asyncio.run(walk_columns(agent, columns, limits, memory))
    assert [len(rows[c]) for c in columns] == [100, 100]
    assert [kind for kind, _ in agent.requests].count("lost") == 1


@pytest.mark.parametrize(
    ("host", "walk"),
    [("hebei-core-1", "recorded_huawei_vrp.walk"), ("hebei-core-2", "recorded_h3c_comware.walk")],
)
def test_the_fast_exposition_is_prometheus_clients_byte_for_byte(
    targets: dict[str, Target], host: str, walk: str
) -> None:
    """/snmp writes its text itself; it must say exactly what prometheus-client would."""
    agent = RecordedAgent(read_walk(RECORDED / walk))
    target = targets[host]
    result = run(target, [*target.default_modules, "if_mib"], agent, WalkLimits())
    assert result.up, result.errors
    assert render_scrape(result) == render(ScrapeCollector(result))


def test_the_fast_exposition_escapes_and_reports_failures_as_prometheus_client_does(
    targets: dict[str, Target],
) -> None:
    walk = read_walk(RECORDED / "recorded_huawei_vrp.walk")
    alias = next(oid for oid in walk if oid[:-1] == (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18))
    walk[alias] = 'to "hebei-core-2" \\ backup\nline 2, 上联'
    result = run(targets["hebei-core-1"], ["if_mib"], RecordedAgent(walk), WalkLimits())
    text = render_scrape(result)
    assert text == render(ScrapeCollector(result))
    assert b'ifAlias="to \\"hebei-core-2\\" \\\\ backup\\nline 2' in text
    failed = Scrape(targets["zhengding"], ("if_mib",), durations={"if_mib": 0.5})
    failed.errors.append(("if_mib", "timeout", "no answer"))
    assert render_scrape(failed) == render(ScrapeCollector(failed))
    assert b'egov_snmp_up{city="' in render_scrape(failed)
