"""The performance benchmark (issue #10): ``make bench``.

``run`` orchestrates: it seeds the benchmark databases once, serves the app with gunicorn in production settings,
loads each page with wrk (``bench.lua``), and asks ``django_side`` (a subprocess per database) for what is
measured in-process: queries per request at two scales, the bare-SQL floor, the jobs and report memory.
``endpoints`` says what is measured, ``wrk`` runs and reads the load generator, ``report`` writes the results.
"""
