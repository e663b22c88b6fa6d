# The backend of a later release of the reference application, for the registry scenario: the
# previous release's image (BASE) plus the release's new migrations (the build context's
# migrations/, added to prisma/migrations) under the new version.
#   docker build -f backend.Dockerfile --build-arg BASE=local/mvp-app-backend:1.0.0 \
#     --build-arg RELEASE_VERSION=2.0.0 -t local/mvp-reg-backend:2.0.0 2.0.0/
# Why derived and not rebuilt from app/: the release is "the same application plus a
# migration", and a derived image is exactly that, in seconds instead of a full npm/tsc build on
# a loaded machine, independent of uncommitted work in app/ (the image 1.0.0 was built from is
# the base). The migration runner (`node dist/migrate/cli.js deploy`) and /api/health's
# expected_schema_version both read prisma/migrations at run time, so the new migration is
# applied by the release and required by the new backend's health. The code is 1.0.0's: it
# does not use the new column yet (expand in this release, use it in a later one).
ARG BASE=local/mvp-app-backend:1.0.0
FROM ${BASE}
# Not APP_VERSION: the base image's ENV APP_VERSION would win over a build argument of that name.
ARG RELEASE_VERSION
RUN test -n "${RELEASE_VERSION}"
# Root-owned and read-only for the runtime user, like the migrations the base ships.
COPY migrations/ /app/prisma/migrations/
# The backend reports APP_VERSION (/api/health, /api/version, X-App-Version) at run time.
ENV APP_VERSION=${RELEASE_VERSION}
LABEL org.opencontainers.image.version="${RELEASE_VERSION}"
