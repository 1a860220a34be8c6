"""publish, rollback and previews run under exactly the policies Terraform gives their roles.

A moto server with IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT: after the
first requests, every request is checked against its signer's policies) holds
the bucket and the distribution. The commands run signed as an IAM user whose
only policy is the role's template rendered as Terraform renders it
(publish.iam_policies). moto checks CloudFront actions against resource "*"
only (it knows no distribution ARNs), which would refuse a policy scoped to one
distribution, so CloudFront is served by a second, non-enforcing moto; and
moto's S3 checks are its own reading of IAM. So every call the commands make
is also recorded (a botocore before-call hook) and checked against the policy's
actions and resources by an explicit operation -> (action, resource) table. A
permission missing from a template fails these tests, either way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import boto3
import pytest
import storefront.publish.commands
from publish.harness import Site
from publish.iam_policies import allows, placeholders, policy, statements, template_call
from storefront.publish.releases import FAULT_VARIABLE
from storefront.publish.remote import make_clients
from support.moto_server import MotoServer, aws_environment, start_moto
from support.paths import FIXTURE_CATALOG, PROJECT

BUCKET = "gallery-site"
ADMIN_SETUP_CALLS = 3  # create_user, put_user_policy, create_access_key (unchecked)
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def enforcing_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", str(ADMIN_SETUP_CALLS))
        server = start_moto(threaded=True, log_dir=tmp_path_factory.mktemp("moto-iam"))
    with server:
        yield server


@dataclass
class Estate:
    """The emulators' bucket and distribution, an admin, and the values Terraform passes."""

    endpoint: str  # S3 and IAM, enforcing
    cloudfront_endpoint: str  # CloudFront, not enforcing (see the module docstring)
    admin: dict[str, str]
    variables: dict[str, str]
    distribution_id: str
    users: int = 0

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.cloudfront_endpoint if service == "cloudfront" else self.endpoint,
            region_name="us-east-1",
            **(credentials or self.admin),
        )

    def principal(self, document: dict[str, Any]) -> dict[str, str]:
        """Credentials of a new IAM user holding exactly `document`."""
        iam = self.client("iam")
        self.users += 1
        name = f"signer-{self.users}"
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="role", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }


@pytest.fixture(scope="module")
def estate(enforcing_moto: MotoServer, moto: MotoServer) -> Estate:
    unchecked = boto3.client(
        "iam",
        endpoint_url=enforcing_moto.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    unchecked.create_user(UserName="admin")
    unchecked.put_user_policy(
        UserName="admin", PolicyName="all", PolicyDocument=json.dumps(ADMIN_POLICY)
    )
    key = unchecked.create_access_key(UserName="admin")["AccessKey"]
    admin = {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }
    estate = Estate(enforcing_moto.endpoint_url, moto.endpoint_url, admin, {}, "")
    s3 = estate.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    distribution = estate.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "iam-test",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
                        "OriginPath": "/site",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "allow-all"},
        }
    )["Distribution"]
    estate.distribution_id = distribution["Id"]
    estate.variables = {
        "site_bucket_arn": f"arn:aws:s3:::{BUCKET}",
        "distribution_arn": distribution["ARN"],
    }
    return estate


# -- what each call needs ------------------------------------------------------------


def required(operation: str, params: dict[str, Any], estate: Estate) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs one API call needs: AWS's S3 and CloudFront
    authorization reference, for the operations publish makes."""
    bucket = f"arn:aws:s3:::{params.get('Bucket', BUCKET)}"
    key = f"{bucket}/{params.get('Key', '')}"
    distribution = estate.variables["distribution_arn"]
    if operation in {"GetObject", "HeadObject"}:
        # Without ListBucket, S3 answers 403 instead of 404 for a missing key, and
        # publish must tell "not published yet" from "not allowed".
        return [("s3:GetObject", key), ("s3:ListBucket", bucket)]
    if operation in {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}:
        return [("s3:PutObject", key)]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, str):  # botocore has already written it as bucket/key?versionId=
            path, _, query = source.partition("?")
            source = {"Bucket": path.split("/", 1)[0], "Key": unquote(path.split("/", 1)[1])}
            source["VersionId"] = dict(parse_qsl(query)).get("versionId")
        source_arn = f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"
        read = "s3:GetObjectVersion" if source.get("VersionId") else "s3:GetObject"
        return [("s3:PutObject", key), (read, source_arn)]
    if operation == "DeleteObject":
        return [("s3:DeleteObject", key)]
    if operation == "DeleteObjects":
        return [("s3:DeleteObject", f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
    if operation == "ListObjectsV2":
        return [("s3:ListBucket", bucket)]
    if operation == "GetBucketVersioning":
        return [("s3:GetBucketVersioning", bucket)]
    if operation in {"CreateInvalidation", "GetInvalidation"}:
        return [(f"cloudfront:{operation}", distribution)]
    raise AssertionError(f"no IAM mapping for {operation}: add it to this table")


@dataclass
class Calls:
    made: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def hook(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.made.append((model.name, params))

    def denied(self, document: dict[str, Any], estate: Estate) -> list[str]:
        return [
            f"{operation}: {action} on {resource}"
            for operation, params in self.made
            for action, resource in required(operation, params, estate)
            if not allows(document, action, resource)
        ]


class Signer:
    """Runs the commands signed as the holder of one policy document, recording their calls."""

    def __init__(self, estate: Estate, tmp: Path, patch: pytest.MonkeyPatch) -> None:
        self.estate, self.patch, self.calls = estate, patch, Calls()
        self.site = Site(tmp / "content", tmp / "work", {"IMAGE_CACHE_DIR": tmp / "images"})
        shutil.copytree(FIXTURE_CATALOG, self.site.content)
        self.site.refreeze()
        for name, value in aws_environment(estate.endpoint).items():
            patch.setenv(name, value)
        patch.delenv("AWS_SESSION_TOKEN")  # an IAM user's key: no session
        patch.setattr(storefront.publish.commands, "make_clients", self._clients)
        self.environment: dict[str, str] = {}

    def use(self, document: dict[str, Any]) -> Calls:
        credentials = self.estate.principal(document)
        self.environment = {
            "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
        }
        for name, value in self.environment.items():
            self.patch.setenv(name, value)
        self.calls.made.clear()
        return self.calls

    def _clients(self, **kwargs: Any) -> tuple[Any, Any]:
        session = boto3.Session()
        session.events.register("provide-client-params.*.*", self.calls.hook)
        settings = {**kwargs, "session": session}
        s3, _ = make_clients(**{**settings, "endpoint_url": self.estate.endpoint})
        _, cloudfront = make_clients(
            **{**settings, "endpoint_url": self.estate.cloudfront_endpoint}
        )
        return s3, cloudfront

    def run(self, *args: str) -> dict[str, Any]:
        result = self.invoke(*args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def invoke(self, *args: str) -> Any:
        return self.site.app().test_cli_runner().invoke(args=[*args, "--bucket", BUCKET, "--json"])

    def killed(self, *args: str, fault: str) -> None:
        """The same command in a child process (as CI runs it), killed at `fault`: S3 goes
        to the enforcing emulator through the per-service endpoint variable."""
        work = self.site.work
        environment = {
            **{k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
            **self.environment,
            "AWS_ENDPOINT_URL_S3": self.estate.endpoint,
            "AWS_ENDPOINT_URL_CLOUDFRONT": self.estate.cloudfront_endpoint,
            "STOREFRONT_CONTENT_DIR": str(self.site.content),
            "STOREFRONT_BUILD_DIR": str(self.site.build),
            "STOREFRONT_CACHE_DIR": str(work / "cache"),
            "STOREFRONT_PARSE_CACHE_FILE": str(work / "cache" / "content.pickle"),
            "STOREFRONT_IMAGE_CACHE_DIR": str(self.site.config["IMAGE_CACHE_DIR"]),
            "STOREFRONT_MOUNT_API": "false",
            FAULT_VARIABLE: fault,
        }
        argv = [sys.executable, "-m", "storefront", *args, "--bucket", BUCKET]
        done = subprocess.run(
            argv, cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == -signal.SIGKILL, done.stderr


def clear_bucket(estate: Estate) -> None:
    s3 = estate.client("s3")
    listed = s3.list_object_versions(Bucket=BUCKET)
    objects = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
    ]
    for start in range(0, len(objects), 1000):
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": objects[start : start + 1000]})


def production_scenario(signer: Signer) -> None:
    """Every call a deploy workflow makes: publishes (one collecting a release), one killed
    and finished by the next, a rollback, the listing."""
    site, target = signer.site, ["--distribution-id", signer.estate.distribution_id]
    signer.run("publish", *target, "--wait-timeout", "5")
    site.edit("onda", "amount: 1200.00", "amount: 1300.00")
    signer.run("publish", *target, "--keep-releases", "2", "--wait-timeout", "5")
    site.edit("onda", "amount: 1300.00", "amount: 1400.00")
    signer.killed("publish", *target, "--keep-releases", "2", fault="transfers:2")
    summary = signer.run("publish", *target, "--keep-releases", "2")  # collects the first
    assert summary["resumed"] >= 2 and summary["collected_releases"]
    signer.run("rollback", *target)
    signer.run("releases", *target)


def preview_scenario(signer: Signer) -> None:
    site, target = signer.site, ["--prefix", "previews/pr-7"]
    site.set_base_url("https://teste.example/previews/pr-7/")
    signer.run("publish", *target)
    site.edit("onda", "amount: 1200.00", "amount: 1300.00")
    signer.killed("publish", *target, fault="transfers:2")
    assert signer.run("publish", *target)["resumed"] >= 2
    signer.run("rollback", *target)
    signer.run("releases", *target)
    assert signer.run("unpublish", *target)["deleted"] > 0


SCENARIOS = {"publish": production_scenario, "preview": preview_scenario}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def ran(
    request: pytest.FixtureRequest, estate: Estate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Any], Calls]]:
    """Each role's scenario, run once under exactly its policy: (role, policy, calls made)."""
    role = request.param
    with pytest.MonkeyPatch.context() as patch:
        clear_bucket(estate)
        signer = Signer(estate, tmp_path_factory.mktemp(role), patch)
        document = policy(role, estate.variables)
        calls = signer.use(document)
        SCENARIOS[role](signer)
        yield role, document, calls


@pytest.mark.slow
def test_each_role_does_its_whole_job_under_exactly_its_policy(
    ran: tuple[str, dict[str, Any], Calls], estate: Estate
) -> None:
    role, document, calls = ran
    assert calls.denied(document, estate) == []
    operations = {operation for operation, _ in calls.made}
    assert {"PutObject", "CopyObject", "HeadObject", "DeleteObject"} <= operations
    touched = {params.get("Key", "") for _, params in calls.made if params.get("Key")}
    area = "site/" if role == "publish" else "previews/pr-7/"
    assert all(key.startswith((area, f"_publish/{area}")) for key in touched), touched
    cloudfront = operations & {"CreateInvalidation", "GetInvalidation"}
    assert cloudfront == ({"CreateInvalidation", "GetInvalidation"} if role == "publish" else set())


def without(document: dict[str, Any], sid: str, action: str) -> dict[str, Any]:
    trimmed = json.loads(json.dumps(document))
    for statement in statements(trimmed):
        if statement["Sid"] == sid:
            statement["Action"] = [a for a in statement["Action"] if a != action]
    trimmed["Statement"] = [s for s in statements(trimmed) if s["Action"]]
    return trimmed


def grants(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (statement["Sid"], action)
        for statement in statements(document)
        for action in statement["Action"]
    ]


@pytest.mark.slow
def test_every_permission_a_policy_grants_is_used(
    ran: tuple[str, dict[str, Any], Calls], estate: Estate
) -> None:
    """Least privilege: take any one action away and some call of the scenario is denied."""
    _role, document, calls = ran
    unused = [
        f"{action} ({sid})"
        for sid, action in grants(document)
        if not calls.denied(without(document, sid, action), estate)
    ]
    assert unused == []


@pytest.mark.slow
def test_the_emulator_refuses_what_a_policy_does_not_grant(estate: Estate, tmp_path: Path) -> None:
    """The enforcement the scenarios rely on is on: a policy without s3:PutObject on the
    live site cannot publish, and the preview role cannot publish production."""
    with pytest.MonkeyPatch.context() as patch:
        clear_bucket(estate)
        signer = Signer(estate, tmp_path, patch)
        signer.use(
            without(policy("publish", estate.variables), "ChangeTheLiveSiteInPlace", "s3:PutObject")
        )
        refused = signer.invoke("publish")
        assert refused.exit_code == 1 and "AccessDenied" in refused.output
        signer.use(policy("preview", estate.variables))
        refused = signer.invoke("publish")
        assert refused.exit_code == 1 and "AccessDenied" in refused.output


def test_the_policy_templates_take_exactly_the_values_terraform_passes() -> None:
    for role in ("publish", "preview"):
        call = template_call(role)
        assert placeholders(call.template) == set(call.arguments), role
        assert call.template.suffixes == [".json", ".tftpl"]
