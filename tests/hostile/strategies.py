"""Hostile input, generated: what a careless or malicious client can put in a request.

Bodies are raw bytes with the content type they claim (or a wrong one), built from values that
mix the fields the product reads with nesting, wrong types, huge and negative numbers, NUL and
control characters, lone surrogates, invalid UTF-8, oversize fields and duplicated keys.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

from webhooks.server import MAX_BODY

INT64 = 2**63
HUGE_INTS = st.one_of(
    st.integers(min_value=INT64, max_value=2**300),
    st.integers(min_value=-(2**300), max_value=-INT64 - 1),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, INT64 - 1, INT64, -INT64, -INT64 - 1, 2**31, 10**20]),
    HUGE_INTS,
    st.floats(allow_nan=False, allow_infinity=False),
)
NASTY_CHARS = "\x00\x01\x07\x0b\x1b\x7f\u0085\u200b\u202e\u2028\ufeff\ufffe<>&\"'\\/;%😀"
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfffy",
        "<b>bold</b>",
        "</b><i>",
        "&amp;&lt;&#0;&#x110000;&bogus;",
        "<a href='javascript:alert(1)'>x</a>",
        "javascript:alert(1)",
        "http://",
        "http:// spaced.example/x",
        "https://exa mple.org",
        "ftp://example.org/a",
        "https://example.org/" + "a" * 3000,
        "https://пример.рф/",
        "tel:+79120001122",
        "+7 912 000-11-22",
        "8 (912) 000-11-22\x00",
        "79120001122",
        "sip:user1@vpbx.mangosip.ru",
        "%00%ff",
        "Appeared",
        "Disconnected",
        "null",
        "1e999",
        "NaN",
        "9" * 400,
        "-" * 50,
        "\n" * 50,
        "😀" * 50,
    ]
)
TEXT = st.one_of(
    NASTY,
    st.text(max_size=40),
    st.text(alphabet=NASTY_CHARS, max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.builds(
        lambda chunk, n: chunk * n,
        st.sampled_from(["x", "я", "😀", "<&>", "\x00", "\n "]),
        st.sampled_from([300, 1025, 4097, 10_000, 70_000]),
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(TEXT, kids, max_size=4)),
    max_leaves=12,
)
DEEP = st.builds(
    lambda depth, opener, closer: (opener * depth + "1" + closer * depth).encode(),
    st.sampled_from([33, 1_000, 5_000, 100_000]),  # past MAX_DEPTH, and past recursion
    st.sampled_from(["[", '{"a":']),
    st.sampled_from(["]", "}"]),
)


def value_or(valid: st.SearchStrategy[Any], odds: int = 3) -> st.SearchStrategy[Any]:
    """Mostly a value the product understands (`odds` to 1), else something hostile instead."""
    # (st.one_of would merge repeated branches, and integers lean to their bounds)
    return st.sampled_from([True] * odds + [False]).flatmap(lambda ok: valid if ok else JSON_VALUES)


def rarely(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """For objects with many fields: each field hostile rarely, so some whole objects pass."""
    return value_or(valid, 8)


def encode_json(data: Any, ensure_ascii: bool) -> bytes:
    """JSON bytes; lone surrogates become invalid UTF-8 when not escaped."""
    text = json.dumps(data, ensure_ascii=ensure_ascii)
    return text.encode("utf-8", "surrogatepass")


def duplicated_keys(data: dict[str, Any], key: str, other: Any) -> bytes:
    """`data` as JSON with `key` given twice (the second one hostile)."""
    head = json.dumps(data)[:-1] if data else "{"
    sep = ", " if data else ""
    return f'{head}{sep}"{key}": {json.dumps(other)}}}'.encode("utf-8", "surrogatepass")


def urlencode(pairs: list[tuple[str, Any]]) -> bytes:
    def part(value: Any) -> str:
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        return quote_from_bytes(raw, safe="")

    return "&".join(f"{part(k)}={part(v)}" for k, v in pairs).encode()


def multipart(pairs: list[tuple[str, Any]], boundary: str = "hostileboundary") -> bytes:
    chunks = []
    for key, value in pairs:
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        name = str(key).replace('"', "").encode("utf-8", "surrogatepass")
        chunks.append(
            b"--"
            + boundary.encode()
            + b'\r\nContent-Disposition: form-data; name="'
            + name
            + b'"\r\n\r\n'
            + raw
            + b"\r\n"
        )
    return b"".join(chunks) + b"--" + boundary.encode() + b"--\r\n"


INVALID_UTF8 = st.sampled_from(
    [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"]
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=latin-1",
        "application/json; charset=bogus",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=bogus",
        "multipart/form-data",
        "multipart/form-data; boundary=hostileboundary",
        "multipart/form-data; boundary=hostileboundary; charset=bogus",
        "text/plain",
        "application/xml",
        "application/octet-stream",
        "",
    ]
)


# How often each encoding is tried: mostly bodies the product can read, so that hostile
# values inside them reach the services; the rest probe the readers themselves.
BODY_KINDS = (
    ["json"] * 6
    + ["urlencoded"] * 3
    + ["multipart"] * 2
    + ["dupkeys", "deep", "garbage", "anything", "oversize"]
)


@st.composite
def raw_bodies(draw: st.DrawFn, shaped: st.SearchStrategy[dict[str, Any]]) -> tuple[bytes, str]:
    """(body, content type): a shaped object in one of many encodings, or raw garbage."""
    kind = draw(st.sampled_from(BODY_KINDS))
    data = draw(shaped)
    if kind == "json":
        return encode_json(data, draw(st.booleans())), "application/json"
    if kind == "dupkeys":
        key = draw(st.sampled_from(sorted(data) or ["name"]))
        return duplicated_keys(data, key, draw(JSON_VALUES)), "application/json"
    pairs = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in data.items()]
    if draw(st.booleans()) and pairs:
        pairs.append((pairs[0][0], draw(st.one_of(TEXT, INVALID_UTF8))))  # a repeated key
    if kind == "urlencoded":
        form_types = ["application/x-www-form-urlencoded"] * 3
        return urlencode(pairs), draw(st.one_of(st.sampled_from(form_types), CONTENT_TYPES))
    if kind == "multipart":
        return multipart(pairs), "multipart/form-data; boundary=hostileboundary"
    if kind == "deep":
        return draw(DEEP), "application/json"
    if kind == "oversize":
        return b'{"name": "' + b"x" * (MAX_BODY + 10) + b'"}', "application/json"
    if kind == "anything":
        return encode_json(draw(JSON_VALUES), draw(st.booleans())), draw(CONTENT_TYPES)
    garbage = draw(st.one_of(st.binary(max_size=200), INVALID_UTF8))
    return encode_json(data, True)[:-1] + garbage, draw(CONTENT_TYPES)


def form_fields() -> st.SearchStrategy[dict[str, Any]]:
    """A site form: the fields the product reads, each possibly hostile, plus extra ones."""
    known = st.fixed_dictionaries(
        {"phone": value_or(st.sampled_from(["+7 912 000-11-22", "89120003344", "79120005566"]))},
        optional={
            "name": value_or(st.sampled_from(["Иван", "Анна Петрова"])),
            "Name": TEXT,
            "email": value_or(st.sampled_from(["ivan@example.com", "not-an-email"])),
            "comment": TEXT,
            "landing_url": TEXT,
            "formid": TEXT,
            "tranid": value_or(st.sampled_from(["123:456", "123:457"])),
            "request_id": JSON_VALUES,
            "utm_source": value_or(st.just("yandex")),
            "utm_campaign": TEXT,
            "COOKIES": value_or(st.just("TILDAUTM=utm_source%3Dvk%7C%7C%7Cutm_medium%3Dcpc")),
            "office": TEXT,
            "test": st.sampled_from(["test", "x"]),
        },
    )
    extra = st.dictionaries(TEXT, JSON_VALUES, max_size=3)
    return st.builds(lambda a, b: {**b, **a}, known, extra)


def generic_call() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "call_id": rarely(st.text(alphabet="abc123", min_size=1, max_size=8)),
            "direction": rarely(st.sampled_from(["in", "out"])),
            "status": rarely(st.sampled_from(["ringing", "connected", "answered", "missed"])),
            "started_at": rarely(
                st.sampled_from(["2025-12-01T07:00:00Z", 1764572400, "2025-12-01T10:00:00"])
            ),
        },
        optional={
            "from": rarely(st.just("+79120001122")),
            "to": rarely(st.just("+74951234567")),
            "line": TEXT,
            "duration": NUMBERS,
            "recording_url": rarely(st.just("https://pbx.example/rec/1.mp3")),
            "employee": rarely(st.just("101")),
        },
    )


def mango_party() -> st.SearchStrategy[Any]:
    return rarely(
        st.fixed_dictionaries(
            {},
            optional={
                "number": rarely(st.sampled_from(["79120001122", "74951234567"])),
                "extension": rarely(st.just("101")),
                "line_number": rarely(st.just("74951234567")),
            },
        )
    )


def mango_event(event: str) -> st.SearchStrategy[Any]:
    common = {
        "entry_id": rarely(st.text(alphabet="MTo6", min_size=1, max_size=6)),
        "call_id": rarely(st.text(alphabet="MTo6", min_size=1, max_size=6)),
        "timestamp": rarely(st.just(1764572400)),
        "seq": rarely(st.integers(0, 5)),
        "from": mango_party(),
        "to": mango_party(),
    }
    shapes = {
        "call": {
            **common,
            "call_state": rarely(
                st.sampled_from(["Appeared", "Connected", "OnHold", "Disconnected"])
            ),
            "disconnect_reason": rarely(st.just(1110)),
        },
        "summary": {
            **common,
            "call_direction": rarely(st.sampled_from([0, 1, 2])),
            "line_number": rarely(st.just("74951234567")),
            "create_time": rarely(st.just(1764572400)),
            "talk_time": rarely(st.sampled_from([0, 1764572410])),
            "end_time": rarely(st.just(1764572470)),
            "entry_result": rarely(st.sampled_from([0, 1])),
        },
        "recording": {
            **common,
            "recording_id": TEXT,
            "recording_state": rarely(st.sampled_from(["Started", "Completed"])),
            "completion_code": rarely(st.sampled_from([1000, 4002])),
        },
    }
    shape = shapes.get(event, common)
    needed = ("entry_id", "call_id", "call_state", "timestamp", "create_time")
    optional = {k: v for k, v in shape.items() if k not in needed}
    required = {k: v for k, v in shape.items() if k in needed}
    return rarely(st.fixed_dictionaries(required, optional=optional))


@st.composite
def mango_json(draw: st.DrawFn, event: str) -> str:
    """The `json` form field: a Mango-shaped event or garbage, as text (it is signed as text)."""
    kind = draw(st.sampled_from(["shaped"] * 6 + ["deep", "garbage", "dupkeys"]))
    data = draw(mango_event(event))
    if kind == "deep":
        return draw(DEEP).decode()
    if kind == "garbage":
        return draw(st.one_of(TEXT, st.just(json.dumps(data)[:-1])))
    if kind == "dupkeys" and isinstance(data, dict) and data:
        return duplicated_keys(data, sorted(data)[0], draw(JSON_VALUES)).decode(
            "utf-8", "surrogatepass"
        )
    return json.dumps(data, ensure_ascii=draw(st.booleans()), separators=(",", ":"))


EMPLOYEE_TG = 555_000_111  # the on-duty employee's Telegram id (tests/hostile/conftest.py)
TG_IDS = rarely(
    st.sampled_from([EMPLOYEE_TG, EMPLOYEE_TG, EMPLOYEE_TG, 42, 0, -1, -1001234567890, 2**53])
).flatmap(lambda v: st.just(v) if not isinstance(v, float) else st.just(INT64 - 1))
COMMANDS = st.sampled_from(
    ["/start", "/start abc", "/start " + "x" * 5000, "/start\x00", "/start <b>&", "hello", "/"]
)
BUTTONS = st.sampled_from(
    [
        "lead:take:1",
        "lead:nt:1",
        "lead:spam:2",
        "lead:take:99999999999999999999999",
        "lead:take:-1",
        "lead:take:0",
        "lead:take",
        "lead:bogus:1",
        "task:done:1",
        "task:done:9223372036854775808",
        "garbage",
        "x" * 5000,
        "",
    ]
)


def tg_user() -> st.SearchStrategy[Any]:
    return rarely(
        st.fixed_dictionaries(
            {"id": TG_IDS, "is_bot": rarely(st.booleans()), "first_name": rarely(TEXT)},
            optional={
                "username": TEXT,
                "language_code": rarely(st.sampled_from(["ru", "en", "xx", ""])),
            },
        )
    )


def tg_chat() -> st.SearchStrategy[Any]:
    return rarely(
        st.fixed_dictionaries(
            {
                "id": TG_IDS,
                "type": rarely(
                    st.sampled_from(["private", "group", "supergroup", "channel", "weird"])
                ),
            },
            optional={"title": TEXT, "first_name": TEXT},
        )
    )


def tg_message() -> st.SearchStrategy[Any]:
    entity = st.fixed_dictionaries(
        {
            "type": rarely(st.just("bot_command")),
            "offset": rarely(st.integers(-5, 100)),
            "length": rarely(st.integers(-5, 6000)),
        }
    )
    return rarely(
        st.fixed_dictionaries(
            {
                "message_id": rarely(st.integers(1, 1000)),
                "date": rarely(st.just(1764572400)),
                "chat": tg_chat(),
            },
            optional={
                "from": tg_user(),
                "text": rarely(COMMANDS),
                "entities": rarely(st.lists(entity, max_size=2)),
                "caption": TEXT,
                "contact": rarely(
                    st.fixed_dictionaries(
                        {"phone_number": rarely(st.just("+79120001122")), "first_name": TEXT}
                    )
                ),
                "reply_markup": rarely(st.just({"inline_keyboard": []})),
            },
        )
    )


def tg_callback() -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {
            "id": rarely(st.text(alphabet="0123456789", min_size=1, max_size=20)),
            "from": tg_user(),
            "chat_instance": rarely(st.just("-1234")),
        },
        optional={"data": rarely(BUTTONS), "message": tg_message()},
    )


def tg_update() -> st.SearchStrategy[Any]:
    """A Telegram update: mostly well-structured with hostile values, sometimes anything."""
    shapes = [
        *[st.fixed_dictionaries({"message": tg_message()})] * 3,
        *[st.fixed_dictionaries({"callback_query": tg_callback()})] * 3,
        st.fixed_dictionaries({"edited_message": tg_message()}),
        st.fixed_dictionaries({"my_chat_member": JSON_VALUES}),
        st.dictionaries(TEXT, JSON_VALUES, max_size=2),
    ]
    body = st.sampled_from(shapes).flatmap(lambda shape: shape)
    update = st.builds(
        lambda update_id, rest: {"update_id": update_id, **rest},
        rarely(st.integers(1, 2**31)),
        body,
    )
    return rarely(update)


# --- WhatsApp Cloud API notifications (webhooks.whatsapp): Meta's shape, hostile values.
WA_IDS = value_or(st.sampled_from(["79120001122", "+79120003344", "16505551234", "7912000112"]))
WA_TYPES = st.sampled_from(
    [
        *("text", "image", "document", "audio", "video", "sticker", "location", "contacts"),
        *("interactive", "button", "reaction", "unsupported", "order", "system", ""),
    ]
)


@st.composite
def wa_message(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(value_or(WA_TYPES, 8))
    content = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "body": TEXT,
                "id": value_or(st.text(max_size=40)),
                "mime_type": TEXT,
                "caption": TEXT,
                "filename": TEXT,
                "voice": st.booleans(),
                "latitude": value_or(st.floats(-90, 90)),
                "longitude": value_or(st.floats(-180, 180)),
                "name": TEXT,
                "emoji": TEXT,
                "message_id": TEXT,
                "button_reply": JSON_VALUES,
                "text": TEXT,
            },
        )
    )
    message: dict[str, Any] = {
        "from": draw(WA_IDS),
        "id": draw(value_or(st.text(min_size=1, max_size=300))),
        "timestamp": draw(value_or(st.integers(0, 2**40).map(str))),
        "type": kind,
    }
    if isinstance(kind, str):
        message[kind] = draw(value_or(st.just(content)))
    if draw(st.booleans()):
        message["context"] = draw(value_or(st.fixed_dictionaries({"id": TEXT})))
    return message


@st.composite
def wa_status(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "id": draw(value_or(st.text(max_size=300))),
        "status": draw(value_or(st.sampled_from(["sent", "delivered", "read", "failed", "x"]))),
        "timestamp": draw(value_or(st.integers(0, 2**40).map(str))),
        "errors": draw(rarely(st.just([{"code": 131026, "title": "Message undeliverable"}]))),
    }


@st.composite
def wa_notification(draw: st.DrawFn) -> Any:
    value = {
        "messaging_product": "whatsapp",
        "contacts": draw(
            value_or(
                st.lists(
                    st.fixed_dictionaries(
                        {"wa_id": WA_IDS, "profile": st.fixed_dictionaries({"name": TEXT})}
                    ),
                    max_size=3,
                )
            )
        ),
        "messages": draw(rarely(st.lists(wa_message(), min_size=1, max_size=4))),
        "statuses": draw(value_or(st.lists(wa_status(), max_size=3))),
    }
    change = {
        "field": draw(value_or(st.just("messages"), 8)),
        "value": draw(rarely(st.just(value))),
    }
    return {
        "object": draw(rarely(st.just("whatsapp_business_account"))),
        "entry": draw(rarely(st.just([{"id": "1", "changes": [change]}]))),
    }
