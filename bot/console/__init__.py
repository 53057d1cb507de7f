"""The staff console: a web app on the same database and services as the bot.

It never imports bot.handlers, and the handlers never import it (design.md §8). A reply
written here is a row in the outbox that a bot process sends.
"""
