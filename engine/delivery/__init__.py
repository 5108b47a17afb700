"""Messages and their delivery: texts, invitations, channels."""
