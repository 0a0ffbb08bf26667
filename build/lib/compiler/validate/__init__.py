"""Stage 3, validate: from schema-valid documents to the model, checking what a schema cannot.

context (the checker that collects diagnostics, the spec's metric catalog, field parsers) is
shared; one module per document kind or section builds its part of the model: services
(SLOs and tiers) with signals, drills, dashboards, span_slis and gate_policy; routing;
environments. Every problem is collected with file, line and field before giving up.
"""
