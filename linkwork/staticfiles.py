"""Static files' URLs, worked out once a process."""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage

URLS_KEPT = 1024  # the templates name a few dozen files; a bound all the same


class KeptManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage (hashed names, compressed copies), with each file's URL kept once worked out.

    The manifest is read when the process starts and does not change while it runs (``collectstatic`` comes
    before a deploy, and a deploy restarts the processes), so ``css/linkwork.css`` has the same URL on every
    page. Django looked it up in the manifest, joined it to ``STATIC_URL`` and quoted it again for each
    ``{% static %}``: every page's layout names four files, about 0.2 ms of each page on the 2-core machine
    (make bench). A name the manifest lacks still raises, every time, as before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept_urls: dict[str, str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if force or name is None:
            return super().url(name, force=force)
        url = self._kept_urls.get(name)
        if url is None:
            url = super().url(name)
            if len(self._kept_urls) < URLS_KEPT:
                self._kept_urls[name] = url
        return url
