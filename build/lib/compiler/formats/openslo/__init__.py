"""OpenSLO v1 and v1alpha objects as native SLOs.

A :class:`Catalog` collects every OpenSLO object of a run first (SLO, SLI, AlertPolicy,
AlertCondition, DataSource, Service, AlertNotificationTarget), so that names resolve across
files; :func:`convert` then turns each objective of each SLO into a native SLO draft.
"""

from compiler.formats.openslo.catalog import VERSIONS, Catalog
from compiler.formats.openslo.slos import convert

__all__ = ["VERSIONS", "Catalog", "convert"]
