"""Data: the three measures Linkwork ships with (ONS4, SWEMWBS, UCLA 3-item loneliness), as published.
More can be added the same way, without code changes to the reports."""

from django.db import migrations

ZERO_TO_TEN = [[v, str(v)] for v in range(11)]
WELLBEING_BANDS = [[0, 4, "Low"], [5, 6, "Medium"], [7, 8, "High"], [9, 10, "Very high"]]
ANXIETY_BANDS = [[0, 1, "Very low"], [2, 3, "Low"], [4, 5, "Medium"], [6, 10, "High"]]
SWEMWBS_OPTIONS = [[1, "None of the time"], [2, "Rarely"], [3, "Some of the time"], [4, "Often"], [5, "All of the time"]]
UCLA_OPTIONS = [[1, "Hardly ever"], [2, "Some of the time"], [3, "Often"]]
SWEMWBS_METRIC = {
    7: 7.00, 8: 9.51, 9: 11.25, 10: 12.40, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32, 15: 15.84, 16: 16.36,
    17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25, 22: 19.98, 23: 20.73, 24: 21.54, 25: 22.35, 26: 23.21,
    27: 24.11, 28: 25.03, 29: 26.02, 30: 27.03, 31: 28.13, 32: 29.31, 33: 30.70, 34: 32.55, 35: 35.00,
}

INSTRUMENTS = [
    {
        "code": "ons4", "name": "ONS personal wellbeing (ONS4)", "short_name": "ONS4", "scoring": "separate",
        "instructions": "Please answer on a scale of 0 to 10, where 0 is 'not at all' and 10 is 'completely'.",
        "copyright_notice": "Office for National Statistics personal well-being questions (ONS4). "
        "Source: Office for National Statistics, licensed under the Open Government Licence v3.0.",
        "meaningful_change": 1, "higher_is_better": True,
        "items": [
            ("life_satisfaction", "Overall, how satisfied are you with your life nowadays?", WELLBEING_BANDS, True),
            ("worthwhile", "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
             WELLBEING_BANDS, True),
            ("happy", "Overall, how happy did you feel yesterday?", WELLBEING_BANDS, True),
            ("anxious", "On a scale where 0 is 'not at all anxious' and 10 is 'completely anxious', overall, how "
             "anxious did you feel yesterday?", ANXIETY_BANDS, False),
        ],
        "options": ZERO_TO_TEN,
    },
    {
        "code": "swemwbs", "name": "Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS)", "short_name": "SWEMWBS",
        "scoring": "sum_converted", "conversion": {str(k): v for k, v in SWEMWBS_METRIC.items()},
        "instructions": "Below are some statements about feelings and thoughts. Please tick the box that best "
        "describes your experience of each over the last 2 weeks.",
        "copyright_notice": "Short Warwick Edinburgh Mental Wellbeing Scale (SWEMWBS) © NHS Health Scotland, "
        "University of Warwick and University of Edinburgh, 2008, all rights reserved.",
        "meaningful_change": 1, "higher_is_better": True,
        "items": [
            ("optimistic", "I've been feeling optimistic about the future", [], True),
            ("useful", "I've been feeling useful", [], True),
            ("relaxed", "I've been feeling relaxed", [], True),
            ("problems", "I've been dealing with problems well", [], True),
            ("clearly", "I've been thinking clearly", [], True),
            ("close", "I've been feeling close to other people", [], True),
            ("own_mind", "I've been able to make up my own mind about things", [], True),
        ],
        "options": SWEMWBS_OPTIONS,
    },
    {
        "code": "ucla3", "name": "UCLA 3-item loneliness scale", "short_name": "UCLA-3", "scoring": "sum",
        "instructions": "The next questions are about how you feel about different aspects of your life. For each "
        "one, say how often you feel that way.",
        "copyright_notice": "Three-item loneliness scale (Hughes et al., 2004), as used by the Office for National "
        "Statistics.",
        "meaningful_change": 1, "higher_is_better": False, "threshold": 6, "threshold_label": "Lonely (6 or more)",
        "items": [
            ("companionship", "How often do you feel that you lack companionship?", [], False),
            ("left_out", "How often do you feel left out?", [], False),
            ("isolated", "How often do you feel isolated from others?", [], False),
        ],
        "options": UCLA_OPTIONS,
    },
]


def forward(apps, schema_editor):
    Instrument = apps.get_model("outcomes", "Instrument")
    InstrumentItem = apps.get_model("outcomes", "InstrumentItem")
    for spec in INSTRUMENTS:
        spec = dict(spec)
        items, options = spec.pop("items"), spec.pop("options")
        instrument = Instrument.objects.create(version="1", **spec)
        for number, (code, text, bands, higher) in enumerate(items, start=1):
            InstrumentItem.objects.create(instrument=instrument, number=number, code=code, text=text,
                                          options=options, bands=bands, higher_is_better=higher)


def backward(apps, schema_editor):
    apps.get_model("outcomes", "Instrument").objects.filter(code__in=["ons4", "swemwbs", "ucla3"]).delete()


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_measures")]
    operations = [migrations.RunPython(forward, backward)]
