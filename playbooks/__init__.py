"""Ansible playbooks (backup, deploy, facts) for teams that run Ansible, and the one call that
runs them: `playbooks.runner.run_playbook`, over ansible-runner's Python API.

The playbooks read the inventory `egovnet inventory export --format ansible` writes and the
files the wiring stages (rendered configs, packet filters); nothing is downloaded at run
time, and only collections the `ansible` package ships are used (docs/ansible.md).
"""
