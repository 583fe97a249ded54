"""Ansible module `egovnet_snmp`: does a router's SNMP agent answer the NOC's SNMPv3 user?

The rollout's SNMP gate, for the playbooks: run on the controller (`delegate_to:
localhost`), it reads sysUpTime as the NOC's user through `egovnet.probes`, the gate's own
probe. Its arguments name the user and where its keys are (the secrets' names and the
secrets file's path): no key is ever an argument, so none lands in the run's artifacts.
"""

from __future__ import annotations

import time
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule  # type: ignore[import-untyped]  # untyped

from egovnet.probes import snmp_answers
from egovnet.schema import SecretRef, SnmpUserSpec
from egovnet.secrets import SecretStore, snmp_credentials

ARGUMENTS = {
    "host": {"type": "str", "required": True},
    "user": {"type": "dict", "required": True},
    "secrets_file": {"type": "path", "required": False},
    "timeout": {"type": "float", "default": 90.0},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENTS, supports_check_mode=True)
    params = module.params
    user = params["user"]
    spec = SnmpUserSpec(
        name=user["name"],
        group=user.get("group", "egov-ro"),
        auth=user.get("auth", "sha"),
        auth_key=SecretRef(secret=user["auth_secret"]),
        priv=user.get("priv", "aes128"),
        priv_key=SecretRef(secret=user["priv_secret"]),
    )
    file = Path(params["secrets_file"]) if params.get("secrets_file") else None
    credentials = snmp_credentials(spec, SecretStore(file))
    deadline = time.monotonic() + float(params["timeout"])
    while True:
        if snmp_answers(params["host"], user=credentials):
            module.exit_json(changed=False, msg=f"SNMP answers on {params['host']}")
        if time.monotonic() >= deadline:
            module.fail_json(msg=f"SNMP does not answer on {params['host']} as {spec.name}")
        time.sleep(2)


if __name__ == "__main__":
    main()
