"""The network, the availability table and the image registry."""

from __future__ import annotations

from terraform.tfestate import Config, one


def test_private_subnets_never_get_public_addresses(modules) -> None:
    network: Config = modules["network"]
    assert network.resource("aws_subnet", "public")["map_public_ip_on_launch"] is False
    assert "map_public_ip_on_launch" not in network.resource("aws_subnet", "private")


def test_private_tasks_reach_aws_without_the_internet(modules) -> None:
    network: Config = modules["network"]
    interface = network.files["main.tf"]["locals"][0]["interface_endpoints"]
    for service in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"):
        assert f'"{service}"' in interface, service
    gateway = network.files["main.tf"]["locals"][0]["gateway_endpoints"]
    assert '"s3"' in gateway and '"dynamodb"' in gateway
    assert network.variables["enable_nat_gateway"]["default"] is False


def test_vpc_flow_logs_and_a_closed_default_security_group(modules) -> None:
    network: Config = modules["network"]
    assert network.resource("aws_flow_log")["traffic_type"] == "ALL"
    default_sg = network.resource("aws_default_security_group")
    assert "ingress" not in default_sg and "egress" not in default_sg


def test_table_is_durable_and_on_demand(modules) -> None:
    table_module: Config = modules["availability_table"]
    table = table_module.resource("aws_dynamodb_table")
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert one(table["point_in_time_recovery"])["enabled"] is True
    assert one(table["server_side_encryption"])["enabled"] is True
    assert table["deletion_protection_enabled"] == "${var.deletion_protection}"
    assert table_module.variables["deletion_protection"]["default"] is True


def test_table_keys_and_ttl_match_the_api_store(modules) -> None:
    table = modules["availability_table"].resource("aws_dynamodb_table")
    assert (table["hash_key"], table["range_key"]) == ("pk", "sk")
    assert {(a["name"], a["type"]) for a in table["attribute"]} == {("pk", "S"), ("sk", "S")}
    assert one(table["ttl"]) == {"attribute_name": "expires_at", "enabled": True}


def test_registry_scans_on_push_and_keeps_tags_immutable(modules) -> None:
    registry: Config = modules["container_registry"]
    repository = registry.resource("aws_ecr_repository")
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert one(repository["image_scanning_configuration"])["scan_on_push"] is True
    policy = registry.resource("aws_ecr_lifecycle_policy")["policy"]
    assert "untagged" in policy and "imageCountMoreThan" in policy
