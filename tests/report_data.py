"""Rows for report tests, written as they are: leads, calls and deals at given moments."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from models import Call, Client, Deal, DealStatus, Lead, LeadStatus
from services.deals import pipeline

MSK = ZoneInfo("Europe/Moscow")
_ids = itertools.count(1)


def msk(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=MSK).astimezone(UTC)


async def staff(session, clock):
    """Анна and Борис of Центр, Ольга of Север."""
    from tests import factories

    return [
        await factories.employee(session, clock, name=name, office=office)
        for name, office in (("Анна", "Центр"), ("Борис", "Центр"), ("Ольга", "Север"))
    ]


async def _client(session) -> Client:
    client = Client(name=f"Клиент {next(_ids)}")
    session.add(client)
    await session.flush()
    return client


async def lead(
    session, at, *, who=None, status=LeadStatus.NEW, source="form:site", response=None, office=None
):
    """`office`: the lead's office id when not its person's (assigned across offices)."""
    client = await _client(session)
    session.add(
        Lead(
            client_id=client.id,
            status=status,
            source=source,
            assignee_id=who.id if who else None,
            office_id=office or (who.office_id if who else None),
            first_response_seconds=response,
            first_response_work_seconds=response,
            created_at=at,
            updated_at=at,
        )
    )


def call(session, at, direction, status, *, who=None, number="+79120000001"):
    session.add(
        Call(
            provider="generic",
            external_id=f"c{next(_ids)}",
            direction=direction,
            status=status,
            employee_id=who.id if who else None,
            client_number=number,
            started_at=at,
            created_at=at,
            updated_at=at,
        )
    )


async def deal(
    session,
    who,
    *,
    created,
    amount,
    status=DealStatus.OPEN,
    closed=None,
    cost=None,
    reason=None,
    pipeline_id=None,
):
    client = await _client(session)
    pipeline_id = pipeline_id or await pipeline.default_pipeline_id(session)
    stage_id = await pipeline.working_stage_id(session, pipeline_id)
    session.add(
        Deal(
            client_id=client.id,
            pipeline_id=pipeline_id,
            stage_id=stage_id,
            title="Окна",
            amount=Decimal(amount) if amount is not None else None,
            cost=Decimal(cost) if cost is not None else None,
            owner_id=who.id,
            office_id=who.office_id,
            status=status,
            closed_at=closed,
            lost_reason=reason,
            created_at=created,
            updated_at=created,
        )
    )


async def second_pipeline(session, name="Сервис"):
    """Another pipeline beside the default one: Заявка → Выезд → Сделано / Отказ."""
    from models import Pipeline, PipelineStage, StageKind

    made = Pipeline(name=name)
    session.add(made)
    await session.flush()
    for position, (stage, kind) in enumerate(
        [
            ("Заявка", StageKind.OPEN),
            ("Выезд", StageKind.OPEN),
            ("Сделано", StageKind.WON),
            ("Отказ", StageKind.LOST),
        ]
    ):
        session.add(PipelineStage(pipeline_id=made.id, name=stage, kind=kind, position=position))
    await session.flush()
    return made.id
