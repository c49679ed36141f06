# syntax=docker/dockerfile:1
# The `uml` binary in a minimal image whose entrypoint is the node agent:
#   docker build -t <registry>/uml:0.1.0 .
# Deployment: deploy/kubernetes/ and docs/deploy.md.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The caches keep crates.io downloads and compiled dependencies between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin uml \
    && cp target/release/uml /usr/local/bin/uml

# glibc and libgcc (the binary links glibc; mimalloc and ring are compiled in),
# CA certificates, no shell. Its default user is non-root; the DaemonSet runs
# the agent as uid 0 to read kubelet's root-owned log files.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/uml /uml
EXPOSE 9731
ENTRYPOINT ["/uml", "agent"]
CMD ["--config", "/etc/uml/agent.toml"]
