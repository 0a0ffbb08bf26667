"""Stage 1, load: spec files found, read as YAML with a line for every value, and checked
against the spec's JSON Schema (``compiler/schema/``).

discovery (which files are specs) → loader (YAML nodes, file:line) → schema_check (JSON Schema
errors as diagnostics at the offending line and field).
"""
