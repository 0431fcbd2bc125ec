"""`replicator service` on Windows: the thin pywin32 glue around the platform-neutral service runner.

Written against pywin32's documented service API (win32serviceutil.ServiceFramework, InstallService,
Set/GetServiceCustomOption, win32service.ChangeServiceConfig2, servicemanager's Event Log calls); not run on
Windows by the project's tests, which run on Linux (docs/windows.md says what was and was not run).

- The service is hosted by pywin32's pythonservice.exe, which loads `ReplicatorService` by its class string.
- The config file's path is a service parameter (registry ...\\Services\\<name>\\Parameters\\config).
- The Service Control Manager's stop (and the system shutdown) calls the runner's `request_stop`: the current
  apply finishes and checkpoints are committed within 10 s, as on Linux with SIGTERM.
- Start, stop and errors go to the Windows Event Log; the full log to a rotating file under %ProgramData%.
- Restart on failure: the SCM restarts it after 10 s, 30 s, then every 60 s, also when it stops with an error.
- It runs under the account given at install (e.g. a local user with Modify rights on the FactuSOL data folder).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from pathlib import Path

if sys.platform != "win32":  # imported only on Windows (pywin32 is a Windows-only dependency)
    raise ImportError("replicator.service.windows is the Windows service glue; on this system use systemd")

import servicemanager  # noqa: E402
import win32evtlogutil  # noqa: E402
import win32service  # noqa: E402
import win32serviceutil  # noqa: E402
import winerror  # noqa: E402

from replicator.config import install_log_redaction, load_config, redact  # noqa: E402
from replicator.service.runner import DRAIN_SECONDS, ServiceRunner  # noqa: E402

CLASS_STRING = "replicator.service.windows.ReplicatorService"
CONFIG_OPTION = "config"
LOG_BYTES, LOG_FILES = 10 * 1024 * 1024, 5
# SCM recovery: restart after 10 s, 30 s, then 60 s; the failure count resets after a day without failure
RESTARTS = (
    (win32service.SC_ACTION_RESTART, 10_000),
    (win32service.SC_ACTION_RESTART, 30_000),
    (win32service.SC_ACTION_RESTART, 60_000),
)


def log_folder() -> Path:
    return Path(os.environ.get("ProgramData", r"C:\ProgramData")) / "FactuSOL-PrestaShop Replicator" / "logs"


class EventLogHandler(logging.Handler):
    """Errors of the running service also go to the Windows Event Log (Application, source = service name)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            servicemanager.LogErrorMsg(self.format(record))
        except Exception:  # the Event Log is a second copy; the log file has the line
            self.handleError(record)


def _service_logging(name: str, config) -> Path:
    """The service's log: a rotating UTF-8 file (config log.file, else under %ProgramData%) + the Event Log."""
    path = Path(config.log_file) if config.log_file else log_folder() / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_FILES, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    events = EventLogHandler(level=logging.ERROR)
    events.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler, events]
    root.setLevel(getattr(logging, config.log_level, logging.INFO))
    install_log_redaction()
    return path


class ReplicatorService(win32serviceutil.ServiceFramework):
    _svc_name_ = "FactusolReplicator"
    _svc_display_name_ = "FactuSOL - PrestaShop replicator"
    _svc_description_ = "Keeps FactuSOL and the PrestaShop shop in step (replicator run)."

    def __init__(self, args):
        self._svc_name_ = args[0]  # one class hosts any number of services (one per company), each by its name
        win32serviceutil.ServiceFramework.__init__(self, args)
        self.stop_event = threading.Event()  # set by SvcStop even before the runner exists
        self.runner: ServiceRunner | None = None

    def SvcStop(self):
        # Called on the control handler's thread: ask for the drain and tell the SCM how long it may take.
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=int((DRAIN_SECONDS + 5) * 1000))
        self.stop_event.set()
        if self.runner is not None:
            self.runner.request_stop("Windows service stop requested")

    SvcShutdown = SvcStop  # the system shuts down: the same clean drain

    def SvcDoRun(self):
        servicemanager.LogMsg(
            servicemanager.EVENTLOG_INFORMATION_TYPE, servicemanager.PYS_SERVICE_STARTED, (self._svc_name_, "")
        )
        config_path = win32serviceutil.GetServiceCustomOption(self, CONFIG_OPTION)
        try:
            if not config_path:
                raise RuntimeError(
                    f"the service has no config parameter: reinstall it with `replicator service "
                    f"install --config FILE --name {self._svc_name_}`"
                )
            config = load_config(config_path)
            log_path = _service_logging(self._svc_name_, config)
            servicemanager.LogInfoMsg(f"{self._svc_name_}: config {config_path}, log {log_path}")
            self.runner = ServiceRunner(config, stop=self.stop_event)
            code = self.runner.run()
        except Exception as exc:
            # Raising makes the framework report SERVICE_STOPPED with an error: the SCM's recovery restarts it.
            servicemanager.LogErrorMsg(f"{self._svc_name_} stopped on an error: {redact(exc)}")
            raise
        servicemanager.LogMsg(
            servicemanager.EVENTLOG_INFORMATION_TYPE, servicemanager.PYS_SERVICE_STOPPED, (self._svc_name_, "")
        )
        if code:
            raise SystemExit(code)


# --------------------------------------------------------------------------------------------- management

_STATES = {
    win32service.SERVICE_STOPPED: "stopped",
    win32service.SERVICE_START_PENDING: "starting",
    win32service.SERVICE_STOP_PENDING: "stopping",
    win32service.SERVICE_RUNNING: "running",
    win32service.SERVICE_PAUSED: "paused",
}


def install(config: Path, name: str, user: str | None, password: str | None) -> int:
    """Install (or update) the service: auto start (delayed, so the network and shares are up), the config path
    as its parameter, recovery on failure, the Event Log source."""
    display = f"{ReplicatorService._svc_display_name_} ({name})"
    try:
        win32serviceutil.InstallService(
            CLASS_STRING,
            name,
            display,
            startType=win32service.SERVICE_AUTO_START,
            userName=user,
            password=password,
            description=ReplicatorService._svc_description_,
            delayedstart=True,
        )
    except win32service.error as exc:
        if exc.winerror != winerror.ERROR_SERVICE_EXISTS:
            raise
        win32serviceutil.ChangeServiceConfig(  # installed before: update it in place, as pywin32's "update" does
            CLASS_STRING,
            name,
            startType=win32service.SERVICE_AUTO_START,
            userName=user,
            password=password,
            displayName=display,
            description=ReplicatorService._svc_description_,
            delayedstart=True,
        )
    win32serviceutil.SetServiceCustomOption(name, CONFIG_OPTION, str(config))
    scm = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_ALL_ACCESS)
    try:
        service = win32service.OpenService(scm, name, win32service.SERVICE_ALL_ACCESS)
        try:
            win32service.ChangeServiceConfig2(
                service,
                win32service.SERVICE_CONFIG_FAILURE_ACTIONS,
                {"ResetPeriod": 24 * 3600, "RebootMsg": None, "Command": None, "Actions": RESTARTS},
            )
            # also when the service stops itself with an error, not only when the process crashes
            win32service.ChangeServiceConfig2(service, win32service.SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, True)
        finally:
            win32service.CloseServiceHandle(service)
    finally:
        win32service.CloseServiceHandle(scm)
    win32evtlogutil.AddSourceToRegistry(name, servicemanager.__file__)
    print(
        f"service {name} installed (account {user or 'LocalSystem'}, config {config}); log file "
        f"{log_folder() / (name + '.log')}; start it with `replicator service start --name {name}`"
    )
    return 0


def uninstall(name: str) -> int:
    win32serviceutil.RemoveService(name)  # also removes its Event Log source
    print(f"service {name} removed")
    return 0


def control(action: str, name: str) -> int:
    if action == "start":
        win32serviceutil.StartService(name)
        win32serviceutil.WaitForServiceStatus(name, win32service.SERVICE_RUNNING, 30)
    elif action == "stop":
        win32serviceutil.StopService(name)
        win32serviceutil.WaitForServiceStatus(name, win32service.SERVICE_STOPPED, int(DRAIN_SECONDS + 20))
    state = win32serviceutil.QueryServiceStatus(name)[1]
    print(f"service {name}: {_STATES.get(state, state)}")
    return 0
