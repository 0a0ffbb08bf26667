"""`slo explain`, `slo diff` and `slo lint`: what a spec change does, for a reviewer."""
