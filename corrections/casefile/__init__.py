"""A subject's case file as officers see it: enrolling a person with their plan and zones in
one step, and the pages and API that show the person, plan, zones, check-ins and alerts
together. It composes the person record, zones, check-ins and the alert queue through their
services, and nothing below imports it."""
