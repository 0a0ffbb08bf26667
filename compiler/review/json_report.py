"""The diff as one JSON document, for tools: the model diff's structure, field by field."""

from __future__ import annotations

import json
from typing import Any

from compiler.review.semantic_diff import FieldChange, ItemChange, ModelDiff, TierChange


def _field(change: FieldChange) -> dict[str, Any]:
    return {
        "field": change.name,
        "before": change.before,
        "after": change.after,
        "weaker": change.weaker,
    }


def _tier(tier: TierChange) -> dict[str, Any]:
    return {
        "tier": tier.name,
        "status": tier.status.value,
        "fields": [_field(c) for c in tier.fields],
        "alerting": [_field(c) for c in tier.effects],
        "weaker": list(tier.weaker),
    }


def _item(item: ItemChange) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "name": item.name,
        "status": item.status.value,
        "old_name": item.old_name,
        "summary": [_field(c) for c in item.summary],
        "fields": [_field(c) for c in item.fields],
        "tiers": [_tier(t) for t in item.tiers],
        "weaker": list(item.weaker),
    }


def render(diff: ModelDiff, base: str, head: str) -> str:
    """The document: both sides' labels, whether anything changed, services and routing."""
    document = {
        "base": base,
        "head": head,
        "changed": not diff.empty,
        "services": [
            {
                "service": service.name,
                "status": service.status.value,
                "fields": [_field(c) for c in service.fields],
                "changes": [_item(item) for item in service.items],
            }
            for service in diff.services
        ],
        "routing": [_field(c) for c in diff.routing],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
