"""PrestaShop side: schema fixture, connection, readers, the writers (write/) and the capture sources (binlog, poller)."""
