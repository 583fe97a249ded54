"""The one place that joins the parts: the workflows' I/O made of real parts.

The core (`egovnet.workflows` and below) imports no part, and no part imports another; what a
workflow needs from a part is built here and handed in: the Nornir devices and rollout
engine (`devices`), the lab as the isolation part's `LabAccess` and the gates' ping probe
(`lab`), the isolation checks (`isolation`). The CLI, the lab tests and the benchmarks import
these instead of reaching into the CLI.
"""
