"""Laporan Cakupan: the one-file offline HTML report of a published snapshot, read from the open analytics.duckdb."""
