"""Module files are checked when the exporter starts: a mistake is named by file and field.

The error must point at the line of YAML to fix; a module that loads but silently yields
nothing would only be noticed when a dashboard stays empty.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exporters.modules import MODULE_DIR, ModuleError, load_modules
from tests.console import egovnet

GOOD = """\
name: extra
description: A test module.
tables:
  - name: rows
    index: [{label: idx, type: integer}]
    metrics:
      - {name: egov_test_value, oid: 1.3.6.1.4.1.99999.1.1, type: gauge, help: A value.}
"""


def write(tmp_path: Path, text: str, name: str = "extra") -> Path:
    directory = tmp_path / "modules"
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


def test_shipped_modules_load_with_unique_metric_names() -> None:
    modules = load_modules()
    assert set(modules) == {"system", "if_mib", "ospf", "bgp", "host_resources", "huawei", "h3c"}
    names = [n for m in modules.values() for n in m.metric_names()]
    assert len(names) == len(set(names))
    assert all(n.startswith("egov_") for n in names)
    assert len(modules["if_mib"].tables[0].columns()) == 15


def test_a_good_extra_module_loads(tmp_path: Path) -> None:
    assert "extra" in load_modules([write(tmp_path, GOOD)])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("1.3.6.1.4.1.99999.1.1", "1.3.6.x"), "tables.0.metrics.0.oid"),
        (("egov_test_value", "test_value"), "tables.0.metrics.0.name"),
        (("type: gauge", "type: counter"), "tables.0.metrics.0"),
        (("type: integer", "type: float"), "tables.0.index.0.type"),
        (("label: idx", "label: host"), "tables.0"),
        (("help: A value.", "help: A value., colour: red"), "tables.0.metrics.0.colour"),
        (("description: A test module.\n", ""), "description"),
        (("name: extra", "name: other"), "name"),
    ],
)
def test_a_malformed_module_names_file_and_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    directory = write(tmp_path, text)
    with pytest.raises(ModuleError) as caught:
        load_modules([directory])
    message = str(caught.value)
    assert str(directory / "extra.yaml") in message
    assert f"{field}:" in message or f"{field} " in message, message


def test_a_metric_defined_in_two_modules_is_refused(tmp_path: Path) -> None:
    directory = write(tmp_path, GOOD)
    write(tmp_path, GOOD.replace("name: extra", "name: again"), name="again")
    with pytest.raises(ModuleError, match="egov_test_value' is already defined in"):
        load_modules([directory])


def test_not_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModuleError, match=r"extra\.yaml: cannot read"):
        load_modules([write(tmp_path, "name: [unclosed\n")])


def test_the_exporter_refuses_to_start_on_a_bad_module(tmp_path: Path) -> None:
    directory = tmp_path / "modules"
    shutil.copytree(MODULE_DIR, directory)
    broken = (directory / "bgp.yaml").read_text(encoding="utf-8").replace("type: gauge", "type: x")
    (directory / "bgp.yaml").write_text(broken, encoding="utf-8")
    done = egovnet("exporter", "--modules", str(directory), "--listen", "127.0.0.1:0", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "bgp.yaml" in done.stderr
    assert "tables.0.metrics.0.type" in done.stderr
