"""The Bot API methods, independent of HTTP.

Each handler takes the coerced parameters and returns the "result" value, or
raises ApiError with the description the real Bot API gives. Handlers run under
the state's lock (the server takes it), so they may touch its internals freely.
getUpdates is only validated here; its long-poll wait lives in the server.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlparse

from . import errors
from .errors import bad_request, conflict, forbidden, required_parameter
from .formatting import (MAX_CAPTION_LENGTH, MAX_MESSAGE_LENGTH, FormattedText, format_text,
                         utf16_len)
from .markup import inline_keyboard_of, parse_reply_markup
from .params import UploadedFile, resolve_attachment
from .state import TelegramState, scope_key

Json = dict[str, Any]
Handler = Callable[["BotApi", Json], Any]

_HANDLERS: dict[str, tuple[str, Handler]] = {}


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler; Bot API method names are case-insensitive."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[name.lower()] = (name, handler)
        return handler

    return register


def canonical_method_name(name: str) -> str | None:
    if name.lower() == "getupdates":
        return "getUpdates"
    entry = _HANDLERS.get(name.lower())
    return entry[0] if entry else None


CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})
COMMAND_SCOPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})
MAX_COMMANDS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_TOPIC_NAME_LENGTH = 128
# The colours Telegram allows for a new topic's icon (ForumIconColor).
TOPIC_ICON_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
MAX_DESCRIPTION_LENGTH = 512
MAX_SHORT_DESCRIPTION_LENGTH = 120
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE_CODE = re.compile(r"^([a-z]{2})?$")


@dataclass(frozen=True)
class PollRequest:
    offset: int
    limit: int
    timeout: float
    allowed_updates: list[str] | None


class BotApi:
    def __init__(self, state: TelegramState):
        self.state = state

    def handler_for(self, method: str) -> Callable[[Json], Any] | None:
        entry = _HANDLERS.get(method.lower())
        if entry is None:
            return None
        handler = entry[1]
        return lambda params: handler(self, params)

    # ------------------------------------------------------------ shared checks

    def _chat(self, params: Json, name: str = "chat_id") -> Json:
        reference = params.get(name)
        if reference is None or reference == "":
            raise bad_request("chat_id is empty")
        chat = self.state._find_chat(reference)
        if chat is None:
            raise bad_request(errors.CHAT_NOT_FOUND)
        return chat

    def _chat_to_send_to(self, params: Json) -> Json:
        chat = self._chat(params)
        if self.state._is_blocked(chat):
            raise forbidden(errors.BOT_BLOCKED)
        return chat

    @staticmethod
    def _required(params: Json, name: str) -> Any:
        value = params.get(name)
        if value is None or value == "":
            raise required_parameter(name)
        return value

    @staticmethod
    def _message_text(params: Json) -> FormattedText:
        raw = params.get("text")
        if raw is None or raw == "":
            raise bad_request(errors.MESSAGE_TEXT_EMPTY)
        formatted = format_text(str(raw), params.get("parse_mode"), params.get("entities"))
        if not formatted.text:
            raise bad_request(errors.MESSAGE_TEXT_EMPTY)
        if utf16_len(formatted.text) > MAX_MESSAGE_LENGTH:
            raise bad_request(errors.MESSAGE_TOO_LONG)
        return formatted

    @staticmethod
    def _caption(params: Json) -> FormattedText | None:
        raw = params.get("caption")
        if not raw:
            return None
        formatted = format_text(str(raw), params.get("parse_mode"), params.get("caption_entities"))
        if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
            raise bad_request(errors.CAPTION_TOO_LONG)
        return formatted if formatted.text else None

    def _reply_target(self, chat_id: int, params: Json) -> Json | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id"):
            reply = {"message_id": params["reply_to_message_id"],
                     "allow_sending_without_reply": params.get("allow_sending_without_reply")}
        if not reply:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise bad_request("can't parse reply parameters JSON object")
        target_chat = chat_id if reply.get("chat_id") is None else self._chat(reply)["id"]
        message = self.state._messages[target_chat].get(reply["message_id"])
        if message is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request(errors.MESSAGE_TO_REPLY_NOT_FOUND)
        return self.state._reply_copy(message)

    def _send(self, chat: Json, params: Json, content: Json, markup: Json | None) -> Json:
        inline = inline_keyboard_of(markup)
        if inline:
            content["reply_markup"] = inline
        thread_id = params.get("message_thread_id")
        if thread_id and chat.get("is_forum") and not self.state._has_thread(chat["id"], thread_id):
            raise bad_request(errors.MESSAGE_THREAD_NOT_FOUND)
        reply_to = self._reply_target(chat["id"], params)
        message = self.state._store_message(
            chat["id"], self.state.bot_user, content,
            thread_id=params.get("message_thread_id"), reply_to=reply_to,
        )
        self.state._remember_reply_keyboard(chat["id"], markup)
        return copy.deepcopy(message)

    def _editable_message(self, params: Json) -> Json:
        if params.get("inline_message_id"):
            # Inline-mode messages are not simulated; to the bot they simply do not exist.
            raise bad_request(errors.MESSAGE_TO_EDIT_NOT_FOUND)
        chat = self._chat(params)
        message_id = self._required(params, "message_id")
        message = self.state._messages[chat["id"]].get(message_id)
        if message is None:
            raise bad_request(errors.MESSAGE_TO_EDIT_NOT_FOUND)
        if not self.state._is_from_bot(message):
            raise bad_request(errors.MESSAGE_CANT_BE_EDITED)
        return message

    @staticmethod
    def _with_text(content: Json, formatted: FormattedText, text_key: str, entities_key: str) -> Json:
        content[text_key] = formatted.text
        if formatted.entities:
            content[entities_key] = formatted.entities
        return content


# ---------------------------------------------------------------- bot identity


@api_method("getMe")
def get_me(api: BotApi, params: Json) -> Json:
    return {**api.state.bot_user, "can_join_groups": True,
            "can_read_all_group_messages": not api.state.privacy_mode,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False}


@api_method("logOut")
def log_out(api: BotApi, params: Json) -> bool:
    return True


@api_method("close")
def close(api: BotApi, params: Json) -> bool:
    return True


# ---------------------------------------------------------------- updates & webhook


def poll_request(api: BotApi, params: Json) -> PollRequest:
    """Validate getUpdates parameters; clamps limit to 1..100 like the Bot API does."""
    if api.state._webhook:
        raise conflict(errors.WEBHOOK_IS_ACTIVE)
    limit = params.get("limit")
    limit = 100 if not isinstance(limit, int) else min(max(limit, 1), 100)
    timeout = params.get("timeout")
    timeout = max(float(timeout), 0.0) if isinstance(timeout, (int, float)) else 0.0
    offset = params.get("offset")
    allowed = params.get("allowed_updates")
    return PollRequest(offset if isinstance(offset, int) else 0, limit, timeout,
                       allowed if isinstance(allowed, list) else None)


@api_method("setWebhook")
def set_webhook(api: BotApi, params: Json) -> bool:
    url = params.get("url") or ""
    if not url:
        api.state._webhook = None
        return True
    if urlparse(url).scheme != "https" and not api.state.allow_http_webhook:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if params.get("drop_pending_updates"):
        api.state._updates.clear()
    api.state._webhook = {"url": url, "max_connections": params.get("max_connections", 40),
                          "allowed_updates": params.get("allowed_updates"),
                          "secret_token": params.get("secret_token")}
    api.state._updates_changed()
    return True


@api_method("deleteWebhook")
def delete_webhook(api: BotApi, params: Json) -> bool:
    api.state._webhook = None
    if params.get("drop_pending_updates"):
        api.state._updates.clear()
    return True


@api_method("getWebhookInfo")
def get_webhook_info(api: BotApi, params: Json) -> Json:
    webhook = api.state._webhook
    info: Json = {"url": webhook["url"] if webhook else "", "has_custom_certificate": False,
                  "pending_update_count": len(api.state._updates)}
    if webhook:
        info["max_connections"] = webhook["max_connections"]
        if webhook["allowed_updates"]:
            info["allowed_updates"] = webhook["allowed_updates"]
    return info


# ---------------------------------------------------------------- messages


@api_method("sendMessage")
def send_message(api: BotApi, params: Json) -> Json:
    formatted = api._message_text(params)
    markup = parse_reply_markup(params.get("reply_markup"))
    chat = api._chat_to_send_to(params)
    content = api._with_text({}, formatted, "text", "entities")
    return api._send(chat, params, content, markup)


@api_method("sendDocument")
def send_document(api: BotApi, params: Json) -> Json:
    document = resolve_attachment(params.get("document"), params)
    if document is None or document == "":
        raise bad_request("there is no document in the request")
    caption = api._caption(params)
    markup = parse_reply_markup(params.get("reply_markup"))
    chat = api._chat_to_send_to(params)
    upload = _document_file(api, document)
    file_ids = api.state._new_file_ids("document")
    api.state._files[file_ids["file_id"]] = upload
    api.state._documents[chat["id"]].append(upload)
    described: Json = {**file_ids, "file_name": upload.filename, "file_size": len(upload.content)}
    if upload.content_type:
        described["mime_type"] = upload.content_type
    content: Json = {"document": described}
    if caption:
        api._with_text(content, caption, "caption", "caption_entities")
    return api._send(chat, params, content, markup)


def _document_file(api: BotApi, document: Any) -> UploadedFile:
    if isinstance(document, UploadedFile):
        return document
    known = api.state._files.get(str(document))
    if known is not None:
        return known  # re-sending by file_id
    # A URL: Telegram would download it; the fake keeps the name and no bytes.
    name = urlparse(str(document)).path.rsplit("/", 1)[-1] or "document"
    return UploadedFile(name, b"", None)


@api_method("editMessageText")
def edit_message_text(api: BotApi, params: Json) -> Json:
    formatted = api._message_text(params)
    # Omitting reply_markup in an edit removes the inline keyboard, as on Telegram.
    markup = inline_keyboard_of(parse_reply_markup(params.get("reply_markup")))
    message = api._editable_message(params)
    if "text" not in message:
        raise bad_request(errors.NO_TEXT_TO_EDIT)
    unchanged = (message["text"] == formatted.text
                 and message.get("entities", []) == formatted.entities
                 and message.get("reply_markup") == markup)
    if unchanged:
        raise bad_request(errors.MESSAGE_NOT_MODIFIED)
    message.pop("entities", None)
    api._with_text(message, formatted, "text", "entities")
    _replace_markup(message, markup)
    return copy.deepcopy(message)


@api_method("editMessageReplyMarkup")
def edit_message_reply_markup(api: BotApi, params: Json) -> Json:
    markup = inline_keyboard_of(parse_reply_markup(params.get("reply_markup")))
    message = api._editable_message(params)
    if message.get("reply_markup") == markup:
        raise bad_request(errors.MESSAGE_NOT_MODIFIED)
    _replace_markup(message, markup)
    return copy.deepcopy(message)


def _replace_markup(message: Json, markup: Json | None) -> None:
    message.pop("reply_markup", None)
    if markup:
        message["reply_markup"] = markup
    message["edit_date"] = int(time.time())


@api_method("deleteMessage")
def delete_message(api: BotApi, params: Json) -> bool:
    chat = api._chat(params)
    message_id = api._required(params, "message_id")
    if api.state._messages[chat["id"]].pop(message_id, None) is None:
        raise bad_request(errors.MESSAGE_TO_DELETE_NOT_FOUND)
    return True


@api_method("sendChatAction")
def send_chat_action(api: BotApi, params: Json) -> bool:
    action = params.get("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat = api._chat_to_send_to(params)
    api.state._chat_actions.append((chat["id"], action))
    return True


@api_method("createForumTopic")
def create_forum_topic(api: BotApi, params: Json) -> Json:
    chat = api._chat_to_send_to(params)
    if not chat.get("is_forum"):
        raise bad_request(errors.CHAT_NOT_FORUM)
    name = str(params.get("name") or "")
    # Wording not verified against Telegram; the 400 and the limits are documented.
    if not 1 <= utf16_len(name) <= MAX_TOPIC_NAME_LENGTH:
        raise bad_request("TOPIC_NAME_INVALID")
    color = params.get("icon_color", 7322096)
    if color not in TOPIC_ICON_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    return api.state._open_topic(chat["id"], api.state.bot_user, name, color)


@api_method("getChat")
def get_chat(api: BotApi, params: Json) -> Json:
    chat = copy.deepcopy(api._chat(params))
    # Fields PTB 22's ChatFullInfo requires.
    chat.update({"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {
        "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
        "premium_subscription": False, "gifts_from_channels": False}})
    return chat


# ---------------------------------------------------------------- callback queries


@api_method("answerCallbackQuery")
def answer_callback_query(api: BotApi, params: Json) -> bool:
    query_id = str(api._required(params, "callback_query_id"))
    text = params.get("text") or ""
    if utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    if query_id not in api.state._callback_queries or query_id in api.state._callback_answered:
        raise bad_request(errors.QUERY_TOO_OLD)
    api.state._callback_answered.add(query_id)
    api.state._answered_callbacks.append({
        "callback_query_id": query_id, "text": params.get("text"),
        "show_alert": bool(params.get("show_alert")), "url": params.get("url"),
        "cache_time": params.get("cache_time"),
    })
    return True


# ---------------------------------------------------------------- commands & bot profile


def _command_scope(api: BotApi, params: Json) -> Json | None:
    scope = params.get("scope")
    if scope is None:
        return None
    if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope["type"] in ("chat", "chat_administrators", "chat_member"):
        api._chat(scope)
    if scope["type"] == "chat_member" and scope.get("user_id") not in api.state._users:
        raise bad_request("user not found")
    return scope


def _language_code(params: Json) -> str:
    code = params.get("language_code") or ""
    if not _LANGUAGE_CODE.match(code):
        raise bad_request("invalid language code specified")
    return code


def _check_commands(commands: Any) -> list[Json]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


@api_method("setMyCommands")
def set_my_commands(api: BotApi, params: Json) -> bool:
    if "commands" not in params:
        raise required_parameter("commands")
    commands = _check_commands(params["commands"])
    key = (scope_key(_command_scope(api, params)), _language_code(params))
    if commands:
        api.state._commands[key] = commands
    else:
        api.state._commands.pop(key, None)  # an empty list is how bots delete commands
    return True


@api_method("getMyCommands")
def get_my_commands(api: BotApi, params: Json) -> list[Json]:
    key = (scope_key(_command_scope(api, params)), _language_code(params))
    return copy.deepcopy(api.state._commands.get(key, []))


@api_method("deleteMyCommands")
def delete_my_commands(api: BotApi, params: Json) -> bool:
    key = (scope_key(_command_scope(api, params)), _language_code(params))
    api.state._commands.pop(key, None)
    return True


def _set_profile_text(store: dict[str, str], params: Json, field: str, limit: int) -> bool:
    language = _language_code(params)
    text = params.get(field) or ""
    if len(text) > limit:
        # Wording not verified against Telegram; the 400 and the limit are documented.
        raise bad_request(f"{field.replace('_', ' ')} is too long")
    if text:
        store[language] = text
    else:
        store.pop(language, None)
    return True


@api_method("setMyDescription")
def set_my_description(api: BotApi, params: Json) -> bool:
    return _set_profile_text(api.state._descriptions, params, "description", MAX_DESCRIPTION_LENGTH)


@api_method("setMyShortDescription")
def set_my_short_description(api: BotApi, params: Json) -> bool:
    return _set_profile_text(api.state._short_descriptions, params, "short_description",
                             MAX_SHORT_DESCRIPTION_LENGTH)


@api_method("getMyDescription")
def get_my_description(api: BotApi, params: Json) -> Json:
    return {"description": api.state._descriptions.get(_language_code(params), "")}


@api_method("getMyShortDescription")
def get_my_short_description(api: BotApi, params: Json) -> Json:
    return {"short_description": api.state._short_descriptions.get(_language_code(params), "")}


@api_method("setChatMenuButton")
def set_chat_menu_button(api: BotApi, params: Json) -> bool:
    chat_id = api._chat(params)["id"] if params.get("chat_id") is not None else None
    button = params.get("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button JSON object")
    if button["type"] == "web_app" and not (button.get("text") and button.get("web_app")):
        raise bad_request("can't parse menu button JSON object")
    api.state._menu_buttons[chat_id] = button
    return True


@api_method("getChatMenuButton")
def get_chat_menu_button(api: BotApi, params: Json) -> Json:
    chat_id = api._chat(params)["id"] if params.get("chat_id") is not None else None
    return copy.deepcopy(api.state._menu_buttons.get(chat_id, {"type": "default"}))


__all__ = ["BotApi", "PollRequest", "poll_request", "canonical_method_name"]
