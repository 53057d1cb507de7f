"""Benchmark harness: the bot against a minimal echo bot, both over real HTTP to a local fake
Telegram. Run `python -m bench --help`; bench/README.md explains every figure."""
