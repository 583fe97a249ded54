"""Device I/O for egovnet: drivers behind NAPALM's contract, Nornir tasks, the rollout engine.

This part imports the core (`egovnet`) and nothing else of the project; the CLI wires it to
the lab (DESIGN.md, "One source of truth").
"""
