// Commits that need not wait for their WAL to reach the disk (decision 044). A lease — a claim whose only purpose is to
// keep other holders out while this process lives — loses nothing when a crash loses it: the holder is gone with it,
// and its work is redone under a new claim. Such a statement calls this in its RETURNING list, so only a statement
// that changed a row sets it, and only for its own transaction (set_config's is_local: an autocommit statement's
// implicit transaction; the setting is back to on at the next statement). The next commit that does wait (an outcome,
// pg-boss's own statements) flushes everything before it, so the order of what reaches the disk is unchanged.
//
// Embedded PGlite: no fsync at this commit (decision 042 made each one an fsync on the one database thread, ≈ 2 ms of
// its time and ≈ 0.7 ms of CPU); a process killed before the next flush loses the lease, i.e. nothing.
// PostgreSQL: the commit returns before the WAL writer flushes it (≤ 3 × wal_writer_delay); a server crash in that
// window loses the lease while this process keeps running, so a statement whose loss would leave work behind (the Test
// & Enable run's claim) must not use it there.
export const UNFLUSHED_COMMIT = `set_config('synchronous_commit', 'off', true)`;
