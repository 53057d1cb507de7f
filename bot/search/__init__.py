"""Free-text search over all content, blind to language and Uzbek script."""
