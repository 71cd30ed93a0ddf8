"""Snapshot dates: one partition per day in Kendari's time zone (WITA)."""

import dagster as dg

TIMEZONE = "Asia/Makassar"

# end_offset=1 includes today (WITA): the nightly run materialises the snapshot delivered today.
snapshot_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone=TIMEZONE, end_offset=1)
