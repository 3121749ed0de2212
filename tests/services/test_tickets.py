"""Support tickets in the services: raised by anyone, taken by one support employee (of two at
once, one wins), replies both ways with statuses open / answered / closed, refusals for those
who may not answer, and the queue by category."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from models import Employee, OutboxMessage, Role, Ticket, TicketReply, TicketStatus
from services import tickets
from services.actors import Actor
from services.errors import AccessDenied, Conflict, InvalidInput
from tests import factories


async def _people(s, clock):  # type: ignore[no-untyped-def]
    return {
        "anna": Actor.of(await factories.employee(s, clock, name="Анна", office="Казань")),
        "boris": Actor.of(await factories.employee(s, clock, name="Борис", office="Казань")),
        "olga": Actor.of(await factories.employee(s, clock, name="Ольга", role=Role.SUPPORT)),
        "pavel": Actor.of(await factories.employee(s, clock, name="Павел", role=Role.SUPPORT)),
    }


async def _outbox(s, kind: str) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    rows = await s.execute(
        sa.select(OutboxMessage.recipient, OutboxMessage.payload)
        .where(OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id)
    )
    return [(r, p) for r, p in rows.all()]


async def test_a_ticket_reaches_every_support_employee_and_keeps_its_files(session, clock, company):
    p = await _people(session, clock)
    ticket = await tickets.raise_ticket(
        session,
        by=p["anna"],
        category="Документы",
        text="Не проходит анкета\nкод ошибки 17",
        media=[tickets.Media("photo", "AgAD-photo-1", "скриншот")],
        company=company,
    )
    assert ticket.subject == "Не проходит анкета" and ticket.status is TicketStatus.OPEN
    replies = (await session.execute(sa.select(TicketReply).order_by(TicketReply.id))).scalars()
    assert [(r.text, r.media_kind, r.file_id) for r in replies] == [
        ("Не проходит анкета\nкод ошибки 17", None, None),
        ("скриншот", "photo", "AgAD-photo-1"),
    ]
    cards = await _outbox(session, "ticket_card")
    assert len(cards) == 2 and {p["ticket_id"] for _r, p in cards} == {ticket.id}
    with pytest.raises(InvalidInput):
        await tickets.raise_ticket(
            session, by=p["anna"], category="Нет такой", text="x", media=[], company=company
        )


async def test_of_two_support_employees_taking_at_once_one_wins(db, clock, company):
    async with db.unit_of_work() as s:
        p = await _people(s, clock)
        ticket_id = (
            await tickets.raise_ticket(
                s, by=p["anna"], category="Оплата", text="Счёт", media=[], company=company
            )
        ).id

    async def take(who: Actor) -> str:
        try:
            async with db.unit_of_work() as s:
                await tickets.take(s, ticket_id, by=who, company=company)
            return "won"
        except Conflict as exc:
            return exc.params["name"]

    results = await asyncio.gather(take(p["olga"]), take(p["pavel"]))
    async with db.unit_of_work() as s:
        ticket = await s.get(Ticket, ticket_id)
        winner = "Ольга" if ticket.assignee_id == p["olga"].id else "Павел"
    assert sorted(results) == sorted(["won", winner])  # the other is told who has it


async def test_replies_go_both_ways_and_statuses_follow(session, clock, company):
    p = await _people(session, clock)
    ticket = await tickets.raise_ticket(
        session, by=p["anna"], category="Техника", text="Нет звука", media=[], company=company
    )
    await tickets.reply(session, ticket.id, by=p["olga"], text="Перезагрузите", company=company)
    assert ticket.status is TicketStatus.ANSWERED and ticket.assignee_id == p["olga"].id
    with pytest.raises(Conflict):  # Pavel: it is Olga's now
        await tickets.reply(session, ticket.id, by=p["pavel"], text="я тоже", company=company)
    with pytest.raises(AccessDenied):  # not support, not the author
        await tickets.reply(session, ticket.id, by=p["boris"], text="?", company=company)
    await tickets.reply(
        session,
        ticket.id,
        by=p["anna"],
        text="",
        media=tickets.Media("document", "BQAD-doc", file_name="log.txt"),
        company=company,
    )
    assert ticket.status is TicketStatus.OPEN
    relays = await _outbox(session, "ticket_reply")
    anna_chat, olga_chat = [
        str((await session.get(Employee, who.id)).telegram_id) for who in (p["anna"], p["olga"])
    ]
    assert [r for r, _ in relays] == [anna_chat, olga_chat]  # each reply to the other side
    with pytest.raises(AccessDenied):
        await tickets.close(session, ticket.id, by=p["boris"], company=company)
    await tickets.close(session, ticket.id, by=p["anna"], company=company)
    assert ticket.status is TicketStatus.CLOSED
    with pytest.raises(Conflict):
        await tickets.reply(session, ticket.id, by=p["olga"], text="ещё", company=company)


async def test_the_queue_is_by_category_oldest_first(session, clock, company):
    p = await _people(session, clock)
    for category, minutes in (("Оплата", 0), ("Документы", 10), ("Оплата", 20)):
        clock.advance(minutes=minutes)
        await tickets.raise_ticket(
            session,
            by=p["anna"],
            category=category,
            text=f"{category} {minutes}",
            media=[],
            company=company,
        )
    summary = await tickets.queue(session, by=p["olga"])
    assert [(c.category, c.count) for c in summary] == [("Оплата", 2), ("Документы", 1)]
    lines, total = await tickets.queue_of(session, "Оплата", by=p["olga"])
    assert total == 2 and [line.subject for line in lines] == ["Оплата 0", "Оплата 20"]
    with pytest.raises(AccessDenied):
        await tickets.queue(session, by=p["anna"])
    mine, count = await tickets.mine(session, by=p["anna"])
    assert count == 3 and mine[0].subject == "Оплата 20"  # the newest first
