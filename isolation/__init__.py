"""Extranet/internet isolation and interconnection: audits from configs, routing tables and
probes, and the reachability matrix. Imports only the core `egovnet`; lab access is injected."""
