"""The directory's result cards, written in Python: twenty cards of a URL, three filters and a dozen conditions
each were a sixth of a search's time at ICB scale (make bench)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.template.defaultfilters import truncatewords
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe

from community.models import Capacity, ServiceStatus
from linkwork.links import object_url

register = template.Library()

CARD = """
  <li>
    <div class="nhsuk-card nhsuk-u-margin-bottom-4">
      <div class="nhsuk-card__content">
        <h3 class="nhsuk-card__heading nhsuk-heading-s"><a href="{url}">{name}</a></h3>
        <p class="nhsuk-body-s nhsuk-u-margin-bottom-2">{provider}{distance}</p>
        <p class="nhsuk-card__description">{description}</p>
        <p class="nhsuk-u-margin-bottom-2">
          {cost}
          {capacity}
          {closed}
          {checks}
        </p>
        <p class="nhsuk-body-s nhsuk-u-margin-bottom-0">{schedule}</p>
        {connect}
      </div>
    </div>
  </li>
"""
CONNECT = """<form method="post" action="{action}" novalidate class="nhsuk-u-margin-top-3">
          <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">
          <button class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="submit">Suggest to {known_as}<span class="nhsuk-u-visually-hidden">: {name}</span></button>
        </form>"""  # noqa: E501
CAPACITY = {
    Capacity.FULL: '<strong class="nhsuk-tag nhsuk-tag--red">Full</strong>',
    Capacity.WAITING_LIST: '<strong class="nhsuk-tag nhsuk-tag--orange">Waiting list</strong>',
}


TENTH = Decimal("0.1")


def km(distance: float) -> str:
    """A distance to one decimal place, rounded half up: what ``floatformat:1`` writes (no thousands separator is
    set), without its locale lookups, which were 10 µs a card, a fortieth of a search (make bench, scale 10)."""
    return str(Decimal(str(distance)).quantize(TENTH, ROUND_HALF_UP))


def _cost(service: Any) -> str:
    if service.is_free:
        return '<strong class="nhsuk-tag nhsuk-tag--green">Free</strong>'
    if service.cost_amount is None:  # imported entries may say they charge without saying how much
        what = service.cost_description or "Ask about the cost"
        return f'<strong class="nhsuk-tag nhsuk-tag--grey">{escape(what)}</strong>'
    return (
        f'<strong class="nhsuk-tag nhsuk-tag--grey">£{escape(localize(service.cost_amount))} '
        f"{escape(service.cost_description)}</strong>"
    )


@register.simple_tag(takes_context=True)
def result_cards(context: template.Context, services: list[Any]) -> SafeString:
    """A card per service: name (linking to it), provider and distance, the description's first 30 words, cost,
    capacity, status and due checks as tags, and when it meets; with ``case`` in the context, a button to
    suggest it to the person. Every value is escaped (``html.escape``, as Django's ``escape``)."""
    if not services:
        return mark_safe("\n  <li>Nothing matches. Try fewer filters, or another word.</li>\n")  # noqa: S308  # nosec B308 B703
    today = context["today"]
    case = context.get("case")
    # The page's token, as the layout's sign-out form has it: one mask a page, not one more for the cards.
    csrf = escape(str(context.get("csrf_token") or get_token(context["request"]))) if case else ""
    cards = []
    for service in services:
        name = escape(service.name)
        due = service.review_due_on
        cards.append(
            CARD.format(
                url=object_url("community:service", service.pk),
                name=name,
                provider=escape(service.provider.name),
                distance="" if getattr(service, "distance", None) is None else f" · {km(service.distance)} km away",
                description=escape(truncatewords(service.description, 30)),
                cost=_cost(service),
                capacity=CAPACITY.get(service.capacity, ""),
                closed='<strong class="nhsuk-tag nhsuk-tag--orange">Temporarily closed</strong>'
                if service.status == ServiceStatus.TEMPORARILY_CLOSED
                else "",
                checks='<strong class="nhsuk-tag nhsuk-tag--yellow">Checks due</strong>'
                if not service.qa_complete or (due is not None and due < today)
                else "",
                schedule=escape(service.schedule or "Ask about times"),
                connect=CONNECT.format(
                    action=escape(reverse("clients:connect", args=[case.pk, service.pk])),
                    csrf=csrf,
                    known_as=escape(case.client.known_as),
                    name=name,
                )
                if case
                else "",
            )
        )
    return mark_safe("".join(cards))  # noqa: S308  # nosec B308 B703 - every value escaped above
