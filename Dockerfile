# syntax=docker/dockerfile:1
# The image the deploy manifests run (ghcr.io/palisade-dev/palisade): one `palisade` binary on
# distroless, non-root, nothing else. Bases are pinned by digest so a rebuild gets the bytes
# that were reviewed; refresh them with `crane digest rust:1.95-bookworm` and
# `crane digest gcr.io/distroless/cc-debian12:nonroot` (tests/it/packaging.rs checks the pins).
FROM rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1 AS build
# The commit `palisade version` reports (.git is not sent to the builder, see .dockerignore).
ARG PALISADE_COMMIT=unknown
ENV PALISADE_COMMIT=${PALISADE_COMMIT} CARGO_INCREMENTAL=0
WORKDIR /src
COPY . .
# jemalloc is built from source: the bookworm image has gcc and make.
RUN cargo build --release --locked -p palisade \
    && install -D -m 0555 target/release/palisade /out/palisade

# glibc and libgcc only (the binary is dynamically linked against them); runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
LABEL org.opencontainers.image.source="https://github.com/palisade-dev/palisade" \
      org.opencontainers.image.description="Palisade: Kubernetes security toolkit" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/palisade /usr/local/bin/palisade
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/palisade"]
CMD ["--help"]
