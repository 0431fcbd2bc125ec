"""FactuSOL side: schema fixture, Access-checked pyodbc connection, errors, fiscal-year files, readers, writers and
the capture source (scanner and watcher)."""
