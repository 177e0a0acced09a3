"""report.html of a sweep: self-contained (no script, no external resource), every embedded image a
PNG that decodes, every section present (working-set curves, replay agreement with the disagreement
classes, failed jobs), and it opens in headless Chromium without console errors and with every image
loaded (checked over the DevTools protocol; skipped, saying why, only where no Chromium is
installed -- `apt-get install -y chromium`)."""
from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from html.parser import HTMLParser

import pytest
from sweeputil import write_inputs

from bsdvm.sweep import Plan, run_job, workloads_from
from bsdvm.sweep.engine import results_frame
from bsdvm.sweep.report import write_report

CHROME = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome", "chrome")
               if shutil.which(n)), None)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    f = write_inputs(d)
    plan = Plan(workloads_from(run=[str(f["touch.py"]), str(f["raises.py"]), str(f["spins.py"])],
                               replay=[str(f["small.trace"])]),
                physmem="1M,2M", swap="16M", arch="amd64,i386", timeout=0.5)
    rows = [run_job(j, timeout=plan.timeout) for j in plan.jobs()[0]]
    path = d / "report.html"
    write_report(results_frame(rows), str(path))
    return path


def test_report_is_self_contained_and_every_image_decodes(report):
    import matplotlib.image
    p = _Collect()
    p.feed(report.read_text(encoding="utf-8"))
    tags = [t for t, _ in p.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    imgs = [a for t, a in p.tags if t == "img"]
    # touch.py: curves + wall time; replay: curves + wall time; agreement chart (failed workloads
    # get no curves)
    assert len(imgs) == 5
    for a in imgs:
        prefix = "data:image/png;base64,"
        assert a["src"].startswith(prefix) and a.get("alt")
        png = base64.b64decode(a["src"][len(prefix):], validate=True)
        pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert pixels.shape[0] > 50 and pixels.shape[1] > 50
    text = " ".join(p.text)
    for needle in ("run: touch.py", "replay: small.trace", "Replay agreement per trace",
                   "msync-flags ×2", "Failed jobs", "ZeroDivisionError: division by zero",
                   "timed out after 0.5 s", "no job of this workload succeeded", "arch=i386"):
        assert needle in text, needle


async def _cdp_open(url: str) -> dict:
    """Open `url` in headless Chromium; return console errors, exceptions, log errors and the
    state of every <img> (complete, naturalWidth)."""
    from tornado.websocket import websocket_connect
    profile = tempfile.mkdtemp(prefix="bsdvm-chrome-")
    proc = subprocess.Popen([CHROME, "--headless=new", "--no-sandbox", "--disable-gpu",
                             "--no-first-run", "--remote-debugging-port=0",
                             f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 60
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            assert proc.poll() is None and time.monotonic() < deadline, "chromium did not start"
            await asyncio.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        ws = await websocket_connect(page["webSocketDebuggerUrl"], max_message_size=1 << 26)
        events: list[dict] = []
        counter = iter(range(1, 1 << 30))

        async def call(method: str, **params) -> dict:
            i = next(counter)
            ws.write_message(json.dumps(dict(id=i, method=method, params=params)))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.read_message(), 60))
                if msg.get("id") == i:
                    return msg
                events.append(msg)

        for domain in ("Runtime", "Log", "Page"):
            await call(f"{domain}.enable")
        await call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            events.append(json.loads(await asyncio.wait_for(ws.read_message(), 60)))
        res = await call("Runtime.evaluate", returnByValue=True, expression=(
            "JSON.stringify(Array.from(document.images).map(i => [i.complete, i.naturalWidth]))"))
        ws.close()
        errors = [e for e in events if e.get("method") == "Runtime.exceptionThrown"
                  or (e.get("method") == "Runtime.consoleAPICalled"
                      and e["params"]["type"] in ("error", "assert", "warning"))
                  or (e.get("method") == "Log.entryAdded"
                      and e["params"]["entry"]["level"] in ("error", "warning"))]
        return dict(errors=errors, images=json.loads(res["result"]["result"]["value"]))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.skipif(CHROME is None, reason="no Chromium installed (apt-get install -y chromium); "
                                           "the HTML-parsing test still decodes every image")
def test_report_opens_in_headless_chromium_without_console_errors(report):
    got = asyncio.run(_cdp_open(report.as_uri()))
    assert got["errors"] == []
    assert len(got["images"]) == 5
    assert all(complete and width > 0 for complete, width in got["images"])
