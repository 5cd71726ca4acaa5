"""The app manifest: paas.yaml, the Procfile and Heroku's app.json, merged into an `AppSpec`.

One module per source and one for the merge:

- `paas_yaml`: paas.yaml as written (strict models) and its reader;
- `procfile`: the Procfile's `type: command` lines;
- `app_json`: Heroku's app.json;
- `spec`: the decided `AppSpec` that a release keeps;
- `merge`: the files and what detection found, merged (strongest first:
  paas.yaml, the Procfile, app.json, detection).

Pure: reads the files of one app directory and returns data. Every error names
the file, the line and the path of the bad value, like
``paas.yaml:7: processes.web.port: must be an integer`` (see `paas.yaml_places`).
"""

from __future__ import annotations

from paas.manifest.app_json import APP_JSON, HEROKU_SIZES, AppJson, read_app_json
from paas.manifest.merge import AppFiles, load_app, merge, read_app, read_app_files
from paas.manifest.paas_yaml import (
    MANIFEST_FILE,
    SIZES,
    Autoscale,
    BuildSpec,
    Healthcheck,
    Manifest,
    Patch,
    PatchTarget,
    ProcessSpec,
    read_manifest,
)
from paas.manifest.procfile import PROCFILE, ProcfileEntry, parse_procfile
from paas.manifest.spec import (
    DEFAULT_PORT,
    DEFAULT_SIZE,
    AppSpec,
    CronJob,
    PatchRule,
    Process,
)

__all__ = [
    "APP_JSON",
    "DEFAULT_PORT",
    "DEFAULT_SIZE",
    "HEROKU_SIZES",
    "MANIFEST_FILE",
    "PROCFILE",
    "SIZES",
    "AppFiles",
    "AppJson",
    "AppSpec",
    "Autoscale",
    "BuildSpec",
    "CronJob",
    "Healthcheck",
    "Manifest",
    "Patch",
    "PatchRule",
    "PatchTarget",
    "Process",
    "ProcessSpec",
    "ProcfileEntry",
    "load_app",
    "merge",
    "parse_procfile",
    "read_app",
    "read_app_files",
    "read_app_json",
    "read_manifest",
]
