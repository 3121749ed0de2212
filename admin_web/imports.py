"""`/admin/imports`: a client list from CSV or XLSX, in the steps services.imports takes:
upload, map the columns and choose what to do with matches, see the dry run, import (the page
shows progress while it runs), undo."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from admin_web import inputs
from admin_web.edge import DB, EMPLOYEE, context
from services import access, imports
from services.actors import Actor
from services.deals import lists as deal_lists
from services.errors import InvalidInput
from services.imports import reading
from web_app import container_of
from webhooks.common import read_form_pairs

RUNNING: set[int] = set()  # imports this process is applying (a stopped one is picked up)


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/imports", imports_page)
    app.router.add_post("/admin/imports", upload)
    app.router.add_get("/admin/imports/{import_id:\\d{1,18}}", import_page)
    app.router.add_post("/admin/imports/{import_id:\\d{1,18}}/preview", preview)
    app.router.add_post("/admin/imports/{import_id:\\d{1,18}}/apply", apply)
    app.router.add_post("/admin/imports/{import_id:\\d{1,18}}/undo", undo)


async def imports_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    found = await imports.recent(request[DB], by=Actor.of(me))
    values = context(request, me=me, imports=found, limit=reading.MAX_BYTES // 2**20)
    return aiohttp_jinja2.render_template("imports.html", request, values)


async def upload(request: web.Request) -> web.StreamResponse:
    """The file field of the form (the CSRF token came in the same body; the edge read it)."""
    me = request[EMPLOYEE]
    form = await request.post()
    part = form.get("file")
    if not isinstance(part, web.FileField):
        raise InvalidInput("no file", key="import.no_file")
    data = part.file.read(reading.MAX_BYTES + 1)
    now = container_of(request).company.clock.now()
    import_id = await imports.upload(
        request[DB], data, part.filename or "", by=Actor.of(me), now=now
    )
    raise web.HTTPFound(f"/admin/imports/{import_id}")


async def import_page(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    import_id = int(request.match_info["import_id"])
    found = await imports.view(request[DB], import_id, by=Actor.of(me))
    if found.status == "running" and import_id not in RUNNING:
        await request[DB].commit()  # a stopped run is picked up where it left off
        _spawn(request, import_id)
    people = await deal_lists.choices(request[DB], office_id=access.office_limit(me))
    values = context(
        request,
        me=me,
        imp=found,
        fields=reading.FIELDS,
        people=people.people,
        matches=imports.MATCHES,
    )
    return aiohttp_jinja2.render_template("import.html", request, values)


class PreviewForm(inputs.Input):
    matches: str = "skip"
    owner: inputs.Id | None = None


async def preview(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    import_id = int(request.match_info["import_id"])
    pairs = await read_form_pairs(request)
    form = inputs.parse(PreviewForm, pairs)
    mapping = {
        key[4:]: value
        for key, value in pairs
        if key.startswith("col_") and key[4:].isdigit() and value in reading.FIELDS
    }
    await imports.preview(
        request[DB],
        import_id,
        mapping=mapping,
        matches=form.matches,
        owner_id=form.owner,
        by=Actor.of(me),
        company=container_of(request).company,
    )
    raise web.HTTPFound(f"/admin/imports/{import_id}")


async def apply(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    import_id = int(request.match_info["import_id"])
    now = container_of(request).company.clock.now()
    await imports.start(request[DB], import_id, by=Actor.of(me), now=now)
    await request[DB].commit()  # the run reads the import in its own units of work
    _spawn(request, import_id)
    raise web.HTTPFound(f"/admin/imports/{import_id}")


def _spawn(request: web.Request, import_id: int) -> None:
    if import_id in RUNNING:  # a second press: this process is on it
        return
    container = container_of(request)
    RUNNING.add(import_id)

    async def run() -> None:
        try:
            await imports.run(container.db, import_id, container.company)
        finally:
            RUNNING.discard(import_id)

    container.spawn(run())


async def undo(request: web.Request) -> web.StreamResponse:
    me = request[EMPLOYEE]
    import_id = int(request.match_info["import_id"])
    now = container_of(request).company.clock.now()
    await imports.undo(request[DB], import_id, by=Actor.of(me), now=now)
    raise web.HTTPFound(f"/admin/imports/{import_id}")
