"""promtool rule tests generated from the model: every SLO, signal and drill proven on
synthetic series by Prometheus's own engine.

promtool_files (the target) ← slo_scenarios with timeline (the exact model of the rules),
shapes (which SLOs share one full scenario set), signal_scenarios, event_series (raw
counters an SLI reads).
"""
