"""Models come with the alert rules issue."""
