"""Hot reload of the rule files: watch the rules dir, reload on change, keep the last good RuleSet on errors."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from replicator.sentences import exception_text

from .errors import RuleProblem, RulesError
from .loader import load_rules
from .ruleset import RuleSet

log = logging.getLogger(__name__)
OnReload = Callable[[RuleSet | None, list[RuleProblem]], None]


class RulesWatcher(FileSystemEventHandler):
    """Keeps `ruleset` current with the files in `directory`.

    After every change (debounced) the rules are reloaded and `on_reload(ruleset, problems)` is called: with
    the new RuleSet and [] when the files are valid, or with the RuleSet still in force (the previous one) and
    the problems when they are not.  A bad edit never replaces good rules.
    """

    def __init__(self, directory: str | Path, on_reload: OnReload | None = None, debounce: float = 0.3, **load_kw):
        self.directory = Path(directory)
        self.on_reload = on_reload
        self.debounce = debounce
        self.load_kw = load_kw
        self.problems: list[RuleProblem] = []
        self.ruleset: RuleSet | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._observer = None
        try:
            self.ruleset = load_rules(self.directory, **load_kw)
        except RulesError as e:
            self.problems = e.errors

    def reload(self) -> RuleSet | None:
        """Reload now; returns the RuleSet in force afterwards."""
        with self._lock:
            try:
                self.ruleset = load_rules(self.directory, **self.load_kw)
                self.problems = []
            except RulesError as e:
                self.problems = e.errors
            except Exception as e:  # an unforeseen failure must not end the watcher: keep the rules in force
                self.problems = [
                    RuleProblem(str(self.directory), 1, 1, f"the rules could not be reloaded: {exception_text(e)}")
                ]
            ruleset, problems = self.ruleset, list(self.problems)
        if self.on_reload:
            try:
                self.on_reload(ruleset, problems)
            except Exception as exc:  # the service's handler failed: say so, keep watching
                log.debug("applying reloaded rules failed", exc_info=True)  # the traceback, for a developer's debug log
                log.error(
                    "rules reloaded from %s but applying them failed (%s); previous rules stay in force",
                    self.directory,
                    exception_text(exc),
                )
        return ruleset

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [getattr(event, "src_path", ""), getattr(event, "dest_path", "")]
        if event.is_directory or not any(str(p).endswith((".yaml", ".yml", ".json")) for p in paths):
            return
        if event.event_type in ("opened", "closed_no_write"):
            return
        # Editors write in bursts (truncate, write, rename): wait for quiet before reloading.
        with self._lock:
            if self._timer:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self.reload)
            self._timer.daemon = True
            self._timer.start()

    def start(self) -> RulesWatcher:
        self._observer = Observer()
        self._observer.schedule(self, str(self.directory), recursive=False)
        self._observer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._timer:
                self._timer.cancel()
        if self._observer:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def __enter__(self) -> RulesWatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
