# One image for the web app and the workers. Debian's Python, so the sandbox's unprivileged
# user can enter the virtual environment; bubblewrap for the grading sandbox.
FROM debian:12-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv bubblewrap libseccomp2 ca-certificates libgomp1 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/camp
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
COPY worker ./worker
COPY grader ./grader
COPY migrations ./migrations
RUN python3 -m venv /srv/camp/.venv \
 && /srv/camp/.venv/bin/pip install --no-cache-dir -c constraints.txt '.[ops]' \
 && chmod -R o+rX /srv/camp
COPY alembic.ini ./
COPY templates ./templates
COPY locales ./locales
COPY courses ./courses
COPY data ./data
COPY examples ./examples

ENV PATH=/srv/camp/.venv/bin:$PATH \
    CAMP_DATA_DIR=/var/lib/camp
EXPOSE 8000
CMD ["camp", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
