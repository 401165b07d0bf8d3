# Vortex's container image: a Debian 12 builder (the project's own bootstrap and a Release
# build) and a small runtime stage with the binaries, the shared libraries they load and
# nothing else. `make docker-build` builds it (docs: README.md "Running in Kubernetes").
# BASE: debian:12 from a registry; `make docker-build` passes localhost/debian:bookworm, made
# with mmdebstrap, where no registry is reachable (scripts/make_base_image.sh).
ARG BASE=debian:12

FROM ${BASE} AS builder
# Packages' maintainer scripts must not start the servers bootstrap installs (redis, nginx...).
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
WORKDIR /src
# The packages in a layer of their own: a source change does not download them again.
COPY scripts/bootstrap.sh scripts/fetch_libnode.sh scripts/
RUN scripts/bootstrap.sh && rm -rf /var/lib/apt/lists/*
# What the build reads, no more: a change to docs or tests does not rebuild Vortex.
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proto proto
COPY src src
COPY examples examples
COPY scripts/runtime_packages.sh scripts/
# VORTEX_LTO=OFF: a quicker build of a somewhat slower binary (`make build` uses LTO).
ARG VORTEX_LTO=ON
ARG JOBS=
# The build context has no .git: `make docker-build` passes the commit `vortex version` reports.
ARG VORTEX_COMMIT=unknown
RUN cmake -G Ninja -Wno-dev -S . -B build -DCMAKE_BUILD_TYPE=Release -DVORTEX_LTO=${VORTEX_LTO} \
      -DVORTEX_COMMIT=${VORTEX_COMMIT} -DVORTEX_TESTS=OFF -DVORTEX_MICROBENCH=OFF >/dev/null \
 && ninja -C build ${JOBS:+-j$JOBS} vortex vortexctl \
 && mkdir -p /out \
 && cp build/vortex build/vortexctl build/libvortex_wasm_v8.so \
       .deps/libnode/usr/lib/x86_64-linux-gnu/libnode.so.108 /out/ \
 && scripts/runtime_packages.sh build/vortex build/vortexctl build/libvortex_wasm_v8.so \
      > /out/runtime-packages

FROM ${BASE} AS runtime
COPY --from=builder /out/runtime-packages /tmp/runtime-packages
# ca-certificates: upstream TLS verifies against the system store (clusters[].tls.verify).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates $(cat /tmp/runtime-packages) >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/runtime-packages
# libnode108 is not installed from a package in the builder either (scripts/fetch_libnode.sh):
# the library alone, where the loader finds it.
COPY --from=builder /out/libnode.so.108 /usr/local/lib/
RUN ldconfig
COPY --from=builder /out/vortex /out/vortexctl /usr/local/bin/
# The V8 engine, loaded when a config names a plugin: vortex looks in ../lib/vortex.
COPY --from=builder /out/libvortex_wasm_v8.so /usr/local/lib/vortex/
# A numeric non-root user, so Kubernetes' runAsNonRoot can check it without a passwd lookup.
RUN echo 'vortex:x:10001:10001:vortex:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'vortex:x:10001:' >> /etc/group
USER 10001:10001
# 8080: the public listener of deploy/'s config; 9091: metrics, /healthz and /readyz.
EXPOSE 8080 9091
# The config comes from a mounted file (deploy/: a ConfigMap at /etc/vortex).
ENTRYPOINT ["vortex"]
CMD ["run", "--config", "/etc/vortex/vortex.yaml"]
