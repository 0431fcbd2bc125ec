"""FactuSOL side: schema fixture, Access-checked pyodbc connection, stand-in sandbox, readers and writers."""
