"""A process forked after the runtime started gets a clear error, not a hang."""

from __future__ import annotations

import os
import select
import signal
import sys

import pytest

import gtm_infra as gi


@pytest.mark.skipif(sys.platform == "win32", reason="fork only")
def test_forked_child_gets_fork_error(sims: gi.Simulators) -> None:
    # The runtime is running (the simulators live on it).
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(read)
        try:
            try:
                gi.ZapmailClient(gi.VendorConfig(api_key="k", base_url=sims.zapmail.base_url)).list_workspaces()
                msg = "no error"
            except gi.ForkError as e:
                msg = "ForkError: " + str(e)
            except BaseException as e:
                msg = f"other: {type(e).__name__}: {e}"
            os.write(write, msg.encode())
        finally:
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 60)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    msg = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert msg.startswith("ForkError: "), msg
    assert "spawn" in msg and "fork" in msg
    # The parent is unaffected.
    assert gi.ZapmailClient(
        gi.VendorConfig(api_key=sims.zapmail.api_key, base_url=sims.zapmail.base_url)
    ).list_workspaces()
