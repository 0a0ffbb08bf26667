"""slo-compiler: declarative SLO specs compiled into rules, tests, dashboards and gates."""
