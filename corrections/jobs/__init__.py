"""The scheduler's own record: every run of a scheduled job, and the scheduler's heartbeat, so
officers and operators can tell a live sweep from a dead one."""
