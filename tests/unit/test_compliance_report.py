"""The assessor's report (`compliance check --report DIR`): one self-contained HTML page and
the same data as JSON. Opened in Debian's headless Chromium from a file (no server), the page
renders its title and a failing rule with its evidence line; a screenshot is not blank; the
page loads nothing from anywhere (Chromium runs with the network off and the page has no
URL in it); a config line is shown as text, never as markup; secrets are masked."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from compliance.engine import ComplianceReport, check_hosts
from compliance.evidence import EvidenceText, HostEvidence, intended_evidence
from compliance.report import ReportMeta, report_data, write_report
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.workflows.backup import Provenance
from tests.unit.conftest import SAMPLE

CITY, COUNTY = "baoding", "zhuozhou"
CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",  # root, in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
META = ReportMeta(
    "河北省电子政务外网", "2026-12-02T16:50:00Z", Provenance("zhang.wei", "inv", "62723f6")
)


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(SAMPLE)


def edited(evidence: HostEvidence, name: str, old: str, new: str) -> HostEvidence:
    texts = dict(evidence.texts)
    assert old in texts[name].text
    texts[name] = EvidenceText(name, texts[name].text.replace(old, new), f"running/{name}")
    return HostEvidence(evidence.host, evidence.platform, "running", texts)


@pytest.fixture(scope="module")
def report(network: Network) -> ComplianceReport:
    """The city with sshd taking passwords and a `<script>` (and a secret) in its banner, the
    county as intended."""
    evidence = intended_evidence(network, [CITY, COUNTY])
    city = edited(evidence[CITY], "sshd", "PasswordAuthentication no", "PasswordAuthentication yes")
    city = edited(
        city,
        "config",
        "banner motd line ",
        "banner motd line <script>alert(1)</script> s3cret-key ",
    )
    return check_hosts(network, {CITY: city, COUNTY: evidence[COUNTY]})


def mask(text: str) -> str:
    return text.replace("s3cret-key", "<aaa-key>")


def test_the_json_groups_by_family_and_tier_with_who_when_and_which_commit(
    report: ComplianceReport, tmp_path: Path
) -> None:
    html_path, json_path = write_report(tmp_path, report, META, mask)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(report_data(report, META, mask), ensure_ascii=False))
    assert (data["generated"], data["operator"], data["inventory_commit"]) == (
        "2026-12-02T16:50:00Z",
        "zhang.wei",
        "62723f6",
    )
    assert data["ok"] is False
    assert list(data["tiers"]) == ["city", "county"]
    [failing] = [r for r in data["tiers"]["city"]["failing"] if r["rule"] == "ssh-only"]
    assert failing["host"] == CITY
    assert any(line["text"] == "PasswordAuthentication yes" for line in failing["evidence"])
    assert data["tiers"]["county"]["failing"] == []
    assert "identification" in data["families"]
    assert data["families"]["identification"]["name"] == "身份鉴别"
    assert "s3cret" not in json_path.read_text(encoding="utf-8")
    assert "s3cret" not in html_path.read_text(encoding="utf-8")


def test_the_page_is_self_contained(report: ComplianceReport, tmp_path: Path) -> None:
    html_path, _ = write_report(tmp_path, report, META)
    page = html_path.read_text(encoding="utf-8")
    assert not re.search(r"(?i)<(script|link|img|iframe)\b", page)  # the config's is escaped
    assert not re.search(r"(?i)(src|href)\s*=|url\(|https?://", page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def png_pixels(path: Path) -> bytes:
    """The decompressed image data of a PNG (filter bytes included): enough to tell a
    rendered page (anti-aliased text: many byte values) from a blank one (a handful)."""
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    return zlib.decompress(b"".join(chunks))


def chromium(page: Path, profile: Path, *extra: str) -> str:
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def browser() -> str:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (Debian package chromium)")
        pytest.skip("chromium is not installed (Debian package chromium)")
    return CHROMIUM


def test_the_report_renders_in_chromium_with_a_failing_rule_and_its_evidence(
    report: ComplianceReport, tmp_path: Path, browser: str
) -> None:
    html_path, _ = write_report(tmp_path / "report", report, META)
    dom = chromium(html_path, tmp_path / "profile", "--dump-dom")
    assert (
        "<title>Graded protection (等级保护 2.0) compliance report: 河北省电子政务外网</title>"
        in dom
    )
    rows = re.findall(r'<tr class="fail">(.*?)</tr>', dom, re.S)
    city_ssh = [row for row in rows if "ssh-only" in row and f"<td>{CITY}</td>" in row]
    assert city_ssh, "no failing ssh-only row of the city"
    assert "PasswordAuthentication yes" in city_ssh[0]
    shot = tmp_path / "report.png"
    chromium(html_path, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,900")
    assert len(set(png_pixels(shot))) > 32, "the screenshot is blank"


def test_check_writes_the_report_and_the_exporters_state(tmp_path: Path) -> None:
    """`compliance check --report DIR --state FILE` on the sample's intended configs: both
    written, the report clean, the state with no failure and every host counted."""
    from tests.console import egovnet  # noqa: PLC0415 - only this test runs the CLI

    done = egovnet(
        "compliance", "check", "--report", str(tmp_path / "r"), "--state",
        str(tmp_path / "state.json"), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["report"] == [
        str(tmp_path / "r" / "compliance.html"),
        str(tmp_path / "r" / "compliance.json"),
    ]
    data = json.loads((tmp_path / "r" / "compliance.json").read_text(encoding="utf-8"))
    assert data["ok"] is True
    assert data["source"] == "intended"
    state = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    assert (state["failures"], state["hosts"], state["source"]) == ([], 13, "intended")
