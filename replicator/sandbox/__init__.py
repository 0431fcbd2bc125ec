"""Stand-ins for trying and testing the replicator: FactuSOL and shop sandboxes, seed data, a local MariaDB,
the demo, and the pytest plugin that checks every FactuSOL statement is Access SQL. Never used by the service."""
