"""The release gate: ``slo gate`` decides PASS, BLOCK or UNKNOWN per SLO from a live server.

signoffs (files in the repository) → prometheus_api (HTTP, failing closed) → evidence (what
the server says about each SLO) → decision (pure) → report (text, JSON, JUnit, GitHub) →
command (the CLI). The spec's ``gate:`` policy is built with the rest of the model, in
compiler.validate.gate_policy.
"""
