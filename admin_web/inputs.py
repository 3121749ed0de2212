"""Typed inputs of the admin web: every form and query string is read into a pydantic model
before a view uses it. A value that does not fit is a domain error (InvalidInput, 422), which
the edge shows as a page saying what was wrong; nothing is written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin
from urllib.parse import urlencode

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from models import CallStatus, DealStatus, Direction, LeadStatus, TaskStatus, TicketStatus
from services.calls.table import CallSort
from services.clients.lists import ClientSort
from services.deals.lists import DealSort
from services.errors import InvalidInput
from services.leads.table import LeadSort
from services.tasks.table import TaskSort
from services.tickets.table import TicketSort

Model = TypeVar("Model", bound=BaseModel)


def _in_our_time(value: Any) -> Any:
    """Dates and times people type: years 1900–2200 (beyond, a day's end or a time zone
    would overflow Python's calendar)."""
    if not 1900 <= value.year <= 2200:
        raise ValueError("a year between 1900 and 2200")
    return value


Day = Annotated[date, AfterValidator(_in_our_time)]


def days(since: date | None, until: date | None, tz: tzinfo) -> dict[str, datetime | None]:
    """A filter's days as moments: from the first day's midnight to the midnight after the
    last (the company's days)."""
    return {
        "since": datetime.combine(since, time(0), tzinfo=tz) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time(0), tzinfo=tz) if until else None,
    }


Moment = Annotated[datetime, AfterValidator(_in_our_time)]


class Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)

    def query(self, **changed: object) -> str:
        """This input as a query string again, with `changed` values (None drops one): the
        links of a filtered list keep its filters."""
        values = {**self.model_dump(exclude_none=True), **changed}
        return urlencode({k: getattr(v, "value", v) for k, v in values.items() if v is not None})

    def hidden(self, *leaving_out: str) -> list[tuple[str, str]]:
        """This input as (name, value) pairs for a form's hidden fields, as `parse` reads them
        back: a tuple once per value, True as "1", False and None left out."""
        pairs: list[tuple[str, str]] = []
        for name, value in self.model_dump(exclude_none=True).items():
            if name in leaving_out or value is False:
                continue
            for one in value if isinstance(value, tuple) else (value,):
                pairs.append((name, "1" if one is True else str(getattr(one, "value", one))))
        return pairs


class LoginForm(Input):
    """Any text: a login that cannot be right is a wrong login, counted against its address
    like any other (services.web_sessions.log_in)."""

    login: str = ""
    password: str = ""


class PasswordForm(Input):
    current: str = ""
    new: str = ""
    repeated: str = ""


class LeadsQuery(Input):
    status: LeadStatus | None = None
    source: Annotated[str, StringConstraints(max_length=100)] | None = None
    assignee: Annotated[int, Field(ge=1, le=2**62)] | None = None
    office: Annotated[int, Field(ge=1, le=2**62)] | None = None
    since: Day | None = None  # created on or after this day (the company's days)
    until: Day | None = None  # created on or before this day
    q: Annotated[str, StringConstraints(max_length=100)] | None = None  # name, phone, e-mail
    sort: LeadSort = LeadSort.NEWEST
    after: Annotated[str, StringConstraints(max_length=60)] | None = None


def parse(model: type[Model], data: Mapping[str, str] | Iterable[tuple[str, str]]) -> Model:
    """`data` as `read_form_pairs` or `request.query` gives it; empty fields are missing ones.
    A field typed as a tuple takes every value given for its name (ticked rows)."""
    many = {
        name
        for name, field in model.model_fields.items()
        if get_origin(field.annotation) is tuple
        or any(get_origin(a) is tuple for a in get_args(field.annotation))
    }
    values: dict[str, object] = {}
    for key, value in data.items() if isinstance(data, Mapping) else data:
        if value == "":
            continue
        if key in many:
            values.setdefault(key, []).append(value)  # type: ignore[union-attr]
        else:
            values[key] = value
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise InvalidInput(f"bad {fields}", key="web.bad_input", fields=fields) from None


class AuditQuery(Input):
    action: Annotated[str, StringConstraints(max_length=64)] | None = None  # its start
    actor: Annotated[int, Field(ge=1, le=2**62)] | None = None
    login: Annotated[str, StringConstraints(max_length=64)] | None = None
    address: Annotated[str, StringConstraints(max_length=64)] | None = None
    since: Day | None = None
    until: Day | None = None
    before: Annotated[int, Field(ge=1, le=2**62)] | None = None


Id = Annotated[int, Field(ge=1, le=2**62)]


class DealsQuery(Input):
    """The deal list's filters, its sort and the page (a cursor from the list's own link)."""

    owner: Id | None = None
    office: Id | None = None
    stage: Id | None = None
    status: DealStatus | None = None
    since: Day | None = None
    until: Day | None = None
    q: Annotated[str, StringConstraints(max_length=100)] | None = None
    sort: DealSort = DealSort.NEWEST
    after: Annotated[str, StringConstraints(max_length=60)] | None = None


class ClientsQuery(Input):
    """The client list's filters, its sort and the page."""

    owner: Id | None = None
    office: Id | None = None
    tag: Annotated[str, StringConstraints(max_length=64)] | None = None
    since: Day | None = None
    until: Day | None = None
    q: Annotated[str, StringConstraints(max_length=100)] | None = None
    sort: ClientSort = ClientSort.NEWEST
    after: Annotated[str, StringConstraints(max_length=1100)] | None = None  # a name and an id


class TasksQuery(Input):
    """The task list's filters (due dates; overdue now), its sort and the page."""

    assignee: Id | None = None
    office: Id | None = None
    status: TaskStatus | None = None
    since: Day | None = None
    until: Day | None = None
    overdue: bool = False
    q: Annotated[str, StringConstraints(max_length=100)] | None = None
    sort: TaskSort = TaskSort.NEWEST
    after: Annotated[str, StringConstraints(max_length=60)] | None = None


class CallsQuery(Input):
    employee: Id | None = None
    office: Id | None = None
    direction: Direction | None = None
    status: CallStatus | None = None
    since: Day | None = None
    until: Day | None = None
    q: Annotated[str, StringConstraints(max_length=40)] | None = None  # digits of the number
    sort: CallSort = CallSort.NEWEST
    after: Annotated[str, StringConstraints(max_length=60)] | None = None


class TicketsQuery(Input):
    status: TicketStatus | None = None
    category: Annotated[str, StringConstraints(max_length=100)] | None = None
    assignee: Id | None = None
    office: Id | None = None
    since: Day | None = None
    until: Day | None = None
    q: Annotated[str, StringConstraints(max_length=100)] | None = None
    sort: TicketSort = TicketSort.NEWEST
    after: Annotated[str, StringConstraints(max_length=60)] | None = None


class Ticked(Input):
    """What a bulk change is for: the rows ticked in the list (`id`), or all that match its
    filters."""

    scope: Literal["selected", "all"] = "selected"
    id: Annotated[tuple[Id, ...], Field(max_length=500)] = ()

    def ticked(self) -> tuple[int, ...] | None:
        """The ids to keep to; None for all that match (an error when none is ticked)."""
        if self.scope == "all":
            return None
        if not self.id:
            raise InvalidInput("nothing ticked", key="bulk.choose")
        return self.id


class Reassign(Ticked):
    """A bulk reassign: the ticked rows or all that match the list's filters, whom to, what
    goes along, and (when applying) the count that was shown."""

    to: Id | None = None
    carry: Annotated[tuple[Literal["deal", "task", "conversation"], ...], Field(max_length=3)] = ()
    expected: Annotated[int, Field(ge=0, le=10**9)] | None = None


class DealsReassign(DealsQuery, Reassign):
    pass


class TaskForEach(Ticked):
    """A task for each chosen record: its title, when it is due (the company's local time, as
    a datetime-local field sends it), and for whom (None: each record's owner)."""

    title: Annotated[str, StringConstraints(max_length=500)] | None = None
    due: Moment | None = None
    assignee: Id | None = None
    expected: Annotated[int, Field(ge=0, le=10**9)] | None = None


class TasksReassign(TasksQuery, Reassign):
    pass


class DealsTasks(DealsQuery, TaskForEach):
    pass


class ClientsTasks(ClientsQuery, TaskForEach):
    pass


class DealsMove(DealsQuery, Ticked):
    """Deals to one stage (closing them at a won or lost one; a lost one needs a reason)."""

    to_stage: Id | None = None
    reason: Annotated[str, StringConstraints(max_length=32)] | None = None
    reason_text: Annotated[str, StringConstraints(max_length=400)] | None = None
    expected: Annotated[int, Field(ge=0, le=10**9)] | None = None


class ClientsReassign(ClientsQuery, Reassign):
    pass


class TasksClose(TasksQuery, Ticked):
    """Tasks closed at once: done, or cancelled."""

    close: Literal["done", "cancelled"] | None = None
    expected: Annotated[int, Field(ge=0, le=10**9)] | None = None


class LeadsReject(LeadsQuery, Ticked):
    """New leads marked at once: `mark` is a status and one of its reasons, "spam:robot"
    (services.leads.reasons)."""

    mark: Annotated[str, StringConstraints(pattern=r"^(non_target|spam):[a-z_]{1,32}$")] | None = (
        None
    )
    expected: Annotated[int, Field(ge=0, le=10**9)] | None = None

    def marked(self) -> tuple[LeadStatus, str]:
        if self.mark is None:
            raise InvalidInput("no mark", key="bulk.choose_reject")
        status, reason = self.mark.split(":")
        return LeadStatus(status), reason


class DealsDelete(DealsQuery, Ticked):
    """Deals deleted at once (admins): the ticked ones or all that match."""

    expected: Annotated[int, Field(ge=0, le=10**9)] | None = None


class TasksDelete(TasksQuery, Ticked):
    """Tasks deleted at once (admins): the ticked ones or all that match."""

    expected: Annotated[int, Field(ge=0, le=10**9)] | None = None


class LeadsReassign(LeadsQuery, Reassign):
    pass


class ClientsDelete(ClientsQuery, Ticked):
    """Clients deleted at once (admins), with everything of theirs."""

    expected: Annotated[int, Field(ge=0, le=10**9)] | None = None
