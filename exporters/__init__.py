"""Monitoring: the SNMP exporter, its modules, and the Prometheus/Alertmanager/Grafana
configuration generated from the inventory (DESIGN.md, "Monitoring contract")."""
