# syntax=docker/dockerfile:1
# The decagon service image: one static binary, no shell, non-root. Each ECS service runs it as
# `decagon serve <name>` (the task definition sets the command); migrations run at start-up.
# Build: docker build -t decagon .   Run: docker run -p 8080:8080 -e DECAGON_ADDR=:8080 decagon
# `make deploy` builds the same image without Docker (infra/image, one layer on an empty base);
# this file is for Docker users, whose pushed digest goes to the app stack as -c imageDigest=sha256:...

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not refetch them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
    -o /out/decagon ./cmd/decagon

# Distroless static: CA certificates and tzdata, no shell, no package manager; uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/decagon /decagon
USER nonroot:nonroot
# Non-root cannot bind ports below 1024: services listen on 8080 (decagon.yaml).
EXPOSE 8080
ENTRYPOINT ["/decagon"]
CMD ["serve", "tests"]
