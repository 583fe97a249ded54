"""Graded protection (等级保护 2.0, GB/T 22239-2019) as code: rules as data, checked per node
against the level of its tier, on intended, running or live evidence (docs/compliance.md)."""
