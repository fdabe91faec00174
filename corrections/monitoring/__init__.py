"""Electronic-monitoring orders: requested on a statutory ground, approved by the bureau, ended
early; `services.in_force` says whether continuous tracking is lawful at a moment."""
