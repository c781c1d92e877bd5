# syntax=docker/dockerfile:1
# estate-audit as a container, for the scheduled audit (README "Container"). Two stages: the same
# locked release build CI runs (`cargo install --locked --path .`, live collection included), then
# a small runtime with nothing but the binary and the CA certificates, run as a non-root user.
# Reports and the metrics file go to /reports, a volume; estate.toml is read from /config.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the target directory are cache mounts: a rebuild after a source change
# compiles the crate, not the AWS SDK again.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo install --locked --path . --root /out

FROM debian:bookworm-slim
# The AWS SDK's HTTPS client trusts the system's CA certificates. The base image's tag is pinned;
# the package takes the version that tag's security updates carry, so it is not pinned again.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /reports --shell /usr/sbin/nologin estate-audit \
 && mkdir -p /reports /config \
 && chown estate-audit:estate-audit /reports
COPY --from=build /out/bin/estate-audit /usr/local/bin/estate-audit
USER 10001:10001
WORKDIR /reports
VOLUME ["/reports"]
ENTRYPOINT ["estate-audit"]
CMD ["audit", "--config", "/config/estate.toml", "--output-dir", "/reports", "--metrics", "/reports/estate_audit.prom"]
