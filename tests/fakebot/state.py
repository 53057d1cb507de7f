"""What the fake Telegram knows: users, chats, messages, pending updates, bot settings.

TelegramState is also the test-facing "user side": tests add users and make them
write, press buttons, share contacts... Every public method takes one lock,
because in thread mode the test thread and the server thread use it at once.
Methods with a leading underscore are for the server side of this package.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
from collections import defaultdict
from typing import Any, Callable, TypeVar

from .formatting import auto_entities
from .markup import callback_data_of

Json = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])

MESSAGE_UPDATE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post",
                        "business_message", "edited_business_message")
# Without allowed_updates Telegram sends everything except these.
_OPT_IN_UPDATE_KINDS = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def _locked(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: "TelegramState", *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def utf16_slice(text: str, offset: int, length: int) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[2 * offset: 2 * (offset + length)].decode("utf-16-le")


def scope_key(scope: Json | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


class TelegramState:
    def __init__(self, *, bot_id: int, bot_username: str, bot_first_name: str,
                 privacy_mode: bool = True):
        self._lock = threading.RLock()
        self.bot_user: Json = {"id": bot_id, "is_bot": True, "first_name": bot_first_name,
                               "username": bot_username}
        self.privacy_mode = privacy_mode
        self._users: dict[int, Json] = {}
        self._chats: dict[int, Json] = {}
        self._members: defaultdict[int, set[int]] = defaultdict(set)
        self._blocked: set[int] = set()
        self._messages: defaultdict[int, dict[int, Json]] = defaultdict(dict)
        self._last_message_id: defaultdict[int, int] = defaultdict(int)
        self._updates: list[Json] = []
        self._next_update_id = 1
        self._dropped: list[Json] = []
        self._callback_queries: dict[str, Json] = {}
        self._callback_answered: set[str] = set()
        self._answered_callbacks: list[Json] = []
        self._next_callback_number = 1
        self._next_file_number = 1
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._descriptions: dict[str, str] = {}
        self._short_descriptions: dict[str, str] = {}
        self._menu_buttons: dict[int | None, Json] = {}
        self._webhook: Json | None = None
        # Real Telegram insists on HTTPS; a test's load balancer on 127.0.0.1 speaks HTTP.
        self.allow_http_webhook = False
        self.webhook_deliveries: list[tuple[int, int | None]] = []  # (update_id, HTTP status)
        self._allowed_updates: list[str] | None = None
        self._documents: defaultdict[int, list[Any]] = defaultdict(list)
        self._files: dict[str, Any] = {}
        self._reply_keyboards: dict[int, Json | None] = {}
        self._chat_actions: list[tuple[int, str]] = []
        # Forum topics per chat: the thread id (the id of the message that opened it) → topic.
        self._topics: defaultdict[int, dict[int, Json]] = defaultdict(dict)

    # ------------------------------------------------------------ setup

    @_locked
    def add_user(self, user_id: int, first_name: str = "User", *, last_name: str | None = None,
                 username: str | None = None, language_code: str | None = None) -> Json:
        """A Telegram user who has started the bot; their private chat id is user_id."""
        user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({key: value for key, value in optional.items() if value is not None})
        self._users[user_id] = user
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        chat.update({k: v for k, v in optional.items() if v is not None and k != "language_code"})
        self._chats[user_id] = chat
        return copy.deepcopy(user)

    @_locked
    def add_group(self, chat_id: int, title: str = "Group", *, forum: bool = False,
                  username: str | None = None) -> Json:
        """A group the bot is in. Forums, -100… ids and public groups are supergroups."""
        supergroup = forum or username is not None or str(chat_id).startswith("-100")
        chat: Json = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        if forum:
            chat["is_forum"] = True
        if username:
            chat["username"] = username
        self._chats[chat_id] = chat
        return copy.deepcopy(chat)

    @_locked
    def add_forum_topic(self, chat_id: int, name: str, creator_id: int | None = None,
                        icon_color: int = 7322096) -> int:
        """A topic someone opened in a forum (the bot, when creator_id is None). Returns its
        message_thread_id: the id of the service message that opens it, as on Telegram."""
        chat = self._require_chat(chat_id)
        if not chat.get("is_forum"):
            raise ValueError(f"chat {chat_id} is not a forum: add_group(..., forum=True)")
        creator = self.bot_user if creator_id is None else self._require_user(creator_id)
        return self._open_topic(chat_id, creator, name, icon_color)["message_thread_id"]

    @_locked
    def add_member(self, chat_id: int, user_id: int) -> None:
        self._require_user(user_id)
        if self._require_chat(chat_id)["type"] == "private":
            raise ValueError(f"chat {chat_id} is a private chat, not a group")
        self._members[chat_id].add(user_id)

    @_locked
    def block(self, user_id: int) -> None:
        """The user blocks the bot: every send to their private chat gets 403."""
        self._require_user(user_id)
        self._blocked.add(user_id)

    @_locked
    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    # ------------------------------------------------------------ producing updates

    @_locked
    def send_text(self, user_id: int, text: str, chat_id: int | None = None,
                  reply_to: int | None = None, thread_id: int | None = None) -> Json:
        """The user writes text. Returns the stored Message (also when privacy drops it)."""
        content: Json = {"text": text}
        entities = auto_entities(text, [])
        if entities:
            content["entities"] = entities
        return self._user_message(user_id, chat_id, content, reply_to, thread_id)

    @_locked
    def press(self, user_id: int, message_id: int, data: str, chat_id: int | None = None) -> Json:
        """The user taps an inline button with this callback_data. Returns the CallbackQuery."""
        user = self._require_user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        message = self._messages[chat_id].get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id} to press a button on")
        available = callback_data_of(message.get("reply_markup"))
        if data not in available:
            raise ValueError(
                f"message {message_id} in chat {chat_id} has no button with callback_data "
                f"{data!r}; its buttons carry {available}"
            )
        query_id = str(4_000_000_000_000_000_000 + self._next_callback_number)
        self._next_callback_number += 1
        query = {"id": query_id, "from": copy.deepcopy(user), "message": copy.deepcopy(message),
                 "chat_instance": str(abs(chat_id) * 1_000_003), "data": data}
        self._callback_queries[query_id] = query
        self._enqueue("callback_query", query)
        return copy.deepcopy(query)

    @_locked
    def send_sticker(self, user_id: int, emoji: str = "👍", chat_id: int | None = None,
                     reply_to: int | None = None, thread_id: int | None = None) -> Json:
        sticker = {**self._new_file_ids("sticker"), "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": emoji}
        return self._user_message(user_id, chat_id, {"sticker": sticker}, reply_to, thread_id)

    @_locked
    def send_photo(self, user_id: int, caption: str | None = None, chat_id: int | None = None,
                   reply_to: int | None = None, thread_id: int | None = None) -> Json:
        ids = self._new_file_ids("photo")
        # Telegram delivers several sizes of one photo; the last one is the largest.
        sizes = [{**ids, "file_id": f"{ids['file_id']}-{side}", "width": side, "height": side,
                  "file_size": side * 40} for side in (90, 320, 800)]
        content: Json = {"photo": sizes}
        if caption:
            content["caption"] = caption
            entities = auto_entities(caption, [])
            if entities:
                content["caption_entities"] = entities
        return self._user_message(user_id, chat_id, content, reply_to, thread_id)

    @_locked
    def send_contact(self, user_id: int, phone: str, own: bool = True, chat_id: int | None = None,
                     first_name: str | None = None) -> Json:
        """own=True is what a request_contact button produces: contact.user_id is the sender."""
        user = self._require_user(user_id)
        contact: Json = {"phone_number": phone, "first_name": first_name or user["first_name"]}
        if own:
            contact["user_id"] = user_id
            if "last_name" in user:
                contact["last_name"] = user["last_name"]
        return self._user_message(user_id, chat_id, {"contact": contact}, None, None)

    @_locked
    def send_location(self, user_id: int, latitude: float, longitude: float,
                      chat_id: int | None = None) -> Json:
        location = {"latitude": latitude, "longitude": longitude}
        return self._user_message(user_id, chat_id, {"location": location}, None, None)

    @_locked
    def send_voice(self, user_id: int, duration: int = 3, chat_id: int | None = None) -> Json:
        voice = {**self._new_file_ids("voice"), "duration": duration, "mime_type": "audio/ogg",
                 "file_size": duration * 2000}
        return self._user_message(user_id, chat_id, {"voice": voice}, None, None)

    @_locked
    def send_update(self, raw: Json) -> Json:
        """Queue any update as given (no privacy filter). update_id is assigned if absent.

        A callback_query in it can be answered. Messages in it (message, channel_post, edited_*) are
        remembered, and their chat
        registered, so the bot can reply to or edit them; date and message_id are filled
        in when missing.
        """
        update = copy.deepcopy(raw)
        kinds = [key for key in update if key != "update_id"]
        if len(kinds) != 1:
            raise ValueError(f"an update has exactly one field besides update_id, got {kinds}")
        kind = kinds[0]
        if kind in MESSAGE_UPDATE_KINDS:
            self._remember_raw_message(kind, update[kind])
        if kind == "callback_query" and "id" in update[kind]:
            self._callback_queries[str(update[kind]["id"])] = update[kind]  # answerable
        if "update_id" in update:
            self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        else:
            update["update_id"] = self._take_update_id()
        self._updates.append(update)
        self._updates_changed()
        return copy.deepcopy(update)

    # ------------------------------------------------------------ observing

    @_locked
    def sent(self, chat_id: int) -> list[Json]:
        """The bot's messages in a chat as they are now (edited, minus deleted)."""
        return [copy.deepcopy(message) for message in self._ordered_messages(chat_id)
                if self._is_from_bot(message)]

    @_locked
    def history(self, chat_id: int) -> list[Json]:
        """Every message of the chat, the users' and the bot's, oldest first."""
        return [copy.deepcopy(message) for message in self._ordered_messages(chat_id)]

    @_locked
    def last_message(self, chat_id: int) -> Json | None:
        sent = self.sent(chat_id)
        return sent[-1] if sent else None

    @_locked
    def last_text(self, chat_id: int) -> str | None:
        """Text (or caption) of the bot's latest message in the chat."""
        message = self.last_message(chat_id)
        if message is None:
            return None
        return message.get("text", message.get("caption"))

    @property
    def answered_callbacks(self) -> list[Json]:
        """answerCallbackQuery calls: callback_query_id, text, show_alert, url, cache_time."""
        with self._lock:
            return copy.deepcopy(self._answered_callbacks)

    @property
    def dropped(self) -> list[Json]:
        """Group messages that privacy mode kept from the bot."""
        with self._lock:
            return copy.deepcopy(self._dropped)

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return copy.deepcopy(self._updates)

    @property
    def webhook_url(self) -> str:
        with self._lock:
            return self._webhook["url"] if self._webhook else ""

    @_locked
    def topics(self, chat_id: int) -> dict[int, str]:
        """The forum's topics: message_thread_id → name."""
        return {thread_id: topic["name"] for thread_id, topic in self._topics[chat_id].items()}

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._chat_actions)

    @_locked
    def commands(self, scope: Json | None = None, language_code: str = "") -> list[Json]:
        return copy.deepcopy(self._commands.get((scope_key(scope), language_code), []))

    @_locked
    def description(self, language_code: str = "") -> str:
        return self._descriptions.get(language_code, "")

    @_locked
    def short_description(self, language_code: str = "") -> str:
        return self._short_descriptions.get(language_code, "")

    @_locked
    def menu_button(self, chat_id: int | None = None) -> Json:
        return copy.deepcopy(self._menu_buttons.get(chat_id, {"type": "default"}))

    @_locked
    def documents(self, chat_id: int) -> list[Any]:
        """Files the bot sent to the chat (UploadedFile: filename, content, content_type)."""
        return list(self._documents[chat_id])

    @_locked
    def reply_keyboard(self, chat_id: int) -> Json | None:
        """The custom (reply) keyboard the user currently sees, None if none/removed."""
        return copy.deepcopy(self._reply_keyboards.get(chat_id))

    # ------------------------------------------------------------ server-side helpers

    def _updates_changed(self) -> None:
        """Hook: called under the lock whenever an update is queued."""

    def _take_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _enqueue(self, kind: str, payload: Json) -> Json:
        update = {"update_id": self._take_update_id(), kind: copy.deepcopy(payload)}
        self._updates.append(update)
        self._updates_changed()
        return update

    def _fetch_updates(self, offset: int, limit: int, allowed_updates: list[str] | None) -> list[Json]:
        """getUpdates semantics: confirm below offset, filter by allowed_updates, take limit."""
        if allowed_updates is not None:
            self._allowed_updates = list(allowed_updates)
        if offset < 0:
            # A negative offset keeps only the last -offset updates; the rest are forgotten.
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        # Updates of types the bot did not subscribe to are never sent, not even later.
        self._updates = [u for u in self._updates if self._is_allowed(u)]
        return copy.deepcopy(self._updates[:limit])

    def _is_allowed(self, update: Json) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATE_KINDS

    def _find_chat(self, reference: Any) -> Json | None:
        if isinstance(reference, str) and reference.startswith("@"):
            # Bots can address public groups and channels by username, never users.
            wanted = reference[1:].lower()
            return next((chat for chat in self._chats.values() if chat["type"] != "private"
                         and chat.get("username", "").lower() == wanted), None)
        if isinstance(reference, int):
            return self._chats.get(reference)
        return None

    def _ordered_messages(self, chat_id: int) -> list[Json]:
        return sorted(self._messages[chat_id].values(), key=lambda message: message["message_id"])

    def _is_blocked(self, chat: Json) -> bool:
        return chat["type"] == "private" and chat["id"] in self._blocked

    def _is_from_bot(self, message: Json) -> bool:
        return message.get("from", {}).get("id") == self.bot_user["id"]

    def _store_message(self, chat_id: int, sender: Json | None, content: Json, *,
                       thread_id: int | None = None, reply_to: Json | None = None) -> Json:
        chat = self._chats[chat_id]
        self._last_message_id[chat_id] += 1
        message: Json = {"message_id": self._last_message_id[chat_id], "date": int(time.time()),
                         "chat": copy.deepcopy(chat)}
        if sender is not None:
            message["from"] = copy.deepcopy(sender)
        if thread_id:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
                # A topic made before the fake started (a user writes in it): known from now.
                self._topics[chat_id].setdefault(thread_id, {
                    "message_thread_id": thread_id, "name": f"Topic {thread_id}",
                    "icon_color": 7322096})
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(copy.deepcopy(content))
        self._messages[chat_id][message["message_id"]] = message
        return message

    def _open_topic(self, chat_id: int, creator: Json, name: str, icon_color: int) -> Json:
        """Store the forum_topic_created service message; its id is the topic's thread id."""
        thread_id = self._last_message_id[chat_id] + 1
        topic = {"message_thread_id": thread_id, "name": name, "icon_color": icon_color}
        self._topics[chat_id][thread_id] = topic
        self._store_message(chat_id, creator, {"forum_topic_created": {
            "name": name, "icon_color": icon_color}}, thread_id=thread_id)
        return copy.deepcopy(topic)

    def _has_thread(self, chat_id: int, thread_id: int) -> bool:
        """A topic the fake knows: opened through it, or one a message was seen in."""
        return thread_id in self._topics[chat_id]

    def _reply_copy(self, message: Json) -> Json:
        # Telegram never nests: a replied-to message carries no reply_to_message itself.
        quoted = copy.deepcopy(message)
        quoted.pop("reply_to_message", None)
        return quoted

    def _new_file_ids(self, kind: str) -> Json:
        number = self._next_file_number
        self._next_file_number += 1
        return {"file_id": f"fake-{kind}-{number}", "file_unique_id": f"u{kind}{number}"}

    def _remember_reply_keyboard(self, chat_id: int, markup: Json | None) -> None:
        if not markup:
            return
        if "keyboard" in markup:
            self._reply_keyboards[chat_id] = markup
        elif markup.get("remove_keyboard"):
            self._reply_keyboards[chat_id] = None

    # ------------------------------------------------------------ user-side internals

    def _require_user(self, user_id: int) -> Json:
        if user_id not in self._users:
            raise ValueError(f"unknown user {user_id}: call add_user({user_id}) first")
        return self._users[user_id]

    def _require_chat(self, chat_id: int) -> Json:
        if chat_id not in self._chats:
            raise ValueError(f"unknown chat {chat_id}: call add_user()/add_group() first")
        return self._chats[chat_id]

    def _user_message(self, user_id: int, chat_id: int | None, content: Json,
                      reply_to: int | None, thread_id: int | None) -> Json:
        user = self._require_user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        chat = self._require_chat(chat_id)
        if chat["type"] == "private" and chat_id != user_id:
            raise ValueError(f"user {user_id} cannot write in the private chat of {chat_id}")
        if chat["type"] != "private" and user_id not in self._members[chat_id]:
            raise ValueError(f"user {user_id} is not in chat {chat_id}: call add_member() first")
        replied = None
        if reply_to is not None:
            if reply_to not in self._messages[chat_id]:
                raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            replied = self._reply_copy(self._messages[chat_id][reply_to])
        message = self._store_message(chat_id, user, content, thread_id=thread_id, reply_to=replied)
        if self._reaches_bot(message):
            self._enqueue("message", message)
        else:
            self._dropped.append(copy.deepcopy(message))
        return copy.deepcopy(message)

    def _reaches_bot(self, message: Json) -> bool:
        """Group privacy mode: only commands, replies to the bot and @mentions get through."""
        if message["chat"]["type"] in ("private", "channel") or not self.privacy_mode:
            return True
        replied = message.get("reply_to_message")
        if replied is not None and self._is_from_bot(replied):
            return True
        return self._has_command_for_bot(message) or self._mentions_bot(message)

    def _entity_texts(self, message: Json, entity_type: str) -> list[str]:
        text = message.get("text", message.get("caption", ""))
        entities = message.get("entities", message.get("caption_entities", []))
        return [utf16_slice(text, e["offset"], e["length"]) for e in entities
                if e["type"] == entity_type]

    def _has_command_for_bot(self, message: Json) -> bool:
        username = self.bot_user["username"].lower()
        for command in self._entity_texts(message, "bot_command"):
            _, _, addressee = command.partition("@")
            if not addressee or addressee.lower() == username:
                return True
        return False

    def _mentions_bot(self, message: Json) -> bool:
        mention = "@" + self.bot_user["username"].lower()
        return any(text.lower() == mention for text in self._entity_texts(message, "mention"))

    def _remember_raw_message(self, kind: str, message: Json) -> None:
        message.setdefault("date", int(time.time()))
        chat = message.get("chat")
        if not isinstance(chat, dict) or "id" not in chat:
            return
        chat_id = chat["id"]
        self._chats.setdefault(chat_id, copy.deepcopy(chat))
        if "message_id" not in message:
            message["message_id"] = self._last_message_id[chat_id] + 1
        if kind.startswith("edited_") and message["message_id"] not in self._messages[chat_id]:
            return
        self._last_message_id[chat_id] = max(self._last_message_id[chat_id], message["message_id"])
        self._messages[chat_id][message["message_id"]] = copy.deepcopy(message)


__all__ = ["TelegramState", "utf16_slice", "scope_key"]
