"""bot.telegram.html renders aiogram's formatting nodes as aiogram does: an employee sees the
same card, names with <, > and & stay text, and a node it does not know falls back."""

from __future__ import annotations

from aiogram.utils.formatting import (
    Bold,
    Code,
    CustomEmoji,
    Italic,
    Spoiler,
    Strikethrough,
    Text,
    TextLink,
    Underline,
    as_key_value,
    as_line,
    as_list,
)
from hypothesis import given
from hypothesis import strategies as st

from bot.telegram.html import as_html

TYPED = (Bold, Italic, Underline, Strikethrough, Code, Spoiler)
words = st.text(min_size=1, max_size=12)  # any characters: <, >, &, quotes, emoji, newlines


@st.composite
def trees(draw: st.DrawFn, depth: int = 3) -> Text:
    """Nodes as screens build them. Each typed node starts with text: aiogram orders the tags
    of two nodes opened at one offset by its own rules (the same meaning to Telegram)."""
    children: list[object] = [draw(words)]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 3 if depth > 0 else 1))
        if kind == 0:
            children.append(draw(words))
        elif kind == 1:
            children.append(draw(st.integers(-(10**6), 10**6)))
        elif kind == 2:
            children.append(draw(trees(depth - 1)))
        else:
            node = draw(trees(depth - 1))
            children.append(draw(st.sampled_from(TYPED))(*node._body))
    if depth > 0 and draw(st.booleans()):
        children.append(
            TextLink(draw(words), url=f"https://example.org/{draw(st.integers(0, 99))}")
        )
    return Text(*children)


@given(trees())
def test_the_same_html_as_aiogram_renders(node: Text) -> None:
    assert as_html(node) == node.as_html()


def test_a_card_with_markup_in_a_name_shows_the_name_as_text() -> None:
    card = as_list(
        Bold("Клиент <b>Иван</b> & Co"),
        as_key_value("Телефон", "+7 900 000-00-00"),
        as_line("Сделка", Italic("150 000 ₽ <script>"), sep=": "),
    )
    html = as_html(card)
    assert html == card.as_html()
    assert "<b>Клиент &lt;b&gt;Иван&lt;/b&gt; &amp; Co</b>" in html
    assert "<i>150 000 ₽ &lt;script&gt;</i>" in html


def test_a_node_it_does_not_know_is_rendered_by_aiogram() -> None:
    node = Text("Привет ", CustomEmoji("👍", custom_emoji_id="5368324170671202286"))
    assert as_html(node) == node.as_html()
