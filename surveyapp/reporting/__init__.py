"""Writing plain data to files (CSV, XLSX); no database, no Flask."""
