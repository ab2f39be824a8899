"""The published directory, in the ORUK feed's order: (name, id) WHERE is_public AND status = 'active'.

The ORUK /services feed (community.oruk.selectors.published_services) counts the published services and lists a
page of them by name. Without an index for it, both read the whole table. EXPLAIN ANALYZE on the benchmark data
(scale 10: 5,000 services, 4,346 published), before: the count "Seq Scan on community_communityservice ...
Rows Removed by Filter: 654", 557 buffers, 6.5 ms; the page "Seq Scan" of every published service, a hash join
with all 1,995 providers and a "top-N heapsort", 13.0 ms. After (vacuumed): the count "Index Only Scan using
service_published_name_idx ... Heap Fetches: 0", 39 buffers, 0.8 ms; the page "Index Scan using
service_published_name_idx", 50 rows, a memoized provider lookup each, no sort, 0.7 ms.

Built CONCURRENTLY: a directory import or edit is never blocked while it builds."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("community", "0004_postcodearea"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="communityservice",
            index=models.Index(
                condition=models.Q(("is_public", True), ("status", "active")),
                fields=["name", "id"],
                name="service_published_name_idx",
            ),
        ),
    ]
