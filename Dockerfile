# syntax=docker/dockerfile:1
# Multi-stage build of a static flowc binary, run as a non-root user.
#   docker build -t flowc .
#   docker run -p 8080:8080 -v flowc-data:/data -e FLOWC_PUBLIC_URL=… -e FLOWC_TWILIO_AUTH_TOKEN=… flowc
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
# CGO off: the embedded SQLite store (modernc.org/sqlite) is pure Go, so
# the binary needs no libc and runs on an empty image.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/flowc-dev/flowc/internal/buildinfo.Version=${VERSION} -X github.com/flowc-dev/flowc/internal/buildinfo.Commit=${COMMIT}" \
      -o /out/flowc ./cmd/flowc && \
    mkdir -p /out/data /out/flows && cp -r examples/. /out/flows/

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flowc /usr/local/bin/flowc
COPY --from=build --chown=nonroot:nonroot /out/data /data
COPY --from=build /out/flows /flows
USER nonroot:nonroot
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/flowc"]
CMD ["serve", "/flows", "--addr", "0.0.0.0:8080", "--db", "/data/flowc.db"]
