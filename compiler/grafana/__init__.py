"""Grafana dashboards: built with grafana-foundation-sdk, checked, previewed."""
