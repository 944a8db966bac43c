# tagpilot controller image: `docker build -t tagpilot:0.1.0 .`
# Two stages: the first builds wheels, the second installs them without a compiler or
# network access to anything but Debian's package mirror. The user id matches the
# runAsUser of the Deployment `tagpilot install --export` prints (65532).
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
# tagpilot's wheel and every dependency's, so the runtime stage installs offline.
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
# git and ssh for clones and pushes, gnupg for signed commits, CA roots for registries.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git gnupg openssh-client \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir --no-index --find-links=/wheels tagpilot \
    && rm -rf /wheels
RUN groupadd --system --gid 65532 tagpilot \
    && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/tagpilot \
       --no-create-home --shell /usr/sbin/nologin tagpilot \
    && install -d -o 65532 -g 65532 -m 0700 /var/lib/tagpilot
USER 65532:65532
WORKDIR /var/lib/tagpilot
# The root filesystem is read-only in the cluster: HOME and temporary files go to /tmp.
ENV HOME=/tmp PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
EXPOSE 9797
ENTRYPOINT ["tagpilot"]
CMD ["controller"]
