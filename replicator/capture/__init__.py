"""Change capture, side-neutral core: watched tables, row snapshots and diffs, the background committer, and the
service that runs each side's capture source (binlog/poller in prestashop/, scanner/watcher in factusol/)."""
