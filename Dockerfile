# One image with every Tenure service binary and tenurectl, built static
# (CGO_ENABLED=0: the SQLite driver is modernc.org/sqlite, pure Go) by
# `make static-build`, the same target CI runs, so the flags live in one
# place. The runtime stage is distroless "static" (CA certificates, tzdata,
# /etc/passwd with the nonroot user, no shell, no package manager).
#
#   make image                      # docker build -t tenure:dev .
#   docker run --rm tenure:dev profile -h
#
# The binaries are in /usr/local/bin, on PATH: run one by name.
#
# No "# syntax=" line: it would make BuildKit pull its frontend image from
# Docker Hub; the frontend built into Docker 20.10 and later reads the cache
# mounts below. Without docker or a registry, `make image-offline` builds this
# file with buildah (deploy/README.md).

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
# A module proxy of your own, e.g. --build-arg GOPROXY=https://proxy.example.
ARG GOPROXY
ENV GOPROXY=${GOPROXY:-https://proxy.golang.org,direct} GOTOOLCHAIN=auto
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    make static-build STATIC_OUT=/out && mkdir /empty

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/ /usr/local/bin/
# 65532 is distroless's "nonroot"; numeric, so Kubernetes' runAsNonRoot
# can check it without reading /etc/passwd.
USER 65532:65532
# Services write nothing but their SQLite files (the default DSNs, relative
# to /data here); with PostgreSQL the root filesystem can be read-only.
COPY --from=build --chown=65532:65532 /empty /data
WORKDIR /data
# No default command: name the binary (profile, segmentation, gateway,
# tenurectl).
ENTRYPOINT []
