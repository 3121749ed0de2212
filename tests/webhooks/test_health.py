"""GET /healthz and /metrics as an operator or a load balancer sees them."""

from __future__ import annotations

from app import Container
from config.settings import Settings
from webhooks.server import build_web_app


async def test_healthz_reports_database_ok_and_redis_off(web):
    response = await web.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "db": "ok", "redis": "off", "bot": "off"}


async def test_healthz_is_503_when_the_database_is_unreachable(aiohttp_client):
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql://nobody@127.0.0.1:1/none",
    )
    container = Container.build(settings)
    try:
        client = await aiohttp_client(build_web_app(container))
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["db"] == "down"
    finally:
        await container.close()


async def test_metrics_are_prometheus_text_and_count_requests(web):
    await web.get("/healthz")
    response = await web.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert 'crm_http_request_seconds_count{method="GET",route="/healthz",status="200"}' in text


async def test_healthz_is_503_when_a_configured_redis_is_unreachable(settings, aiohttp_client):
    container = Container.build(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    try:
        client = await aiohttp_client(build_web_app(container))
        response = await client.get("/healthz")
        assert response.status == 503
        body = await response.json()
        assert body == {"status": "down", "db": "ok", "redis": "down", "bot": "off"}
    finally:
        await container.close()
