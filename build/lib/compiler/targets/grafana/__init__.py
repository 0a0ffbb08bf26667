"""Grafana dashboards: per service, an overview, and the dashboards specs declare.

dashboards (the target) → service_dashboard, overview_dashboard, declared_dashboard →
panels, slo_queries, variables, sdk (Grafana's typed builders); lint checks the JSON.
"""
