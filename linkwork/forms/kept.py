"""Blank forms drawn once a process.

Drawing a form through the crispy NHS.UK pack walks a template per field, label, hint and radio: on the client
record, the blank "Add an alert" form was a fifth of the page's time (pyinstrument, make bench at scale 10). A
blank form whose fields and choices are constants draws the same every time, so it is drawn once and kept. Only
forms without their own ``<form>`` tag and CSRF token qualify (``form_tag`` off, ``disable_csrf`` on): the
page's ``<form>`` carries the token, which differs per request. The referral form, which draws its own, keeps
its drawing with a placeholder for the token instead (referrals.views.intake).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from crispy_forms.utils import render_crispy_form
from django import forms
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

_kept: dict[type[forms.BaseForm], str] = {}
_drawn: OrderedDict[Hashable, str] = OrderedDict()
MAX_DRAWN = 256  # drawings kept a process, least recently used first out


def blank_form_html(form_class: type[forms.BaseForm]) -> SafeString | None:
    """The unbound ``form_class()`` as the crispy pack draws it, kept for the process; None under DEBUG, where
    templates change without a restart (the page then draws the form itself)."""
    if settings.DEBUG:
        return None
    html = _kept.get(form_class)
    if html is None:
        form = form_class()
        helper = getattr(form, "helper", None)
        if helper is None or helper.form_tag or not helper.disable_csrf:
            raise ValueError(f"{form_class.__name__} draws its own <form> or CSRF token: it cannot be kept")
        html = _kept[form_class] = str(render_crispy_form(form))
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - drawn by our templates, which escape every value


Asked = tuple[tuple[str, tuple[str, ...]], ...]


def asked_of(form: forms.BaseForm) -> Asked | None:
    """What was asked of the form's fields (from its bound data), in a fixed order and hashable: a key for its
    drawing. None for an unbound form."""
    if not form.is_bound:
        return None
    return tuple((name, tuple(form.data.getlist(name))) for name in sorted(form.fields) if name in form.data)


def drawn_form_html(form: forms.BaseForm, key: Hashable) -> SafeString:
    """``form`` as the crispy pack draws it, kept for the process under ``key``, which must hold everything the
    drawing follows from besides the form's class: its choices where they vary and what was asked (the bound
    data). For forms that carry no CSRF token (a GET form's, or ``disable_csrf``); a form with errors, and every
    form under DEBUG, is drawn afresh."""
    helper = getattr(form, "helper", None)
    if helper is not None and helper.form_method.lower() != "get" and not helper.disable_csrf:
        raise ValueError(f"{type(form).__name__} draws a CSRF token: it cannot be kept")
    if settings.DEBUG or (form.is_bound and form.errors):
        return mark_safe(render_crispy_form(form))  # noqa: S308  # nosec B308 B703 - our templates, autoescaped
    key = (type(form), key)
    html = _drawn.get(key)
    if html is None:
        html = _drawn[key] = str(render_crispy_form(form))
        while len(_drawn) > MAX_DRAWN:
            _drawn.popitem(last=False)
    else:
        _drawn.move_to_end(key)
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - drawn by our templates, which escape every value
