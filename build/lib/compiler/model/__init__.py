"""Stage 2, the model: frozen dataclasses that every later stage reads.

service (ServiceSpec, SpecSet: the roots) → slo, signal, drill, dashboard, routing,
environment, span_metrics. Nothing here reads YAML or writes PromQL text; the modules import
only each other (in that direction) and the base modules at the top of the package.
"""
