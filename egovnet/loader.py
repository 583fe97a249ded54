"""From the inventory directory to a validated `Network` with every address allocated.

The loader works in stages and keeps going after a problem so that one run reports all of
them: files (UTF-8, YAML, duplicate keys, plain-text secrets) and shapes (unknown keys,
types) here; the tree (parents, tiers, cycles, uplinks) in `egovnet.tree_checks`; slots,
pools and addresses (hand-written ones checked against pools and each other) in
`egovnet.allocation`; the policy's and the services' references to hosts and addresses in
`egovnet.policy` and `egovnet.references`. Each stage only runs on what the previous ones
left sound, so one mistake does not echo as ten.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from egovnet import schema
from egovnet.addressing import management_station
from egovnet.allocation import allocate, assign_slots, check_pools, leaf_indexes, plan_layout
from egovnet.drafts import (
    DEFAULTS,
    GROUPS,
    HOSTS,
    NETWORK,
    HostDraft,
    LoadContext,
    Source,
)
from egovnet.model import (
    Network,
    Zone,
)
from egovnet.perf import bulk_build
from egovnet.policy import build_policy, check_policy
from egovnet.references import check_services
from egovnet.schema import (
    HOST_NAME,
    HostData,
    HostSpec,
    NetworkSpec,
)
from egovnet.secrets import SECRET_KEY, find_plaintext_secrets
from egovnet.service_zone import build_service_zone, check_service_zone
from egovnet.tree_checks import check_tree
from egovnet.yamlio import line_of, load_yaml_file

_KNOWN_KEYS = sorted(
    {
        name
        for model in vars(schema).values()
        if isinstance(model, type) and issubclass(model, BaseModel) and model is not BaseModel
        for name in model.model_fields
    }
)


class _Reader(LoadContext):
    """Reads the files and validates their shapes (stages 1 and 2)."""

    # ----- pass 1: files -------------------------------------------------------------
    def read_files(self) -> None:
        for name, required in ((HOSTS, True), (GROUPS, False), (DEFAULTS, False), (NETWORK, True)):
            path = self.directory / name
            document = load_yaml_file(path, self.problems, required=required)
            if document is not None and not isinstance(document, dict):
                self.problems.add(path, "", "must be a mapping at the top level", line=1)
                document = None
            if document is not None:
                self.secret_paths[name] = find_plaintext_secrets(
                    document, str(path), self.problems, references=name == NETWORK
                )
            self.docs[name] = document

    def body(self, file_name: str, entry: Any, base: tuple[str | int, ...]) -> Any:
        """An entry as plain data, minus the plain-text secrets already reported in it.

        Dropping them keeps the host in play (so one mistake is one problem) and keeps their
        values out of every later message.
        """
        plain = _plain(entry)
        for path in self.secret_paths.get(file_name, ()):
            if path[: len(base)] != base or not isinstance(plain, dict):
                continue
            node: Any = plain
            for step in path[len(base) : -1]:
                inside_dict = isinstance(node, dict) and step in node
                inside_list = isinstance(node, list) and isinstance(step, int) and step < len(node)
                node = node[step] if inside_dict or inside_list else None
            if isinstance(node, dict):
                node.pop(path[-1], None)
        return plain

    # ----- pass 2: shapes ------------------------------------------------------------
    def report(
        self,
        exc: ValidationError,
        file: str,
        document: Any,
        base: tuple[str | int, ...],
        host: str | None = None,
        field_prefix: str = "",
    ) -> None:
        for error in exc.errors():
            loc = tuple(error["loc"])
            field_name = ".".join(str(p) for p in (*base[1 if host else 0 :], *loc))
            if field_prefix:
                field_name = f"{field_prefix}.{field_name}" if field_name else field_prefix
            self.problems.add(
                file,
                field_name,
                _message(error),
                host=host,
                line=line_of(document, (*base, *loc)),
            )

    def validate_network(self) -> NetworkSpec | None:
        document = self.docs.get(NETWORK)
        if document is None:
            return None
        try:
            return NetworkSpec.model_validate(self.body(NETWORK, document, ()))
        except ValidationError as exc:
            self.report(exc, self.file(NETWORK), document, ())
            return None

    def validate_groups(self) -> dict[str, HostSpec]:
        groups: dict[str, HostSpec] = {}
        for file_name in (GROUPS, DEFAULTS):
            document = self.docs.get(file_name)
            if document is None:
                continue
            entries = {"defaults": document} if file_name == DEFAULTS else document
            for name, entry in entries.items():
                base: tuple[str, ...] = () if file_name == DEFAULTS else (name,)
                body = self.body(file_name, entry, base) if isinstance(entry, dict) else entry
                try:
                    groups[name] = HostSpec.model_validate(body or {})
                except ValidationError as exc:
                    self.report(exc, self.file(file_name), document, base)
        return groups

    def resolve_hosts(self, groups: dict[str, HostSpec]) -> dict[str, HostDraft]:
        document = self.docs.get(HOSTS)
        drafts: dict[str, HostDraft] = {}
        if document is None:
            return drafts
        hosts_file = self.file(HOSTS)
        for order, (name, entry) in enumerate(document.items()):
            line = document.lines.get(name)
            if not HOST_NAME.match(name):
                self.problems.add(
                    hosts_file,
                    "",
                    f"invalid host name '{name}': use lower-case letters, digits and '-'",
                    host=name,
                    line=line,
                )
                continue
            body = self.body(HOSTS, entry, (name,)) if isinstance(entry, dict) else entry
            try:
                spec = HostSpec.model_validate(body or {})
            except ValidationError as exc:
                self.report(exc, hosts_file, document, (name,), host=name)
                self.invalid_hosts.add(name)
                continue
            draft = self._inherit(name, spec, entry, groups, order)
            if draft is None:
                self.invalid_hosts.add(name)
            else:
                drafts[name] = draft
        return drafts

    def _inherit(
        self, name: str, spec: HostSpec, entry: Any, groups: dict[str, HostSpec], order: int
    ) -> HostDraft | None:
        """Nornir's precedence: the host, then its groups depth-first, then defaults."""
        hosts_file = self.file(HOSTS)
        hosts_doc = self.docs[HOSTS]
        sources: dict[str, Source] = {"__host__": Source(hosts_file, hosts_doc, (name,))}
        data: dict[str, Any] = dict(spec.data)
        for key in data:
            sources[key] = Source(hosts_file, hosts_doc, (name, "data"))
        platform = spec.platform
        chain: list[str] = []
        pending = list(spec.groups)
        while pending:
            group = pending.pop(0)
            if group in chain:
                continue
            if group not in groups or group == "defaults":
                self.problems.add(
                    hosts_file,
                    "groups",
                    f"unknown group '{group}' (not in groups.yaml)",
                    host=name,
                    line=line_of(hosts_doc, (name, "groups")),
                )
                return None
            chain.append(group)
            pending[:0] = groups[group].groups
        if "defaults" in groups:
            chain.append("defaults")
        for group in chain:
            group_spec = groups[group]
            file_name = DEFAULTS if group == "defaults" else GROUPS
            base: tuple[str, ...] = ("data",) if group == "defaults" else (group, "data")
            for key, value in group_spec.data.items():
                if key not in data:
                    data[key] = value
                    sources[key] = Source(self.file(file_name), self.docs[file_name], base)
            platform = platform or group_spec.platform
        if platform is None:
            self.problems.add(
                hosts_file,
                "platform",
                "no platform set on the host, its groups or defaults",
                host=name,
                line=sources["__host__"].line(),
            )
            return None
        try:
            host_data = HostData.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                key = str(loc[0]) if loc else ""
                source = sources.get(key, Source(hosts_file, hosts_doc, (name, "data")))
                self.problems.add(
                    source.file,
                    ".".join(str(p) for p in ("data", *loc)),
                    _message(error),
                    host=name,
                    line=source.line(*loc) or sources["__host__"].line(),
                )
            return None
        return HostDraft(name, spec, host_data, sources, order, platform)


def _plain(value: Any) -> Any:
    """LineDicts back to plain dicts/lists so pydantic sees ordinary input."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _message(error: Any) -> str:
    """A pydantic error in the words an engineer reading an inventory expects."""
    kind = error["type"]
    loc = error["loc"]
    last = str(loc[-1]) if loc else ""
    got = error.get("input")
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(last, _KNOWN_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{last}'{hint}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        noun = {"tier": "tier", "platform": "platform"}.get(last, "value")
        return f"unknown {noun} '{got}': expected {expected}"
    if kind == "missing":
        return "required field is missing"
    text = str(error["msg"]).removeprefix("Value error, ")
    secret_like = any(SECRET_KEY.search(str(step)) for step in loc)
    if isinstance(got, str | int | float) and not isinstance(got, bool) and not secret_like:
        text += f" (got {got!r})"
    return text


# --------------------------------------------------------------------------------------


def load_network(directory: Path | str) -> Network:
    """Load, validate and allocate the inventory in `directory`.

    Raises `InventoryError` listing every problem found; returns an immutable `Network`.
    """
    with bulk_build():
        return _load_network(Path(directory))


def _load_network(directory: Path) -> Network:
    loader = _Reader(directory)
    if not loader.directory.is_dir():
        loader.problems.add(
            loader.directory,
            "",
            "inventory directory not found (choose one with -i DIR or $EGOVNET_INVENTORY)",
        )
        loader.problems.raise_if_any()
    loader.read_files()
    spec = loader.validate_network()
    groups = loader.validate_groups()
    drafts = loader.resolve_hosts(groups)
    if loader.docs.get(HOSTS) is not None and not loader.docs[HOSTS] and not loader.problems:
        loader.problems.add(loader.file(HOSTS), "", "no hosts defined")
    tree_ok = check_tree(loader, drafts, spec.address_plan if spec else None)
    if spec is None or not tree_ok or loader.problems:
        loader.problems.raise_if_any()
    assert spec is not None  # for mypy: raise_if_any raised otherwise  # noqa: S101
    layout = plan_layout(spec)
    top_level = min(d.level for d in drafts.values())
    if not check_pools(loader, spec, layout, top_level):
        loader.problems.raise_if_any()
    if not assign_slots(loader, drafts, layout, spec):
        loader.problems.raise_if_any()
    leaf_indexes(drafts, layout.hierarchy)
    nodes, links = allocate(loader, drafts, spec, layout)
    check_policy(loader, spec, nodes)
    check_services(loader, spec, nodes)
    check_service_zone(loader, spec, nodes)
    loader.problems.raise_if_any()
    zones = tuple(
        Zone(
            name=name,
            description=z.description,
            pool=z.pool,
            internet=z.internet,
            vlan=z.vlan,
            department_vlan_base=z.department_vlan_base,
            department_prefixlen=z.department_prefixlen,
        )
        for name, z in spec.zones.items()
    )
    plan = spec.address_plan
    policy = build_policy(spec, nodes)
    return Network.model_construct(
        name=spec.name,
        source=str(loader.directory),
        spec=spec,
        zones=zones,
        nodes=tuple(nodes),
        links=tuple(links),
        loopback_pool=plan.loopbacks,
        link_pool=plan.links,
        management_subnet=plan.management,
        management_station=management_station(plan.management),
        routing=spec.routing,
        services=spec.services,
        policy=policy,
        service_zone=build_service_zone(spec, nodes, policy.exits),
    )
