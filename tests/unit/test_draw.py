"""`egovnet topology draw`: every format for the sample and a Hebei-size province, the SVG's
element contract counted against the model, `dot`'s own parser on the DOT text, subtrees,
and `--live` colouring from a real Prometheus process scraping a tiny endpoint of ours."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET  # our own dot output, not untrusted input
from collections.abc import Iterator
from pathlib import Path

import pytest

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.wiring.noc import draw
from tests.console import ROOT
from tests.console import egovnet as run_egovnet
from tests.unit.promserver import PromHarness, prometheus_harness
from topology.draw import FORMATS, drawing, render, to_dot

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


@pytest.fixture(scope="module")
def hebei_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hebei")
    write_inventory(generate_inventory(1, 11, 13, 4), directory)
    return directory


@pytest.fixture(scope="module")
def hebei(hebei_inventory: Path) -> Network:
    network = load_network(hebei_inventory)
    assert len(network.nodes) == 157
    return network


def elements(svg_text: str, cls: str) -> list[ET.Element]:
    root = ET.fromstring(svg_text)  # noqa: S314 - dot's SVG of our own drawing
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def expected_links(network: Network, keep: set[str] | None = None) -> set[tuple[str, str, str]]:
    keep = keep if keep is not None else {node.name for node in network.nodes}
    links: set[tuple[str, str, str]] = {
        (link.upper.host, link.lower.host, link.kind)
        for link in network.links
        if link.upper.host in keep and link.lower.host in keep
    }
    exits = [n for n in network.nodes if n.internet is not None and n.name in keep]
    for node in exits:
        cloud = "internet" if len(exits) == 1 else f"internet:{node.name}"
        links.add((node.name, cloud, "internet"))
    return links


@pytest.mark.parametrize("which", ["sample", "hebei"])
def test_the_svg_has_one_element_per_node_and_link_of_the_model(
    which: str, request: pytest.FixtureRequest
) -> None:
    network: Network = request.getfixturevalue(which)
    svg_text = render(drawing(network), "svg").decode()
    nodes = elements(svg_text, "node")
    hosts = [g.get("data-host", "") for g in nodes if g.get("data-tier") != "internet"]
    assert sorted(hosts) == sorted(node.name for node in network.nodes)
    tiers = {g.get("data-host"): g.get("data-tier") for g in nodes}
    assert all(tiers[node.name] == node.tier for node in network.nodes)
    assert [g.get("data-host") for g in nodes if g.get("data-tier") == "internet"] == ["internet"]
    links = elements(svg_text, "link")
    drawn = [(g.get("data-a"), g.get("data-b"), g.get("data-kind")) for g in links]
    assert len(drawn) == len(set(drawn))
    assert set(drawn) == expected_links(network)
    assert {g.get("data-state") for g in nodes + links} == {"unknown"}
    # redundant uplinks are drawn, and differently from parent links
    uplinks = [g for g in links if g.get("data-kind") == "uplink"]
    assert uplinks
    assert "stroke-dasharray" in ET.tostring(uplinks[0]).decode()


@pytest.mark.parametrize("which", ["sample", "hebei"])
def test_every_format_is_written_and_parses(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    network: Network = request.getfixturevalue(which)
    picture = drawing(network)
    out = {fmt: render(picture, fmt) for fmt in FORMATS}
    assert out["png"].startswith(b"\x89PNG\r\n\x1a\n")
    canon = subprocess.run(
        ["dot", "-Tcanon"], input=out["dot"], capture_output=True, check=False, timeout=120
    )
    assert canon.returncode == 0, canon.stderr
    page = out["html"].decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    assert not re.search(r'(src|href)="https?://', page)
    drawio = ET.fromstring(out["drawio"])  # noqa: S314 - written by the test itself
    cells = list(drawio.iter("mxCell"))
    vertices = [c for c in cells if c.get("vertex") == "1"]
    edges = [c for c in cells if c.get("edge") == "1"]
    assert len(vertices) == len(network.nodes) + 1
    assert len(edges) == len(expected_links(network))
    geometry = [c.find("mxGeometry") for c in vertices]
    assert all(g is not None and float(g.get("width", "0")) > 0 for g in geometry)
    assert len({(g.get("x"), g.get("y")) for g in geometry if g is not None}) == len(vertices)
    mermaid = out["mermaid"].decode().splitlines()
    assert mermaid[0] == "flowchart TB"
    assert sum(1 for line in mermaid if re.match(r"  n_\S+ (---|-\.-|===) n_\S+$", line)) == len(
        expected_links(network)
    )


def test_under_draws_the_subtree_only(
    hebei: Network, hebei_inventory: Path, tmp_path: Path
) -> None:
    city = hebei.children("hebei-core-1")[-1].name
    assert hebei.node(city).tier == "city"
    output = tmp_path / "city.svg"
    done = run_egovnet(
        "topology", "draw", "--under", city, "-o", str(output), "--json",
        cwd=tmp_path, inventory=hebei_inventory,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["format"] == "svg"
    svg_text = output.read_text()
    keep = {city, *(child.name for child in hebei.children(city))}
    assert {g.get("data-host") for g in elements(svg_text, "node")} == keep
    drawn = {
        (g.get("data-a"), g.get("data-b"), g.get("data-kind")) for g in elements(svg_text, "link")
    }
    assert drawn == expected_links(hebei, keep)
    bad = run_egovnet(
        "topology", "draw", "--under", "nowhere", "--json", cwd=tmp_path, inventory=hebei_inventory
    )
    assert bad.returncode == 2
    assert "nowhere" in json.loads(bad.stdout)["error"]


def test_the_dot_text_names_every_element_for_the_svg(sample: Network) -> None:
    text = to_dot(drawing(sample))
    for node in sample.nodes:
        assert f'id="node:{node.name}"' in text
    for link in sample.links:
        assert f'id="link:{link.upper.host}:{link.lower.host}"' in text


@pytest.fixture(scope="module")
def prom(sample: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromHarness]:
    with prometheus_harness(sample, tmp_path_factory.mktemp("prom"), down={"zunhua"}) as harness:
        yield harness


def test_live_colours_a_down_node_down_and_the_rest_up(sample: Network, prom: PromHarness) -> None:
    prom.wait_scraped()
    svg_text = draw(sample, "svg", prometheus=prom.prometheus).decode()
    states = {
        g.get("data-host"): g.get("data-state")
        for g in elements(svg_text, "node")
        if g.get("data-tier") != "internet"
    }
    assert states["zunhua"] == "down"
    assert {host for host, state in states.items() if state == "down"} == {"zunhua"}
    # its city answers, but its BGP session to zunhua is not Established
    assert states["tangshan"] == "degraded"
    assert {host for host, state in states.items() if state == "up"} == {
        node.name for node in sample.nodes
    } - {"zunhua", "tangshan"}
    links = {
        (g.get("data-a"), g.get("data-b")): g.get("data-state") for g in elements(svg_text, "link")
    }
    assert links[("tangshan", "zunhua")] == "down"  # the tiny endpoint says its port is down
    assert links[("shijiazhuang", "zhengding")] == "up"
    # the down node's box is filled red in the drawing itself, not only tagged
    zunhua = next(g for g in elements(svg_text, "node") if g.get("data-host") == "zunhua")
    assert "#ef6b6b" in ET.tostring(zunhua).decode()
