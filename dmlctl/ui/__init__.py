"""Everything dmlctl shows on a terminal: consoles, progress views, tables, status and job
summaries. The one place that uses rich."""
