# The beforeafter container image (README, "Install"):
#   docker build --build-arg BEFOREAFTER_COMMIT=$(git rev-parse HEAD) -t registry.example.com/beforeafter:0.1.0 .
# The build stage makes the Debian package with the steps `.ci/package` runs and tests in CI
# (cargo-deb 3.8.0, `generate`, `cargo deb --no-build --fast`); the runtime stage is Debian slim
# with that package installed by dpkg, as the test installs it, and libheif1 for HEIC photos.
# It runs as an unprivileged user, reads photos from /data/photos and writes the gallery to
# /data/gallery. Not built by this repository's CI: its machine cannot pull base images.

FROM rust:1.95-slim-bookworm AS build
# dpkg-shlibdeps: cargo-deb reads the binary's library needs with it.
RUN apt-get update && apt-get install -y --no-install-recommends dpkg-dev \
    && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-deb --version 3.8.0 --locked --root /usr/local
WORKDIR /src
COPY . .
# The commit `beforeafter --version` names (.git is not sent to the build: .dockerignore).
ARG BEFOREAFTER_COMMIT=
# The program alone (the package test takes the binary its tests built; the same code, without
# the test-only sample generator).
RUN cargo build --release --locked --bin beforeafter \
    && target/release/beforeafter generate target/release/generated \
    && cargo deb --no-build --fast --output /beforeafter.deb

FROM debian:bookworm-slim
COPY --from=build /beforeafter.deb /tmp/beforeafter.deb
# Debian slim drops manuals and docs on install (dpkg's path-exclude): the image has the
# program and its copyright file; the man pages are in the package.
RUN apt-get update && apt-get install -y --no-install-recommends libheif1 \
    && dpkg -i /tmp/beforeafter.deb \
    && rm -rf /var/lib/apt/lists/* /tmp/beforeafter.deb \
    && beforeafter --version
RUN groupadd --system --gid 10001 beforeafter \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin beforeafter \
    && mkdir -p /data/photos /data/gallery && chown -R beforeafter:beforeafter /data
USER 10001:10001
WORKDIR /data
# The photo folder must be writable too: it keeps its id key and run records in .beforeafter/.
VOLUME ["/data/photos", "/data/gallery"]
ENTRYPOINT ["beforeafter"]
CMD ["--help"]
