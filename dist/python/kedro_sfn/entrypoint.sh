#!/bin/sh
# The image's ENTRYPOINT. On the AWS Lambda base image: Lambda's own entrypoint,
# unchanged. On any other Python base (python:3.12-slim, a company base): the
# runtime interface client the Dockerfile installed, as AWS documents for
# non-AWS base images. Outside Lambda, AWS_LAMBDA_RUNTIME_API is unset and
# the runtime interface emulator (aws-lambda-rie) must wrap this script.
if [ -x /lambda-entrypoint.sh ]; then
  exec /lambda-entrypoint.sh "$@"
fi
exec python3 -m awslambdaric "$@"
