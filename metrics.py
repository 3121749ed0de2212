"""Prometheus metrics shared by the adapters and workers (exposed at GET /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Histogram(
    "crm_http_request_seconds",
    "HTTP request latency",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LEADS = Counter("crm_leads_registered_total", "Leads registered", ["source", "result"])
OUTBOX_RESULTS = Counter(
    "crm_outbox_deliveries_total", "Outbox delivery attempts by result", ["channel", "result"]
)
OUTBOX_SEND_SECONDS = Histogram(
    "crm_outbox_send_seconds", "Time to deliver one outbox row", ["channel"]
)
TELEGRAM_UPDATES = Counter("crm_telegram_updates_total", "Telegram updates", ["result"])
