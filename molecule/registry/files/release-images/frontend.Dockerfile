# The frontend of a later release of the reference application, for the registry scenario: the
# previous release's image (BASE), unchanged code, under the new version.
#   docker build -f frontend.Dockerfile --build-arg BASE=local/mvp-app-frontend:1.0.0 \
#     --build-arg RELEASE_VERSION=2.0.0 -t local/mvp-reg-frontend:2.0.0 2.0.0/
# Where the frontend's version lives: the page ("frontend version X") and /healthz read
# APP_VERSION at run time (ENV below), but the X-App-Version header of every answer comes from
# next.config.ts's headers(), which `next build` evaluates once and writes into
# .next/routes-manifest.json. So the header's value is rewritten there as well (the build fails
# when the manifest has no such header): otherwise 2.0.0 would answer with X-App-Version 1.0.0
# and the release tests could not tell which colour served a request. CI builds the frontend
# from source with --build-arg APP_VERSION instead; the result is the same.
ARG BASE=local/mvp-app-frontend:1.0.0
FROM ${BASE}
# Not APP_VERSION: the base image's ENV APP_VERSION would win over a build argument of that name.
ARG RELEASE_VERSION
USER root
RUN test -n "${RELEASE_VERSION}" && NEW_VERSION="${RELEASE_VERSION}" node -e ' \
  const fs = require("node:fs"); \
  const file = ".next/routes-manifest.json"; \
  const manifest = JSON.parse(fs.readFileSync(file, "utf8")); \
  let n = 0; \
  for (const rule of manifest.headers ?? []) \
    for (const h of rule.headers ?? []) \
      if (h.key === "X-App-Version") { h.value = process.env.NEW_VERSION; n++; } \
  if (n === 0) { console.error(`no X-App-Version header in ${file}`); process.exit(1); } \
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2)); \
  console.log(`X-App-Version -> ${process.env.NEW_VERSION} (${n} rule(s))`);'
USER node
ENV APP_VERSION=${RELEASE_VERSION}
LABEL org.opencontainers.image.version="${RELEASE_VERSION}"
