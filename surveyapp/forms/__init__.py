"""WTForms classes (Flask-WTF for CSRF). Forms check shape only; services check rules."""
