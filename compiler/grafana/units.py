"""Grafana unit ids a panel may use (from Grafana's value formats, the common ones)."""

from __future__ import annotations

# The ids Grafana's unit picker writes into fieldConfig.defaults.unit. dashboard-linter's
# panel-units-rule accepts these (it lists Grafana's categories.ts); rarer physical units
# are left out on purpose: a typo should be caught, not matched against "radsvh".
GRAFANA_UNITS = frozenset(
    {
        # misc
        "none", "string", "short", "percent", "percentunit", "sci", "locale",
        # time
        "ns", "µs", "ms", "s", "m", "h", "d", "dtdurationms", "dtdurations", "dthms", "dtdhms",
        "clockms", "clocks", "hertz",
        # throughput
        "cps", "ops", "reqps", "rps", "wps", "iops", "cpm", "opm", "rpm", "wpm",
        # data and data rate
        "bytes", "decbytes", "bits", "decbits", "kbytes", "deckbytes", "mbytes", "decmbytes",
        "gbytes", "decgbytes", "tbytes", "dectbytes", "pps", "binBps", "Bps", "binbps", "bps",
        "KiBs", "KBs", "MiBs", "MBs", "GiBs", "GBs",
        # currency
        "currencyUSD", "currencyEUR", "currencyGBP", "currencyJPY", "currencyCHF",
        # boolean
        "bool", "bool_yes_no", "bool_on_off",
        # dates
        "dateTimeAsIso", "dateTimeAsLocal", "dateTimeFromNow",
    }
)  # fmt: skip
