"""Administration: offices (and, with them, the accounts that work in them) as the bureau's
administrators keep them. Above `auth`, which decides who may."""
