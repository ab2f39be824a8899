"""Data: one taxonomy term per category (stable ids for the ORUK API), and the ORUK spelling of
"temporarily closed" for services saved before it was adopted."""

import uuid

from django.db import migrations

CATEGORIES = [
    ("arts", "Arts and creativity"),
    ("physical_activity", "Physical activity"),
    ("nature", "Nature and gardening"),
    ("befriending", "Befriending"),
    ("peer_support", "Peer support"),
    ("learning", "Learning and skills"),
    ("volunteering", "Volunteering"),
    ("money_advice", "Money advice"),
    ("housing_advice", "Housing advice"),
    ("carers_support", "Carers support"),
    ("mental_wellbeing", "Mental wellbeing"),
    ("faith_culture", "Faith and culture"),
]
NAMESPACE = uuid.UUID("6b0c1f57-63a5-4a39-9b6e-5c1a61f0b5a1")


def forward(apps, schema_editor):
    TaxonomyTerm = apps.get_model("community", "TaxonomyTerm")
    for code, name in CATEGORIES:
        TaxonomyTerm.objects.update_or_create(code=code, defaults={"id": uuid.uuid5(NAMESPACE, code), "name": name})
    CommunityService = apps.get_model("community", "CommunityService")
    CommunityService.objects.filter(status="temporarily_closed").update(status="temporarily closed")


def backward(apps, schema_editor):
    apps.get_model("community", "TaxonomyTerm").objects.filter(code__in=[c for c, _ in CATEGORIES]).delete()
    apps.get_model("community", "CommunityService").objects.filter(status="temporarily closed").update(
        status="temporarily_closed"
    )


class Migration(migrations.Migration):
    dependencies = [("community", "0002_directory_details")]
    operations = [migrations.RunPython(forward, backward)]
