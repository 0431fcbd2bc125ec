"""PrestaShop side: schema fixture, connection, readers, the writers (write/), the capture sources (binlog, poller)."""
