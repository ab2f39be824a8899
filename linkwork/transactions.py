"""One transaction for each request that may change data, so that a change and its audit row are saved together
or not at all.

Without it each statement a POST made outside a service's own ``transaction.atomic`` committed by itself: logging
a contact committed the contact, then wrote its audit row in a second transaction. Had that second write failed
(a full disk, a lost connection, a deadlock), the contact was kept with no audit row, and the person saw an error
page for a contact that was in fact saved, and logged it again. Django's ``ATOMIC_REQUESTS`` would also put every
page that only reads in a transaction (a BEGIN and a COMMIT more on every page); this middleware opens one only for
the methods that write.

Django turns an exception inside the view into a 500 response before it reaches a middleware, so a response of
500 or more is rolled back here as the exception would have been. Work queued for after the commit
(``linkwork.celery.enqueue_on_commit``) runs once the whole request has committed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, transaction
from django.http import HttpRequest, HttpResponse

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class AtomicWritesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in READ_ONLY_METHODS:
            return self.get_response(request)
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
        return response
