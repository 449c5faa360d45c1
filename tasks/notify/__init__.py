"""Notifications and letters: preferences, templates, delivery channels and the outbox worker."""
