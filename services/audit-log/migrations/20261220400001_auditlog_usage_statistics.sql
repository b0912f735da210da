-- Art. 7(2): the usage statistics count whole slots per offering and device
-- class in the database (GROUP BY slot, offering, device class, key period),
-- reading usage rows by time only. A partial index of the usage rows by
-- time, holding the counted columns, serves those scans (an index-only scan
-- once the table is vacuumed) without the other kinds of entry. The kind is
-- ENTRY_KIND_USAGE (1), written as a literal in the queries so the planner
-- can use the index (crate::statistics).
CREATE INDEX access_log_usage_statistics ON access_log (occurred_at)
    INCLUDE (offering, device_class, subject_tag)
    WHERE kind = 1;
