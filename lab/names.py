"""The names a lab gives what it puts in the root namespace, all derived from the lab's name.

Two labs may run on one machine (a demo beside a test run): each finds and removes only its
own bridge, veths, nftables table and unreachable routes, by these names and marks alone,
with no state file. Linux interface names hold 15 characters at most, so they carry a short
tag of the lab's name (4 hex characters of its SHA-256) rather than the name itself; `lab up`
refuses to start beside another running lab with the same tag.

>>> lab_tag("egovnet"), bridge("egovnet"), management_veth("egovnet", 12)
('6892', 'egv6892br', 'egv6892-12')
>>> guard_table("egovnet"), guard_metric("egovnet")
('egovnet_guard_6892', 42446770)
"""

from __future__ import annotations

import hashlib

TAG_LENGTH = 4
INTERFACE_STEM = "egv"
"""Every interface of every lab in the root namespace starts with this, then the lab's tag."""
GUARD_METRIC_BASE = 42_420_000
"""A lab's unreachable routes carry metric base + its tag (0..65535): marked per lab, and
recognisable as some lab's guard route by the range."""
GUARD_METRIC_SPAN = 16**TAG_LENGTH


def lab_tag(lab: str) -> str:
    """The lab's short tag: 4 hex characters of the SHA-256 of its name."""
    return hashlib.sha256(lab.encode()).hexdigest()[:TAG_LENGTH]


def interface_prefix(lab: str) -> str:
    """What every interface of this lab in the root namespace starts with."""
    return f"{INTERFACE_STEM}{lab_tag(lab)}"


def bridge(lab: str) -> str:
    """The lab's management bridge in the root namespace."""
    return f"{interface_prefix(lab)}br"


def management_veth(lab: str, index: int) -> str:
    """The root end of the management veth of the lab's `index`-th router."""
    return f"{interface_prefix(lab)}-{index}"


def guard_table(lab: str) -> str:
    """The lab's nftables table (inet family) that drops forwarding on its interfaces."""
    return f"egovnet_guard_{lab_tag(lab)}"


def guard_metric(lab: str) -> int:
    """The metric that marks the lab's own unreachable routes."""
    return GUARD_METRIC_BASE + int(lab_tag(lab), 16)


def is_guard_metric(metric: object) -> bool:
    """Whether a route's metric marks it as some lab's guard route."""
    return isinstance(metric, int) and 0 <= metric - GUARD_METRIC_BASE < GUARD_METRIC_SPAN
