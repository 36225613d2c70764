"""Reading uploaded files into plain rows (no database, no Flask)."""
