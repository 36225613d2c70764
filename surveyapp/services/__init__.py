"""Business logic as plain functions over models; each public function commits at most once."""
