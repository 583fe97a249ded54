"""NAPALM's name for egovnet's FRR driver: `napalm.get_network_driver("egovnet_frr")` imports
this package (NAPALM's community naming, `napalm_<name>`) and takes its driver class."""

from nornir_tasks.drivers.napalm_frr import EgovnetFrrDriver

__all__ = ["EgovnetFrrDriver"]
