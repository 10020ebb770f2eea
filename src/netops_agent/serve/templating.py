"""The dashboard's Jinja2 environment, with its compiled templates kept between starts.

Compiling the first page's templates costs more than rendering them, so the compiled code
is kept in the user's cache directory (`settings.cache_dir()`, `templates/`; nothing is
kept with `NETOPS_CACHE=off`). Jinja names each entry by template and file and rejects one
whose source checksum or Python version differs; the file names here also carry Jinja's
version. Like every cache here it is only an accelerator: an entry that is torn, foreign or
unreadable is compiled again, and a directory that cannot be written is not used.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from fastapi.templating import Jinja2Templates

if TYPE_CHECKING:
    from jinja2.bccache import Bucket

log = logging.getLogger("netops_agent.serve")
TEMPLATES = Path(__file__).parent / "templates"


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache that never fails a page: a bad entry is a miss, a failed write is skipped."""

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory), f"netops-jinja{jinja2.__version__}-%s.cache")

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception as exc:  # torn or foreign (pickle, marshal or OS errors): compile again
            log.debug("ignoring compiled template %s: %s", self._get_cache_filename(bucket), exc)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:  # read-only or full disk: the next start compiles again
            log.debug("compiled template not kept in %s: %s", self.directory, exc)


def bytecode_cache() -> TemplateCache | None:
    """The cache in the user's cache directory, or None (`NETOPS_CACHE=off`, not creatable)."""
    from netops_agent.settings import cache_dir

    root = cache_dir()
    if root is None:
        return None
    directory = root / "templates"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        log.debug("templates compiled at each start: cannot create %s: %s", directory, exc)
        return None
    if not os.access(directory, os.R_OK | os.W_OK | os.X_OK):
        return None
    return TemplateCache(directory)


def make_templates(token_required: Any) -> Jinja2Templates:
    """The environment of `serve/templates`; `token_required()` says whether writes need the token."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(),
        auto_reload=False,  # the package's templates do not change under a running service
        bytecode_cache=bytecode_cache(),
    )
    templates = Jinja2Templates(env=env)
    env.globals["token_required"] = token_required
    env.filters["hms"] = lambda ts: f"{ts:%H:%M:%S}" if ts else "-"
    env.filters["ymdhms"] = lambda ts: f"{ts:%Y-%m-%d %H:%M:%S}" if ts else "-"
    env.filters["num"] = lambda v, d=3: "-" if v is None else (f"{v:.{d}f}" if isinstance(v, float) else v)
    return templates
