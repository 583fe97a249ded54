"""Workflows: what egovnet does to a network, as plain functions over the model.

backup, diff, rollout, enforce and audit each take the `Network` (or what was read from it)
and the I/O they need as small protocols or callables (`ports`): the devices, the rollout
engine, the isolation checks, progress callbacks, a clock. They return typed results whose
`as_dict()` is the `--json` document. Nothing here imports a part (isolation, nornir_tasks,
exporters, lab, topology): `egovnet.wiring` joins the parts and hands them in, and the CLI
only parses options, calls a workflow with the wiring, and prints.
"""
