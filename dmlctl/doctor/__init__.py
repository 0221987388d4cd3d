"""Preflight checks: what each host must offer, asked in one probe per host, judged with a
fix for every failure."""
