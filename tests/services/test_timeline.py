"""The one client timeline: every kind of event, newest first, a page at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Note, Role
from services.clients import history as card_history
from services.clients import timeline
from services.clients.timeline import Kind
from services.errors import NotFound
from tests import factories
from tests import timeline_data as client_history


@pytest.fixture
async def history(session, clock):
    anna = await factories.employee(session, clock, name="Анна", office="Казань")
    boris = await factories.employee(session, clock, name="Борис", role=Role.MANAGER)
    client_id = await client_history.client(session, clock.now(), owner=anna)
    return await client_history.eight_events(
        session, client_id, anna=anna, boris=boris, start=clock.now() - timedelta(days=1)
    )


async def test_the_first_page_is_the_six_newest_events_of_every_kind(session, history):
    page = await timeline.page(session, history.client_id)
    assert [e.kind for e in page.entries] == [
        Kind.STAGE,  # won, by Boris
        Kind.MESSAGE,
        Kind.NOTE,
        Kind.CALL,
        Kind.TASK,
        Kind.STAGE,  # moved to talks, by Anna
    ]
    won, message, note, call, task, moved = page.entries
    assert (won.text, won.state, won.extra, won.who) == (
        "Кухня",
        "Успешно реализовано",
        "won",
        "Борис",
    )
    assert (moved.state, moved.extra, moved.who) == ("Переговоры", "open", "Анна")
    assert (message.text, message.state) == ("Здравствуйте", "in")
    assert (note.text, note.who) == ("Хочет скидку", "Анна")
    assert (call.text, call.state) == ("in", "answered")
    assert (task.text, task.state) == ("Перезвонить", "open")
    assert [e.at for e in page.entries] == sorted((e.at for e in page.entries), reverse=True)
    assert page.has_next and not page.has_previous


async def test_the_second_page_has_the_deal_opened_and_the_lead_and_no_next(session, history):
    page = await timeline.page(session, history.client_id, 1)
    deal, lead = page.entries
    assert (deal.kind, deal.ref_id, deal.text, deal.state, deal.who) == (
        Kind.DEAL,
        history.deal_id,
        "Кухня",
        "Успешно реализовано",
        "Анна",
    )
    assert float(deal.extra or 0) == 150000
    assert (lead.kind, lead.ref_id, lead.text, lead.state) == (
        Kind.LEAD,
        history.lead_id,
        "form:site",
        "target",
    )
    assert page.has_previous and not page.has_next


async def test_a_page_past_the_end_is_not_found_but_an_empty_first_page_is_fine(
    session, clock, history
):
    with pytest.raises(NotFound) as refused:
        await timeline.page(session, history.client_id, 2)
    assert refused.value.key == "client.no_page"
    empty = await client_history.client(session, clock.now(), phone=None)
    page = await timeline.page(session, empty)
    assert page.entries == [] and not page.has_next


async def test_events_at_the_same_moment_keep_a_stable_order(session, clock, history):
    """A note typed in the same second as another comes after it (newest first: before)."""
    at = clock.now()
    for text in ("первая", "вторая"):
        session.add(Note(client_id=history.client_id, text=text, created_at=at, updated_at=at))
    await session.flush()
    page = await timeline.page(session, history.client_id)
    assert [e.text for e in page.entries[:2]] == ["вторая", "первая"]


async def test_another_clients_events_are_not_in_the_timeline(session, clock, history):
    other = await client_history.client(session, clock.now(), name="Пётр", phone="+79120003344")
    session.add(Note(client_id=other, text="чужая", created_at=clock.now(), updated_at=clock.now()))
    await session.flush()
    texts = [
        e.text for n in (0, 1) for e in (await timeline.page(session, history.client_id, n)).entries
    ]
    assert "чужая" not in texts and len(texts) == 8


async def test_lead_cards_read_only_contacts_from_the_same_entries(session, history):
    """The lead, call and task cards' "contacted before" is the timeline's leads and calls."""
    contacts = (await card_history.of_client(session, history.client_id)).contacts
    assert [e.kind for e in contacts] == [Kind.CALL, Kind.LEAD]
