"""NAPALM's name for egovnet's H3C Comware driver:
`napalm.get_network_driver("egovnet_h3c_comware")` imports this package (NAPALM's community
naming, `napalm_<name>`) and takes its driver class."""

from nornir_tasks.drivers.napalm_vendor import EgovnetH3cComwareDriver

__all__ = ["EgovnetH3cComwareDriver"]
