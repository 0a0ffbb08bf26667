"""Prometheus rules: recording rules and burn-rate alerts per SLO, alerts per signal, and
the deploy formats (PrometheusRule objects, mimirtool namespaces).

rule_files (one file per service) → slo_rules, signal_rules (with templating for alert
texts) ; rule_formats wraps the same groups for operators and rulers.
"""
