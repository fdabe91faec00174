"""The bureau's audit page: search the audit log and export it."""
