"""OpenTelemetry Collector configs per environment, and their verification without a
collector binary.

collector_config (the target) → delivery (settings and loss bounds), names (translation of
metric names), series_read (what each service's rules read); verify (schema and structure).
"""
