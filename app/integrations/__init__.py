"""Talking to other systems: outbound webhooks and the verification of inbound ones."""
