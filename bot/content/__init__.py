"""Topic content: the tree in `topics.yaml` and localized Markdown texts."""
