"""Authentication (passwords, tokens, login loaders) and the one authorisation policy."""
