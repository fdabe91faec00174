"""Where a subject may and may not be: allowed and exclusion zones, and the rules that judge a
position against them. Curfews and travel permits, when they come, live here too."""
