"""The estate a rehearsal deploys to, on this machine and loopback only.

- **AWS**: a moto server with what terraform/envs/production creates for the
  workflows to use (the site bucket and distribution, the ECR repository, the
  ECS task definition family, the CodeDeploy application and deployment group,
  the availability table), and the AWS CLI (awscli in ``.venv-awscli``).
- **The CDN**: an HTTPS server answering for the site's host name (from
  content/site.yaml) with what CloudFront would fetch from the bucket, through
  the publish suite's ``Edge`` (the same URL resolution the publish tests use).
  curl reaches it through a ``.curlrc`` (``connect-to`` and the stand-in's CA),
  as DNS would send it to CloudFront.
- **Docker**: a ``docker`` command on PATH that builds with podman on the local
  Debian base and pushes the image's manifest into moto's ECR (moto has ECR's
  API but no registry to upload layers to).

The variables (``vars.X``) are named after the production outputs, as in the
README; values that must match the Terraform (the container's name and port)
are read from it.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import ipaddress
import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support.moto_server import MotoServer, aws_environment, start_moto
from support.paths import PROJECT

AWSCLI_VERSION = "1.46.2"  # as bench/publish.py: both share .venv-awscli
AWSCLI_VENV = PROJECT / ".venv-awscli"
ACCOUNT = "123456789012"  # moto's account
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NAME = "rehearsal"


def ensure_awscli() -> Path:
    """The ``aws`` command, installed once in its own venv (awscli pins its own libraries)."""
    aws = AWSCLI_VENV / "bin" / "aws"
    stamp = AWSCLI_VENV / f".installed-{AWSCLI_VERSION}"
    if not stamp.exists():
        shutil.rmtree(AWSCLI_VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(AWSCLI_VENV)], check=True)
        pip = [str(AWSCLI_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run(
            [*pip, "--disable-pip-version-check", f"awscli=={AWSCLI_VERSION}"], check=True
        )
        stamp.touch()
    return aws


def site_base_url() -> str:
    """The site's URL, read by the same script the workflows run."""
    spec = importlib.util.spec_from_file_location(
        "site_url", PROJECT / ".github" / "scripts" / "site_url.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.base_url(PROJECT / "content" / "site.yaml")


# -- AWS --------------------------------------------------------------------------


@dataclass
class Estate:
    bucket: str
    distribution_id: str
    repository_name: str
    repository_url: str
    task_family: str
    container_name: str
    container_port: int
    application: str
    deployment_group: str
    table: str

    def variables(self, region: str) -> dict[str, str]:
        """``vars.X`` for every production output a workflow reads (X = output, upper case)."""
        role = f"arn:aws:iam::{ACCOUNT}:role/{NAME}"
        return {
            "AWS_REGION": region,
            "SITE_BUCKET_NAME": self.bucket,
            "CLOUDFRONT_DISTRIBUTION_ID": self.distribution_id,
            "CLOUDFRONT_DOMAIN_NAME": f"{self.distribution_id.lower()}.cloudfront.net",
            "ECR_REPOSITORY_URL": self.repository_url,
            "ECS_TASK_DEFINITION_FAMILY": self.task_family,
            "ECS_CONTAINER_NAME": self.container_name,
            "ECS_CONTAINER_PORT": str(self.container_port),
            "CODEDEPLOY_APPLICATION_NAME": self.application,
            "CODEDEPLOY_DEPLOYMENT_GROUP_NAME": self.deployment_group,
            "PUBLISH_ROLE_ARN": f"{role}-publish-site",
            "DEPLOY_ROLE_ARN": f"{role}-deploy-api",
            "PREVIEW_ROLE_ARN": f"{role}-preview-site",
            "AVAILABILITY_TABLE_NAME": self.table,
            "TEST_TRAFFIC_HOOK_FUNCTION_NAME": f"{NAME}-api-test-traffic-hook",
        }


def _container_from_terraform() -> tuple[str, int]:
    """The API container's name and port as the api_service module defines them."""
    from terraform.tfestate import load_estate

    module = load_estate().modules["api_service"]
    locals_ = {
        k: v for f in module.files.values() for b in f.get("locals", []) for k, v in b.items()
    }
    return str(locals_["container_name"]), int(module.variables["container_port"]["default"])


def create_estate(region: str) -> Estate:
    """What the workflows expect to exist before their first run, created in moto."""
    import boto3
    from publish.harness import create_bucket, create_distribution

    bucket = create_bucket(f"{NAME}-site")  # versioned, as the Terraform's
    distribution_id = create_distribution(bucket)
    ecr = boto3.client("ecr")
    repository = ecr.create_repository(
        repositoryName=f"{NAME}/api", imageTagMutability="IMMUTABLE"
    )["repository"]
    container, port = _container_from_terraform()
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=f"{NAME}-api")
    family = f"{NAME}-api"
    ecs.register_task_definition(
        family=family,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{NAME}-api-execution",
        taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{NAME}-api-task",
        containerDefinitions=[
            {
                "name": container,
                "image": f"{repository['repositoryUri']}:bootstrap",
                "essential": True,
                "user": "10001",
                "readonlyRootFilesystem": True,
                "portMappings": [{"containerPort": port, "protocol": "tcp"}],
            }
        ],
    )
    codedeploy = boto3.client("codedeploy")
    application = f"{NAME}-api"
    codedeploy.create_application(applicationName=application, computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName=application,
        serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{NAME}-api-codedeploy",
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        ecsServices=[{"serviceName": f"{NAME}-api", "clusterName": f"{NAME}-api"}],
    )
    table = f"{NAME}-availability"
    subprocess.run(  # the API's own command creates its table, as the first deploy expects
        [str(PROJECT / ".venv" / "bin" / "flask"), "--app", "api", "init-store"],
        cwd=PROJECT,
        env={**os.environ, "API_STORE_URL": f"dynamodb://{table}"},
        check=True,
        capture_output=True,
    )
    return Estate(
        bucket=bucket,
        distribution_id=distribution_id,
        repository_name=repository["repositoryName"],
        repository_url=repository["repositoryUri"],
        task_family=family,
        container_name=container,
        container_port=port,
        application=application,
        deployment_group=application,
        table=table,
    )


# -- the CDN ----------------------------------------------------------------------


def _self_signed(host: str, folder: Path) -> tuple[Path, Path]:
    """A certificate for ``host`` (and 127.0.0.1) and its key, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cdn.pem", folder / "cdn.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextlib.contextmanager
def cdn(estate: Estate, folder: Path) -> Iterator[tuple[str, int, Path]]:
    """Serve the site's host name over HTTPS from the bucket, as CloudFront would."""
    from publish.harness import Edge

    host = urlsplit(site_base_url()).hostname or ""
    cert, key = _self_signed(host, folder)
    edge = Edge(estate.bucket, estate.distribution_id)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = edge.get(urlsplit(self.path).path)
            body = found["body"] if found else b"not found"
            self.send_response(200 if found else 404)
            content_type = found["content_type"] if found else "text/plain"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host, server.server_address[1], cert
    finally:
        server.shutdown()
        server.server_close()


# -- the runner's tools --------------------------------------------------------------


def write_tools(folder: Path, aws: Path) -> Path:
    """A bin folder with ``aws`` (awscli) and ``docker`` (the podman stand-in)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "aws").symlink_to(aws)
    docker = folder / "docker"
    python = PROJECT / ".venv" / "bin" / "python"
    docker.write_text(
        "#!/bin/sh\n"
        "# Stand-in for the Docker CLI: podman builds, moto's ECR receives pushes.\n"
        f'PYTHONPATH="{PROJECT / "tests"}" exec "{python}" -m workflows.docker_standin "$@"\n'
    )
    docker.chmod(0o755)
    return folder


@dataclass
class Stage:
    """A running stand-in estate: moto, the CDN, the tools and the variables."""

    moto: MotoServer
    estate: Estate
    variables: dict[str, str]
    runner_env: dict[str, str]
    aws_credentials: dict[str, str]
    folder: Path
    #: Every request moto served, one JSON object a line (its recorder).
    recording: Path


@contextlib.contextmanager
def stage(folder: Path) -> Iterator[Stage]:
    """Start everything a rehearsal needs; stop it afterwards (by PID, on loopback)."""
    aws = ensure_awscli()
    recording = folder / "moto-recording.jsonl"
    # moto logs every request it serves (headers included) while recording is on.
    with _environ(MOTO_ENABLE_RECORDING="True", MOTO_RECORDER_FILEPATH=str(recording)):
        server = start_moto(threaded=True, log_dir=folder)
    with server as moto:
        environment = aws_environment(moto.endpoint_url)
        saved = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)  # boto3 here (estate, CDN) talks to moto too
        try:
            estate = create_estate(environment["AWS_REGION"])
            with cdn(estate, folder) as (host, port, cert):
                curl_home = folder / "curl"
                curl_home.mkdir()
                (curl_home / ".curlrc").write_text(
                    f'connect-to = "{host}:443:127.0.0.1:{port}"\ncacert = "{cert}"\n'
                )
                tools = write_tools(folder / "bin", aws)
                runner_env = {
                    "PATH": f"{tools}:{SYSTEM_PATH}",
                    "HOME": os.environ.get("HOME", str(folder)),
                    "LANG": "C.UTF-8",
                    "CURL_HOME": str(curl_home),
                    # Where moto listens: botocore and the app both honour it.
                    "AWS_ENDPOINT_URL": moto.endpoint_url,
                    "AWS_EC2_METADATA_DISABLED": "true",
                    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                }
                for name in ("SCULPTURE_PODMAN_ROOT", "XDG_CACHE_HOME", "TMPDIR"):
                    if name in os.environ:
                        runner_env[name] = os.environ[name]
                credentials = {
                    name: environment[name]
                    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
                }
                yield Stage(
                    moto,
                    estate,
                    estate.variables(environment["AWS_REGION"]),
                    runner_env,
                    credentials,
                    folder,
                    recording,
                )
        finally:
            _restore(saved)


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        _restore(saved)
