"""Business rules. No Telegram imports here: services take and return plain data."""
