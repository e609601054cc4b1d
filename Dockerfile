# Sovereign in a container: small (Debian slim, production dependencies only), runs as a non-root
# user, reaches port 53 through CAP_NET_BIND_SERVICE on the node binary (no root at run time).
#   docker build -t sovereign .
#   docker run -d -p 53:53/udp -p 53:53/tcp -v $PWD/sovereign.yaml:/etc/sovereign/sovereign.yaml:ro sovereign
# The config must listen on 0.0.0.0:53 (and [::]:53) inside the container; see README.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY web ./web
# The optional UDP batching addon is built when the image has a compiler (slim has none: node:dgram serves).
COPY scripts/build-native.mjs ./scripts/
COPY native ./native
# `npm ci` builds through `prepare` (tsc), then the dev dependencies go.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev && rm -rf dist/test dist/bench

FROM node:20-bookworm-slim
# The capability is set on the node binary so the unprivileged user can bind port 53.
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/local/bin/node \
 && apt-get purge -y libcap2-bin && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --home-dir /var/lib/sovereign --shell /usr/sbin/nologin sovereign \
 && install -d -o sovereign -g sovereign -m 0700 /var/lib/sovereign \
 && install -d -m 0755 /etc/sovereign
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/dashboard ./dist/dashboard
COPY --from=build /app/node_modules ./node_modules
ENV STATE_DIRECTORY=/var/lib/sovereign
USER sovereign
EXPOSE 53/udp 53/tcp
# node as PID 1 gets SIGTERM from `docker stop` directly (no npm or shell in between).
ENTRYPOINT ["node", "/app/bin/sovereign.js"]
CMD ["serve", "--config", "/etc/sovereign/sovereign.yaml"]
