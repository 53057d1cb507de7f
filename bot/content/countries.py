"""The country first: which topics apply to a person in one country, in which order.

`countries:` in topics.yaml says where a topic applies; an empty list means everywhere. For a
person in (or going to) a country, a section shows that country's topics first and hides those
of other countries; a section that is itself about another country (opened from "All
countries", a search or a link) shows everything in it. Pure: no I/O.
"""
from __future__ import annotations

from bot.content.model import Content, Topic


def applies(topic: Topic, country: str | None) -> bool:
    return country is None or not topic.countries or country in topic.countries


def is_for(topic: Topic, country: str | None) -> bool:
    """The topic is about this country in particular (not one that applies everywhere)."""
    return country is not None and country in topic.countries


def visible_children(content: Content, key: str,
                     country: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(shown, hidden): the children of `key` for a person in `country`, that country's own
    first, and those of other countries."""
    topic = content.topics[key]
    if country is None or not applies(topic, country):
        return topic.children, ()
    children = [content.topics[child] for child in topic.children]
    own = [c.key for c in children if is_for(c, country)]
    everywhere = [c.key for c in children if not c.countries]
    hidden = tuple(c.key for c in children if not applies(c, country))
    return tuple(own + everywhere), hidden


def country_sections(content: Content, country: str | None) -> tuple[str, ...]:
    """The topmost topics about this country (its section under Visas, say): the main menu's
    shortcut to them."""
    if country is None:
        return ()
    found = []
    for key, topic in content.topics.items():
        parent = content.topics.get(topic.parent) if topic.parent else None
        if is_for(topic, country) and (parent is None or not is_for(parent, country)):
            found.append(key)
    return tuple(found)
