# The one image of amazon-channel: every process of docker-compose.yml (and of the Procfile) is
# `amazon-channel ...` in it. Build: `docker build -t amazon-channel .`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# What the wheel is built from (pyproject's readme included); tests and tools stay out
# (.dockerignore).
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY infra ./infra
COPY workers ./workers
# Installed into the image's Python, not editable: the source folder is not needed at run time.
RUN pip install . && rm -rf /src

# Not root: a worker refuses nothing as root, but says so on every start (workers.app). The data
# folder belongs to the user, so a named volume mounted there is writable (Docker copies the
# folder's owner into a new volume).
RUN useradd --create-home --uid 10001 --user-group channel \
    && mkdir /data /metrics && chown channel:channel /data /metrics
USER channel
WORKDIR /data
ENV DATA_DIR=/data

ENTRYPOINT ["amazon-channel"]
CMD ["--help"]
