"""NAPALM's name for egovnet's Huawei VRP driver: `napalm.get_network_driver("egovnet_huawei_vrp")`
imports this package (NAPALM's community naming, `napalm_<name>`) and takes its driver class."""

from nornir_tasks.drivers.napalm_vendor import EgovnetHuaweiVrpDriver

__all__ = ["EgovnetHuaweiVrpDriver"]
