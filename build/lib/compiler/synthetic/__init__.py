"""Synthetic metric series and the real Prometheus tools that evaluate them.

series (shapes in plain terms, rendered for promtool and backfill) and labels (the one
matcher and label solver) serve the rule-test target, drills and previews; promtool,
local_prometheus, live_history and exporter run Prometheus's own engine on 127.0.0.1.
Nothing here knows the model: targets and tests describe what they need in these terms.
"""
