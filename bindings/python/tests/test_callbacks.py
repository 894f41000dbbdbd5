"""Callback exceptions surface and leave the run resumable; cancelling an asyncio task
stops waiting cleanly; Ctrl-C interrupts a sync wait."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

import gtm_infra as gi

from conftest import FAST, request_for


class Boom(Exception):
    pass


def test_sync_callback_exception_surfaces_and_run_resumes(sims: gi.Simulators, engine: gi.Engine) -> None:
    request = request_for("cbsync")
    pid = engine.create_provision(**request)
    engine.mark_paid(pid)
    seen: list[int] = []

    def explode(e: gi.ProgressEvent) -> None:
        seen.append(e.step)
        if e.step == 3:
            raise Boom("callback failed on purpose")

    with pytest.raises(gi.ProgressCallbackError) as info:
        engine.run(pid, on_progress=explode)
    assert isinstance(info.value.__cause__, Boom)
    assert "Boom" in str(info.value)
    assert 3 in seen

    # The stored state is consistent: running again finishes, buying each domain once.
    snap = engine.run(pid)
    assert snap.status == "active", snap.error
    assert [sims.domains_bought(d) for d in request["domains"]] == [1, 1, 1]


@pytest.mark.asyncio
async def test_async_callback_exception_surfaces_and_run_resumes(
    async_sims: gi.Simulators, async_engine: gi.AsyncEngine
) -> None:
    request = request_for("cbasync")
    pid = await async_engine.create_provision(**request)
    await async_engine.mark_paid(pid)

    async def explode(e: gi.ProgressEvent) -> None:
        if e.step == 5:
            raise Boom("async callback failed")

    with pytest.raises(gi.ProgressCallbackError) as info:
        await async_engine.run(pid, on_progress=explode)
    assert isinstance(info.value.__cause__, Boom)
    snap = await async_engine.run(pid)
    assert snap.status == "active", snap.error
    assert [async_sims.domains_bought(d) for d in request["domains"]] == [1, 1, 1]


@pytest.mark.asyncio
async def test_cancelling_a_task_stops_waiting_cleanly(tmp_path: Path, secret_key: str) -> None:
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: loop_errors.append(ctx))
    async with gi.Simulators(latency=0.05, rate_limits=FAST) as sims:
        engine = await gi.AsyncEngine.open(
            store=str(tmp_path / "c.db"), secret_key=secret_key,
            vendors=sims.vendors(), settings=sims.engine_settings(),
        )
        request = request_for("cancel")
        pid = await engine.create_provision(**request)
        await engine.mark_paid(pid)
        started = asyncio.Event()

        def on_progress(e: gi.ProgressEvent) -> None:
            if e.step >= 2:
                started.set()

        task = asyncio.create_task(engine.run(pid, on_progress=on_progress))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await engine.status(pid)).status == "provisioning"

        # Also without a callback.
        plain = asyncio.create_task(engine.run(pid))
        await asyncio.sleep(0)
        plain.cancel()
        with pytest.raises(asyncio.CancelledError):
            await plain

        snap = await engine.run(pid)
        assert snap.status == "active", snap.error
        assert [sims.domains_bought(d) for d in request["domains"]] == [1, 1, 1]
        # A worker loop stops on cancel too.
        worker = asyncio.create_task(engine.run_worker())
        await asyncio.sleep(0)
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker
    assert loop_errors == []


@pytest.mark.asyncio
async def test_async_worker_stops_on_signal(async_engine: gi.AsyncEngine) -> None:
    pid = await async_engine.create_provision(**request_for("aworker"))
    await async_engine.mark_paid(pid)
    stop = gi.StopSignal()

    def on_progress(e: gi.ProgressEvent) -> None:
        if e.step == 10 and e.status == "completed":
            stop.set()

    await async_engine.run_worker(stop=stop, on_progress=on_progress)
    assert (await async_engine.status(pid)).status == "active"


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_ctrl_c_interrupts_a_sync_wait(tmp_path: Path, secret_key: str) -> None:
    with gi.Simulators(latency=0.05, rate_limits=FAST) as sims:
        engine = gi.Engine.open(
            store=str(tmp_path / "i.db"), secret_key=secret_key,
            vendors=sims.vendors(), settings=sims.engine_settings(),
        )
        pid = engine.create_provision(**request_for("ctrlc"))
        engine.mark_paid(pid)
        first = threading.Event()
        # Sent from another thread once the run is under way; the main thread is then
        # (almost always) inside the native wait with the GIL released.
        sender = threading.Thread(target=lambda: first.wait(30) and os.kill(os.getpid(), signal.SIGINT))
        sender.start()
        with pytest.raises(KeyboardInterrupt):
            engine.run(pid, on_progress=lambda e: first.set())
            pytest.fail("run finished before the interrupt arrived")  # pragma: no cover
        sender.join()
        snap = engine.run(pid)
        assert snap.status == "active", snap.error
