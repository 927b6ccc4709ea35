"""Meta's webhook endpoint: the subscription handshake and signed deliveries.

No login and no CSRF here (Meta is the caller; the signature is the authentication), and the
route stays out of the OpenAPI schema. A delivery is checked in this order, cheapest refusal
first: size (413), signature on the raw bytes (403, nothing stored), JSON (400). A valid delivery
is written durably to the spool and acknowledged; the processing happens on the desk's webhook
processor thread, so the acknowledgement does not wait for analysis.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from crisisdesk.connectors.webhook import (
    SIGNATURE_HEADER,
    processor_for,
    signature_valid,
    token_matches,
)
from crisisdesk.web.app import get_desk

log = logging.getLogger(__name__)

# Meta batches changes into one delivery; a few MB is far above any real batch of comments.
MAX_BODY_BYTES = 4 * 1024 * 1024


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Replay what a previous process acknowledged but did not process, then keep draining.
    desk = getattr(app.state, "desk", None)
    processor = processor_for(desk) if desk is not None else None
    if processor is not None:
        pending = processor.spool.count()
        if pending:
            log.info("webhook spool: replaying %d pending deliveries", pending)
        processor.start()
    try:
        yield
    finally:
        if processor is not None:
            await run_in_threadpool(processor.stop)


router = APIRouter(include_in_schema=False, lifespan=_lifespan)


def _refuse(status: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status)


@router.get("/webhooks/facebook")
async def handshake(request: Request) -> Response:
    """Answer ``hub.challenge`` only to the holder of the verify token."""
    desk = get_desk(request)
    params = request.query_params
    expected = desk.settings.facebook_verify_token.reveal()
    if params.get("hub.mode") != "subscribe" or not token_matches(
        params.get("hub.verify_token"), expected
    ):
        if not expected:
            log.warning("webhook handshake refused: CRISISDESK_FACEBOOK_VERIFY_TOKEN is not set")
        return _refuse(403, "forbidden")
    challenge = params.get("hub.challenge", "")
    if not challenge or len(challenge) > 200:
        return _refuse(400, "bad challenge")
    return PlainTextResponse(challenge)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/webhooks/facebook")
async def delivery(request: Request) -> Response:
    desk = get_desk(request)
    body = await _read_limited(request, MAX_BODY_BYTES)
    if body is None:
        return _refuse(413, "payload too large")
    secret = desk.settings.facebook_app_secret.reveal()
    if not secret:
        log.warning("webhook delivery refused: CRISISDESK_FACEBOOK_APP_SECRET is not set")
        return _refuse(403, "forbidden")
    if not signature_valid(body, request.headers.get(SIGNATURE_HEADER), secret):
        return _refuse(403, "forbidden")
    try:
        payload: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "malformed JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return _refuse(400, "expected an object with an 'entry' list")
    processor = processor_for(desk)
    # In the thread pool: an fsync can take milliseconds on a slow disk, and the event loop must
    # keep accepting other deliveries meanwhile.
    try:
        await run_in_threadpool(processor.spool.put, body)
    except OSError as exc:
        # Not durable, so not acknowledged: Meta retries the delivery later.
        log.error("webhook delivery not spooled (%s); answering 503 so that Meta retries", exc)
        return _refuse(503, "try again later")
    if not processor.running:
        processor.start()
    processor.notify()
    return PlainTextResponse("EVENT_RECEIVED")
