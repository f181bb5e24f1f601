"""Use cases: each takes a session and the acting user, checks permission, writes the audit log."""
