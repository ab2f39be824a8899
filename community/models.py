"""The community directory: organisations (VCSE groups, charities, clubs, council services) and the
services or activities they run, in Open Referral UK terms. The community issue grows this."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from linkwork.accounts.models import Organisation


class Category(models.TextChoices):
    ARTS = "arts", "Arts and creativity"
    PHYSICAL = "physical_activity", "Physical activity"
    NATURE = "nature", "Nature and gardening"
    BEFRIENDING = "befriending", "Befriending"
    PEER_SUPPORT = "peer_support", "Peer support"
    LEARNING = "learning", "Learning and skills"
    VOLUNTEERING = "volunteering", "Volunteering"
    MONEY = "money_advice", "Money advice"
    HOUSING = "housing_advice", "Housing advice"
    CARERS = "carers_support", "Carers support"
    MENTAL_WELLBEING = "mental_wellbeing", "Mental wellbeing"
    FAITH_CULTURE = "faith_culture", "Faith and culture"


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TEMPORARILY_CLOSED = "temporarily_closed", "Temporarily closed"
    INACTIVE = "inactive", "Inactive"
    DEFUNCT = "defunct", "Defunct"


class Provider(models.Model):
    """An organisation in the directory (ORUK ``organization``), kept by one social prescribing service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="directory_providers")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CommunityService(models.Model):
    """A group or activity people can be connected to (ORUK ``service``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    categories = ArrayField(models.CharField(max_length=30, choices=Category.choices), default=list, blank=True)
    is_free = models.BooleanField(default=True)
    schedule = models.CharField(max_length=200, blank=True, help_text="For example: Tuesdays 10am to 12 noon")
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
