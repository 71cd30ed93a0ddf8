"""Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools protocol with `websockets`: enough to
open a page, wait for what a person would wait for, click, type, and take a screenshot."""

import base64
import itertools
import json
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests
from websockets.sync.client import connect

from tests.dagster_dev import free_port

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1600,1000"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One tab. Every wait is bounded and fails with what the page showed."""

    def __init__(self, ws):
        self._ws = ws
        self._ids = itertools.count(1)

    def call(self, method: str, timeout: float = 60, **params) -> dict:
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{method}: no answer within {timeout:.0f} s")
            message = json.loads(self._ws.recv(timeout=remaining))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def js(self, expression: str, timeout: float = 60):
        result = self.call("Runtime.evaluate", timeout=timeout, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:200]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def text(self) -> str:
        return self.js("document.body ? document.body.innerText : ''") or ""

    def wait_for(self, expression: str, timeout: float, what: str):
        """Poll a JS expression until it is truthy; its value is returned."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.js(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            time.sleep(0.5)
        raise TimeoutError(f"{what} did not appear within {timeout:.0f} s; the page shows: {self.text()[:1500]}")

    def wait_for_text(self, text: str, timeout: float = 120) -> None:
        self.wait_for(f"document.body && document.body.innerText.includes({json.dumps(text)})", timeout, repr(text))

    def click_text(self, text: str, selector: str = "button", timeout: float = 60, prefix: bool = False) -> None:
        """Click the first visible, enabled element matching `selector` whose text is `text` (or starts with it)."""
        test = f"e.innerText.trim().startsWith({json.dumps(text)})" if prefix else f"e.innerText.trim() === {json.dumps(text)}"
        self.wait_for(f"""(() => {{
            const el = [...document.querySelectorAll({json.dumps(selector)})]
                .find(e => e.innerText && {test} && e.offsetParent !== null && !e.disabled);
            if (el) {{ el.scrollIntoView(); el.click(); return true; }}
            return false; }})()""", timeout, f"{selector} {text!r}")

    def type_into(self, selector: str, value: str, timeout: float = 60) -> None:
        """Replace an input's value the way React sees typing (native setter, then an input event)."""
        self.wait_for(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            if (!el) return false;
            const setter = Object.getOwnPropertyDescriptor(window.HTMLInputElement.prototype, 'value').set;
            el.focus(); setter.call(el, {json.dumps(value)});
            el.dispatchEvent(new Event('input', {{bubbles: true}}));
            el.dispatchEvent(new Event('change', {{bubbles: true}}));
            return true; }})()""", timeout, selector)

    def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@contextmanager
def chromium(profile: Path, log: Path) -> Iterator[Page]:
    """A fresh headless Chromium (its own profile folder) with one blank tab; killed on exit."""
    port = free_port()
    profile.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen([chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                 "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={port}",
                                 "about:blank"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode}; see {log}")
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
                tab = next(t for t in targets if t.get("type") == "page")
                break
            except (requests.RequestException, StopIteration, ValueError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"chromium's DevTools endpoint did not answer; see {log}")
                time.sleep(0.5)
        with connect(tab["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024, open_timeout=30) as ws:
            page = Page(ws)
            page.call("Page.enable")
            yield page
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os_killpg(proc.pid, sig)
                proc.wait(timeout=10)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def os_killpg(pid: int, sig: int) -> None:
    import os

    os.killpg(pid, sig)
