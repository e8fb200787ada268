# syntax=docker/dockerfile:1
# Proven without a container engine by `npm run check:image` (test/deploy/image.e2e-spec.ts), which
# replays these instructions: keep to WORKDIR, COPY [--from], shell-form RUN, ENV, USER, VOLUME, EXPOSE, CMD.
# Build stage: full Debian image, because better-sqlite3 and ssh2's optional bindings compile natively.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# --omit=optional as well: npm keeps a devDependency that a runtime package names as an optional peer
# (typescript, for @nestjs/swagger's build-time plugin). ssh2 runs without its optional cpu-features.
RUN npm run build && npm prune --omit=dev --omit=optional

# Runtime stage: same Debian release (glibc) as the build, no compilers, unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 INTERNAL_TCP_PORT=3001 HEALTH_PORT=3002 DATA_DIR=/app/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The application files stay root's: the node user can write only the data volume.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000 3001 3002
# Kubernetes probes /health/live and /health/ready on HEALTH_PORT; SIGTERM drains the pool (see README).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
