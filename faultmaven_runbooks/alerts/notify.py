"""Notifications out: hand an AlertEvent to `Notifier.submit` and it is sent to every configured
channel by a background worker, never in the caller's path.

- `submit` only queues (no network, no database): a receiver that is down or hangs never delays
  the webhook that reported the alert.
- Each (event key, channel) is claimed in the delivery log first, so an event handed over twice,
  or to two replicas, is sent once per channel.
- Failures are retried with capped exponential backoff and jitter, honouring Retry-After; after
  the last try, or on an answer retrying cannot fix, the delivery becomes a dead letter.
- On shutdown the worker drains for `notify_drain_seconds`; what is still unsent is recorded as
  undelivered and sent at the next start.
- Secrets (webhook URLs, routing keys) never reach a log line, an error or a stored record.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from ..clock import Clock, utc_now
from ..settings import NotifySettings
from .channels import CLIENT, Channel, channels_from
from .delivery import Attempt, Backoff, DeliveryLog, failed_to_send, judge
from .events import AlertEvent
from .redaction import RedactingFilter, Redactor, install, uninstall

log = logging.getLogger(__name__)

ANSWER_BYTES = 4096  # of a receiver's answer, enough for its error message; a huge body is not read
_STOP = object()


def _track(tasks: set[asyncio.Task[None]], work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(work)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


class Notifier:
    def __init__(self, settings: NotifySettings, deliveries: DeliveryLog, *, clock: Clock = utc_now,
                 rand: Callable[[], float] = random.random):
        self.settings = settings
        self.channels: list[Channel] = channels_from(settings)
        self._deliveries = deliveries
        self._clock = clock
        self._rand = rand
        self._redactor = Redactor(settings.secrets())
        self._backoff = Backoff(settings.notify_backoff_seconds, settings.notify_backoff_max_seconds)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queued: set[str] = set()  # event keys waiting or in flight here
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._slots = asyncio.Semaphore(settings.notify_concurrency)  # requests in flight at once
        self._filter: RedactingFilter | None = None

    def __repr__(self) -> str:
        return f"Notifier(channels={[c.name for c in self.channels]})"

    @property
    def enabled(self) -> bool:
        return bool(self.channels)

    def start(self) -> Notifier:
        """Start the worker (a thread running its own event loop); a no-op without channels."""
        if self.channels and self._thread is None:
            self._filter = install(self._redactor)
            self._thread = threading.Thread(target=lambda: asyncio.run(self._work()), name="faultmaven-notify",
                                            daemon=True)
            self._thread.start()
            if not self._ready.wait(30):
                raise RuntimeError("the notification worker did not start")
        return self

    def submit(self, event: AlertEvent) -> bool:
        """Queue `event` for every channel and return at once. False when it is not queued: no
        channel configured, the same event already waiting here, the queue full, or shut down."""
        if not self.channels:
            return False
        with self._lock:
            if self._closed or self._loop is None or self._queue is None:
                log.warning("notification %s not queued: the notifier is not running (not started or shut down)",
                            event.event_key)
                return False
            if event.event_key in self._queued:
                return False
            if len(self._queued) >= self.settings.notify_queue_size:
                log.warning("notification %s refused: %d notifications are waiting already", event.event_key,
                            len(self._queued))
                return False
            self._queued.add(event.event_key)
            # Inside the lock: close() queues the stop marker under it too, so nothing lands behind it.
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is waiting or in flight (True), or the timeout passes (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._queued, timeout)

    def close(self, drain_seconds: float | None = None) -> None:
        """Stop taking events, send what is queued for up to `drain_seconds` (default: the
        setting), record the rest as undelivered, and stop the worker."""
        drain = self.settings.notify_drain_seconds if drain_seconds is None else drain_seconds
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._loop is not None and self._queue is not None:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, (_STOP, drain))
        if self._thread is not None:
            self._thread.join(drain + self.settings.notify_timeout_seconds + 30)
        if self._filter is not None:
            uninstall(self._filter)
            self._filter = None

    def __enter__(self) -> Notifier:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # The worker: everything below runs on its event loop.

    async def _work(self) -> None:
        self._queue = asyncio.Queue()
        tasks: set[asyncio.Task[None]] = set()
        timeout = httpx.Timeout(self.settings.notify_timeout_seconds)
        # follow_redirects stays off: a redirect would carry the routing key to another host.
        # HTTPS_PROXY / NO_PROXY from the environment apply (receivers are often beyond an egress proxy).
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                     headers={"User-Agent": CLIENT}) as client:
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            _track(tasks, self._resume())
            while True:
                item = await self._queue.get()
                if isinstance(item, tuple) and item[0] is _STOP:
                    break
                _track(tasks, self._deliver_event(client, item))
            await self._drain(tasks, item[1])

    async def _drain(self, tasks: set[asyncio.Task[None]], seconds: float) -> None:
        if not tasks:
            return
        _, unfinished = await asyncio.wait(set(tasks), timeout=seconds)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        if unfinished:
            log.warning("shutdown: %d notifications left undelivered; they are sent at the next start",
                        len(unfinished))

    async def _resume(self) -> None:
        """Events a previous shutdown cut short: queued again (their channels that did get them are
        skipped by the claim)."""
        try:
            rows = await asyncio.to_thread(self._deliveries.unfinished, self.settings.notify_queue_size)
        except Exception as exc:  # the store being down must not stop notifications
            log.warning("could not read undelivered notifications: %s", self._redactor.text(exc))
            return
        for row in rows:
            if self._closed:  # shut down meanwhile: they stay recorded for the next start
                return
            self.submit(AlertEvent.model_validate(row))

    async def _deliver_event(self, client: httpx.AsyncClient, event: AlertEvent) -> None:
        try:
            await asyncio.gather(*(self._deliver(client, event, c) for c in self.channels))
        finally:
            with self._idle:
                self._queued.discard(event.event_key)
                if not self._queued:
                    self._idle.notify_all()

    async def _deliver(self, client: httpx.AsyncClient, event: AlertEvent, channel: Channel) -> None:
        key, name = event.event_key, channel.name
        claimed = finished = False
        try:
            claimed = await self._book(self._deliveries.claim, key, name, event.model_dump(mode="json"), default=True)
            if not claimed:
                log.debug("notification %s to %s: sent or being sent already", key, name)
                return
            for attempt in range(1, self.settings.notify_max_attempts + 1):
                result = await self._send(client, channel, event)
                await self._book(self._deliveries.record_attempt, key, name, status_code=result.status_code,
                                 error=result.error)
                if result.ok:
                    finished = True
                    await self._book(self._deliveries.delivered, key, name)
                    log.info("notification %s sent to %s (try %d)", key, name, attempt)
                    return
                if not result.retry or attempt == self.settings.notify_max_attempts:
                    finished = True
                    why = f"{'gave up after' if result.retry else 'refused on'} try {attempt}: {result.error}"
                    await self._book(self._deliveries.dead_letter, key, name, why)
                    log.warning("notification %s to %s is a dead letter: %s", key, name, why)
                    return
                wait = self._backoff.delay(attempt, result.retry_after, self._rand)
                log.info("notification %s to %s failed (%s); try %d in %.1fs", key, name, result.error,
                         attempt + 1, wait)
                await asyncio.sleep(wait)
        except asyncio.CancelledError:
            if claimed and not finished:
                try:
                    self._deliveries.undelivered(key, name, "shutdown before it was sent")
                except Exception as exc:
                    log.error("notification %s to %s: could not record it as undelivered: %s", key, name,
                              self._redactor.text(exc))
            raise

    async def _send(self, client: httpx.AsyncClient, channel: Channel, event: AlertEvent) -> Attempt:
        try:
            outgoing = channel.render(event, self._clock())
            async with self._slots, client.stream("POST", outgoing.url, content=outgoing.body,
                                                  headers=outgoing.headers) as response:
                answer = b""
                async for chunk in response.aiter_bytes():
                    answer += chunk
                    if len(answer) >= ANSWER_BYTES:
                        break
            result = judge(response.status_code, response.headers, answer, self._clock())
        except httpx.HTTPError as exc:
            result = failed_to_send(exc)
        except Exception as exc:  # a bug here must dead-letter the delivery, not kill the worker
            result = Attempt(ok=False, retry=False, error=f"{type(exc).__name__}: {exc}")
        # Receivers' answers and exception texts can quote the request (URL, body): redact here,
        # once, before the text reaches a log line or the delivery log.
        error = self._redactor.text(result.error) if result.error else None
        return Attempt(result.ok, result.retry, result.status_code, error, result.retry_after)

    async def _book(self, write: Callable[..., Any], *args: Any, default: Any = None, **kwargs: Any) -> Any:
        """A delivery-log write, off the event loop. If the store fails, delivery goes on unrecorded
        (people are told either way) and the failure is logged; `default` stands in for the answer."""
        try:
            return await asyncio.to_thread(write, *args, **kwargs)
        except Exception as exc:
            log.error("delivery log unavailable (%s): %s", getattr(write, "__name__", "write"),
                      self._redactor.text(exc))
            return default
