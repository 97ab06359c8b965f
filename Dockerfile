# Builds the console into a small image. Not exercised by the test suite
# (the development machines have no Docker engine); see README.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/console ./cmd/console

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/console /console
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/console"]
CMD ["serve"]
