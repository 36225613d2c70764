"""Blueprints: thin views that parse a form, check the policy, call one service, respond."""
