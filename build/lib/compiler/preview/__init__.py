"""``slo preview``: every dashboard drawn to PNG from a real Prometheus over a synthetic
incident, without a Grafana.

incident (the synthetic history) → live (the dashboards' queries, run) → render (matplotlib)
→ draw (the command).
"""
