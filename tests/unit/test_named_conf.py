"""The named.conf reader the DNS leak rules stand on: what a view does for its clients, and
failing closed on what it cannot read or does not model."""

from __future__ import annotations

import shutil
import subprocess
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from egovnet.configs.named import parse_named

TWO_VIEWS = """
// private zones resolve extranet names only; public ones through the exit
acl private_clients { 10.80.0.0/16; };
options {
    directory "/var/cache/bind";
    recursion no;
    dnssec-validation no;
};
view "private" {
    match-clients { 10.80.0.0/16; 10.104.0.0/16; };
    recursion no;
    zone "hebei.egov" { type master; file "db.hebei.egov"; };
};
view "public" {
    match-clients { 10.96.0.0/16; };
    recursion yes;
    forwarders { 10.96.56.2; };
    forward only;
    zone "hebei.egov" { type slave; masters { 10.112.0.2; }; file "sec.hebei.egov"; };
};
"""


def test_views_say_who_recurses_and_where_they_forward() -> None:
    config = parse_named(TWO_VIEWS)
    private, public = config.view("private"), config.view("public")
    assert private is not None
    assert public is not None
    assert private.match_clients == ("10.80.0.0/16", "10.104.0.0/16")
    assert config.acls == {"private_clients": ("10.80.0.0/16",)}
    assert config.unmodelled == []
    assert config.unparsed == []
    assert not config.recurses(private)
    assert not config.roots(private)
    assert config.forwarders_of(public) == (IPv4Address("10.96.56.2"),)
    assert config.recurses(public)
    assert not config.roots(public)
    assert [z.kind for z in private.zones + public.zones] == ["primary", "secondary"]
    assert public.zones[0].primaries == (IPv4Address("10.112.0.2"),)


def test_recursion_left_unwritten_is_binds_default_yes_toward_the_roots() -> None:
    config = parse_named('options { directory "/x"; };\nzone "a.egov" { type primary; };\n')
    (view,) = config.views
    assert config.recurses(view)
    assert config.roots(view)


def test_a_forward_zone_counts_as_forwarding() -> None:
    config = parse_named(
        'view "v" { recursion yes; zone "." { type forward; forwarders { 198.18.0.9; }; }; };'
    )
    assert config.forwarders_of(config.views[0]) == (IPv4Address("198.18.0.9"),)


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ('include "/etc/bind/more.conf";\n', "unmodelled", "include"),
        ("options { recursion maybe; };\n", "unparsed", "recursion needs yes or no"),
        ('options { directory "/x"\n', "unparsed", "statement without ';'"),
        ("options { forwarders { resolvers; }; };\n", "unmodelled", "forwarders entry"),
        ('view "v" { dlz "x" { database "y"; }; };\n', "unmodelled", "view dlz"),
        ('view "v" { };\nzone "a" { type primary; };\n', "unparsed", "zone outside a view"),
        ("options { /* never closed\n", "unparsed", "unterminated"),
    ],
)
def test_what_it_cannot_read_or_model_is_kept_with_its_line(
    text: str, kind: str, reason: str
) -> None:
    config = parse_named(text, "dns1/named.conf")
    kept = config.unparsed if kind == "unparsed" else config.unmodelled
    said = [getattr(item, "reason", getattr(item, "construct", "")) for item in kept]
    assert any(reason in s for s in said), said
    assert all(item.where.file == "dns1/named.conf" for item in kept)


@pytest.mark.skipif(shutil.which("named-checkconf") is None, reason="bind9-utils not installed")
def test_the_example_is_a_config_bind_itself_accepts(tmp_path: Path) -> None:
    path = tmp_path / "named.conf"
    path.write_text(TWO_VIEWS)
    done = subprocess.run(
        ["named-checkconf", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
