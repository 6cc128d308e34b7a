# syntax=docker/dockerfile:1
# The gateway's image (the Omise simulator is in it too: `node dist/simulator.js`). docs/operations.md.
#
#   docker build -t truemoney-graphql-gateway .
#   docker run -p 4000:4000 -e OMISE_SECRET_KEY=... truemoney-graphql-gateway
#
# Stages: `build` compiles and bundles the TypeScript once (npm run build → dist/main.js), `deps` installs
# the production dependencies only, both exactly from package-lock.json; `runtime` gets the two results
# and runs as the unprivileged `node` user. scripts/check-image.ts replays these steps without Docker.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.ts ./scripts/bundle.ts
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY web ./web
COPY --from=build /app/dist/main.js /app/dist/main.js.map /app/dist/simulator.js /app/dist/simulator.js.map ./dist/
USER node
EXPOSE 4000
# No curl in a slim image: Node itself asks /healthz (liveness; readiness is /readyz, for load balancers).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
