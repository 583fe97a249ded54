"""The `/snmp` answer in Prometheus's text format, written straight from a `Scrape`.

prometheus-client's `generate_latest` validates and escapes every label of every sample:
for a 60-interface scrape that is 700 lines of ten labels, about 15 ms of CPU, as much
as the SNMP walk itself. Here a row's label text is built once and shared by the row's
dozen metrics, the target's inventory labels once per scrape, and values are formatted by
prometheus-client's own `floatToGoString`. The output is byte for byte what
`generate_latest(ScrapeCollector(scrape))` gives (tests hold the two together): families
and samples in the same order, label names sorted, empty labels kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.utils import floatToGoString

from exporters.collect import ERRORS_HELP, ERRORS_NAME, Scrape, error_counts


def _number(value: float) -> str:
    """A sample value as prometheus-client writes it (`1.0`, `+Inf`, `1.8e+19`)."""
    return str(floatToGoString(value))  # type: ignore[no-untyped-call] # untyped upstream


def _escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def _family(
    name: str,
    kind: str,
    documentation: str,
    base: dict[str, str],
    samples: Iterable[tuple[dict[str, str], float]],
    names: list[str],
    cache: dict[tuple[str, ...], str],
) -> list[str]:
    """One family's HELP, TYPE and sample lines. `names` are the labels of its samples
    besides the target's `base` ones (a missing one is empty); `cache` maps label names
    and values to their text, so that a row's labels are escaped once per scrape."""
    help_text = documentation.replace("\\", r"\\").replace("\n", r"\n")
    lines = [f"# HELP {name} {help_text}\n", f"# TYPE {name} {kind}\n"]
    own = set(names)
    order = tuple(sorted({*base, *names}))
    for labels, value in samples:
        key = (*order, *(labels.get(n, "") if n in own else base[n] for n in order))
        text = cache.get(key)
        if text is None:
            text = ",".join(
                f'{n}="{_escape(v)}"' for n, v in zip(order, key[len(order) :], strict=True)
            )
            cache[key] = text
        braced = f"{{{text}}}" if text else ""
        lines.append(f"{name}{braced} {_number(value)}\n")
    return lines


def render_scrape(result: Scrape) -> bytes:
    """The exposition of one scrape: `egov_snmp_up`, the per-module durations, the failed
    module reads by kind, then the device's families, every series with the target's
    inventory labels."""
    base = result.target.labels
    cache: dict[tuple[str, ...], str] = {}
    lines = _family(
        "egov_snmp_up",
        "gauge",
        "1 if every requested module was read from the device, else 0.",
        base,
        [({}, 1.0 if result.up else 0.0)],
        [],
        cache,
    )
    lines += _family(
        "egov_snmp_scrape_duration_seconds",
        "gauge",
        "Seconds this scrape took, per module.",
        base,
        [({"module": m}, s) for m, s in sorted(result.durations.items())],
        ["module"],
        cache,
    )
    lines += _family(
        ERRORS_NAME,
        "gauge",
        ERRORS_HELP,
        base,
        [({"kind": kind}, count) for kind, count in error_counts(result).items()],
        ["kind"],
        cache,
    )
    for family in result.families:
        names = sorted({key for labels, _ in family.samples for key in labels})
        kind = "counter" if family.kind == "counter" else "gauge"
        lines += _family(family.name, kind, family.help, base, family.samples, names, cache)
    return "".join(lines).encode("utf-8")
