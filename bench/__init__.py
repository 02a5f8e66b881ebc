"""`make bench`: load a big database and measure the pages server-side (not part of `make test`).

`python -m bench` runs one worker process per database (SQLite and PostgreSQL), each with its
own DATABASE_URL, then prints a Markdown table and writes var/bench-results.json.
"""
