"""The API on ECS: CodeDeploy blue/green behind an internal NLB, redundant over
zones, locked-down containers, least privilege, rollback on the API's alarms."""

from __future__ import annotations

import re

import pytest
from terraform.tfestate import TERRAFORM, Config, one

REPO = TERRAFORM.parent


@pytest.fixture(scope="module")
def api(modules) -> Config:
    return modules["api_service"]


@pytest.fixture(scope="module")
def lb(modules) -> Config:
    return modules["load_balancer"]


@pytest.fixture(scope="module")
def container(api: Config) -> str:
    """The container definitions expression, normalised by the parser to one line."""
    return api.resource("aws_ecs_task_definition")["container_definitions"]


def _at_least(config: Config, variable: str, minimum: int) -> None:
    """The variable defaults to >= minimum and its validation refuses less."""
    assert config.variables[variable]["default"] >= minimum
    pattern = rf"var\.{variable} >= {minimum}\b"
    assert any(re.search(pattern, c) for c in config.validations(variable)), variable


def test_service_is_deployed_by_codedeploy(api: Config) -> None:
    service = api.resource("aws_ecs_service")
    assert one(service["deployment_controller"])["type"] == "CODE_DEPLOY"
    ignored = one(service["lifecycle"])["ignore_changes"]
    assert {"task_definition", "load_balancer", "desired_count"} <= set(ignored)


def test_service_runs_at_least_two_tasks(api: Config, production: Config) -> None:
    service = api.resource("aws_ecs_service")
    assert service["desired_count"] == "${var.desired_count}"
    _at_least(api, "desired_count", 2)
    target = api.resource("aws_appautoscaling_target")
    assert target["min_capacity"] == "${var.min_count}"
    _at_least(api, "min_count", 2)
    call = production.module_calls["api_service"]
    assert "desired_count" not in call and "min_count" not in call


def test_tasks_spread_over_at_least_two_zones(api: Config, modules, production) -> None:
    network = one(api.resource("aws_ecs_service")["network_configuration"])
    assert network["subnets"] == "${var.subnet_ids}"
    assert network["assign_public_ip"] is False
    assert any("length(var.subnet_ids) >= 2" in c for c in api.validations("subnet_ids"))
    # ... and the root gives it the private subnets, one per zone of the network.
    call = production.module_calls["api_service"]
    assert call["subnet_ids"] == "${module.network.private_subnet_ids}"
    _at_least(modules["network"], "az_count", 2)
    private = modules["network"].resource("aws_subnet", "private")
    assert private["count"] == "${var.az_count}"
    assert private["availability_zone"] == "${local.azs[count.index]}"


def test_container_insights_is_on(api: Config) -> None:
    setting = one(api.resource("aws_ecs_cluster")["setting"])
    assert setting == {"name": "containerInsights", "value": "enabled"}


def test_container_runs_unprivileged_on_a_read_only_filesystem(container: str) -> None:
    assert re.search(r'\buser = "10001"', container)
    assert re.search(r"\breadonlyRootFilesystem = true\b", container)
    assert "privileged = true" not in container
    assert re.search(r'containerPath = "/tmp", readOnly = false', container)


def test_container_health_check_uses_python_not_curl(container: str) -> None:
    check = re.search(r"healthCheck = \{command = \[(.*?)\]", container)
    assert check, "the task definition must carry a health check"
    assert check.group(1) == '"CMD", "python", "-m", "api.healthcheck"'
    # ... the same command as the image's own HEALTHCHECK.
    assert 'CMD ["python3", "-m", "api.healthcheck"]' in (REPO / "Dockerfile").read_text()


def test_container_config_and_secret(container: str, api: Config) -> None:
    assert '"API_STORE_URL", value = "dynamodb://${var.table_name}"' in container
    assert re.search(
        r'name = "API_STAFF_TOKEN", valueFrom = aws_secretsmanager_secret\.staff_token\.arn',
        container,
    )
    assert "API_STAFF_TOKEN" not in container.split("secrets = ")[0], "never a plain env var"


def container_settings(container: str) -> dict[str, str]:
    """Names and values of the container's environment and secrets, as written in Terraform."""
    return dict(re.findall(r'\{name = "([A-Z0-9_]+)", (?:value|valueFrom) = ([^}]+)\}', container))


def test_the_task_sets_every_setting_the_api_requires_in_production(container: str) -> None:
    """The image runs with API_ENV=production: a missing setting stops every task."""
    from api.config import PRODUCTION_REQUIRED

    required = {f"API_{name}" for name in PRODUCTION_REQUIRED}
    assert required <= set(container_settings(container)), required - set(
        container_settings(container)
    )
    assert "API_ENV=production" in (REPO / "Dockerfile").read_text()


def test_the_metrics_service_name_is_the_one_alarms_and_scaling_watch(
    container: str, api: Config, production: Config
) -> None:
    settings = container_settings(container)
    assert settings["API_SERVICE_NAME"] == "var.metrics_service_dimension"
    # The scaling policy and the monitoring module get that same value from the root.
    calls = production.module_calls
    assert calls["api_service"]["metrics_service_dimension"] == "${var.api_metrics_service}"
    assert calls["monitoring"]["metrics_service_dimension"] == "${var.api_metrics_service}"
    assert settings["API_TRUSTED_PROXY_HOPS"] == "tostring(var.trusted_proxy_hops)"
    assert api.variables["trusted_proxy_hops"]["default"] == 1  # CloudFront, one hop


def test_health_checks_probe_routes_the_app_serves_on_the_port_it_binds(
    lb: Config, api: Config
) -> None:
    from api import create_app
    from api.healthcheck import DEFAULT_PORT, HEALTH_PATH

    app = create_app({"STORE_URL": "sqlite:///:memory:"})
    routes = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    # The NLB's target groups: readiness (fails while the store is out or on SIGTERM).
    assert routes[lb.variables["health_check_path"]["default"]] == "health.readyz"
    # The container's own check: liveness.
    assert routes[HEALTH_PATH] == "health.healthz"
    settings: dict = {}
    conf = REPO / "api" / "gunicorn.conf.py"
    exec(compile(conf.read_text(), str(conf), "exec"), settings)
    bound = int(settings["bind"].rsplit(":", 1)[1])
    assert bound == DEFAULT_PORT
    assert bound == api.variables["container_port"]["default"]
    assert bound == lb.variables["container_port"]["default"]
    assert f"EXPOSE {bound}" in (REPO / "Dockerfile").read_text()
    check = one(lb.resource("aws_lb_target_group")["health_check"])
    assert check["port"] == "traffic-port" and check["matcher"] == "200"


def test_logs_go_to_cloudwatch_with_retention(api: Config, container: str) -> None:
    group = api.resource("aws_cloudwatch_log_group", "api")
    assert group["retention_in_days"] == "${var.log_retention_days}"
    assert 1 <= api.variables["log_retention_days"]["default"] <= 365
    assert 'logDriver = "awslogs"' in container
    assert "awslogs-group = aws_cloudwatch_log_group.api.name" in container


def test_graceful_shutdown_fits_in_the_stop_timeout(api: Config, lb: Config, container) -> None:
    assert "stopTimeout = var.stop_timeout_seconds" in container
    stop = api.variables["stop_timeout_seconds"]["default"]
    delay = lb.variables["deregistration_delay_seconds"]["default"]
    assert delay == 30, "matches gunicorn's 30 s graceful timeout"
    drain = api.variables["drain_seconds"]["default"]
    graceful = int(
        re.search(
            r'graceful_timeout = _int\("GUNICORN_GRACEFUL_TIMEOUT", (\d+)\)',
            (REPO / "api" / "gunicorn.conf.py").read_text(),
        ).group(1)
    )
    assert graceful == 30
    assert stop > drain + graceful, "SIGKILL must come after the drain and the graceful timeout"
    assert any(
        "var.stop_timeout_seconds > var.drain_seconds + 30" in c
        for c in api.validations("stop_timeout_seconds")
    )


def test_a_stopping_task_serves_until_the_health_checks_have_taken_it_out(
    api: Config, lb: Config, production: Config, container: str
) -> None:
    # gunicorn.conf.py drains for GUNICORN_DRAIN_SECONDS after SIGTERM; the task
    # gets the load balancer's own figure, from its health check.
    assert (
        'drain_seconds = _seconds("GUNICORN_DRAIN_SECONDS"'
        in (REPO / "api" / "gunicorn.conf.py").read_text()
    )
    assert 'name = "GUNICORN_DRAIN_SECONDS", value = tostring(var.drain_seconds)' in container
    call = production.module_calls["api_service"]
    assert call["drain_seconds"] == "${module.load_balancer.unready_drain_seconds}"
    formula = re.sub(r"\s+", " ", lb.outputs["unready_drain_seconds"]["value"])
    assert "health_check[0].interval * (" in formula
    assert "health_check[0].unhealthy_threshold + 1)" in formula
    check = one(lb.resource("aws_lb_target_group")["health_check"])
    drain = check["interval"] * (check["unhealthy_threshold"] + 1)
    assert drain == api.variables["drain_seconds"]["default"]


def test_task_role_may_only_use_the_table(api: Config) -> None:
    document = api.data("aws_iam_policy_document")["task"]
    for statement in document["statement"]:
        assert statement["resources"] == ["${var.table_arn}", "${var.table_arn}/index/*"]
        assert all(a.startswith("dynamodb:") and "*" not in a for a in statement["actions"])
        assert "dynamodb:DeleteTable" not in statement["actions"]


def iam_actions_the_store_needs() -> set[str]:
    """Drive every store operation against DynamoDB (moto) and name the IAM action of each call.

    A transaction is authorised action by action (a Put inside it needs
    ``dynamodb:PutItem``), so its items are counted, not the transaction.
    """
    import os
    from unittest import mock

    from support.availability import CATALOG, START, new_table
    from support.moto_server import aws_environment, start_moto

    from api.stores.dynamodb import DynamoDBStore
    from api.stores.interface import HoldPolicy, NoUnitFree

    needed: set[str] = set()

    def record(params: dict, model, **_: object) -> None:
        if model.name == "TransactWriteItems":
            kinds = {next(iter(item)) for item in params["TransactItems"]}
            needed.update(f"dynamodb:{kind}Item" for kind in kinds)
        elif model.name not in ("CreateTable", "DescribeTable", "UpdateTimeToLive"):
            needed.add(f"dynamodb:{model.name}")

    with (
        start_moto(threaded=False) as moto,
        mock.patch.dict(os.environ, aws_environment(moto.endpoint_url)),
    ):
        store = DynamoDBStore(new_table())
        store.client.meta.events.register("before-parameter-build.dynamodb", record)
        store.ping()
        store.sync_inventory(CATALOG, now=START)
        policy = HoldPolicy()
        held = [
            store.create_hold(slug, email=None, idempotency_key=f"k-{slug}", fingerprint="f",
                              now=START, ttl_seconds=60, visitor="v", policy=policy)
            for slug in ("unique-piece", "edition-of-three")
        ]  # fmt: skip
        store.availability(CATALOG, START)
        store.release_hold(held[0].hold.id, held[0].release_token, START)
        store.record_sale(
            now=START, hold_id=held[1].hold.id, idempotency_key="sale-1", fingerprint="s"
        )
        store.record_sale(now=START, sculpture="large-edition")
        try:
            store.record_sale(
                now=START, sculpture="unique-piece", idempotency_key="sale-2", fingerprint="t"
            )
            store.record_sale(now=START, sculpture="unique-piece")
        except NoUnitFree:
            pass
        store.sync_inventory({**CATALOG, "large-edition": 3}, now=START)
        store.sync_inventory({"large-edition": 12}, now=START)
    return needed


def test_the_task_role_allows_every_call_the_store_makes(api: Config) -> None:
    document = api.data("aws_iam_policy_document")["task"]
    allowed = {action for statement in document["statement"] for action in statement["actions"]}
    needed = iam_actions_the_store_needs()
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= needed
    assert needed <= allowed, needed - allowed


def test_tasks_admit_traffic_from_the_nlb_only(api: Config) -> None:
    ingress = api.resources("aws_vpc_security_group_ingress_rule")
    assert len(ingress) == 1
    rule = next(iter(ingress.values()))
    assert rule["referenced_security_group_id"] == "${var.load_balancer_security_group_id}"
    assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule
    assert rule["from_port"] == rule["to_port"] == "${var.container_port}"


def test_service_scales_on_cpu_and_on_load(api: Config) -> None:
    policies = api.resources("aws_appautoscaling_policy")
    configs = [one(p["target_tracking_scaling_policy_configuration"]) for p in policies.values()]
    predefined = [
        one(c["predefined_metric_specification"])["predefined_metric_type"]
        for c in configs
        if "predefined_metric_specification" in c
    ]
    assert predefined == ["ECSServiceAverageCPUUtilization"]
    custom = [c for c in configs if "customized_metric_specification" in c]
    assert len(custom) == 1
    metrics = one(custom[0]["customized_metric_specification"])["metrics"]
    expressions = [m["expression"] for m in metrics if m.get("return_data") is True]
    assert expressions and "/ tasks" in expressions[0]


def test_nlb_is_internal(lb: Config) -> None:
    nlb = lb.resource("aws_lb")
    assert nlb["internal"] is True
    assert nlb["load_balancer_type"] == "network"
    assert nlb["subnets"] == "${var.subnet_ids}"
    assert nlb["security_groups"] == ["${aws_security_group.nlb.id}"]


def test_two_ip_target_groups_check_readiness(lb: Config) -> None:
    groups = lb.resource("aws_lb_target_group")
    assert groups["for_each"] == '${toset(["blue", "green"])}'
    assert groups["target_type"] == "ip"
    assert groups["deregistration_delay"] == "${var.deregistration_delay_seconds}"
    check = one(groups["health_check"])
    assert check["protocol"] == "HTTP"
    assert check["path"] == "${var.health_check_path}"
    assert lb.variables["health_check_path"]["default"] == "/readyz"


def test_production_and_test_listeners(lb: Config) -> None:
    listeners = lb.resources("aws_lb_listener")
    assert set(listeners) == {"production", "test"}
    targets = {
        name: one(listener["default_action"])["target_group_arn"]
        for name, listener in listeners.items()
    }
    assert targets["production"] != targets["test"]
    assert lb.variables["production_port"]["default"] != lb.variables["test_port"]["default"]


def test_nlb_is_reachable_from_cloudfront_and_the_vpc_only(lb: Config) -> None:
    for rule in lb.resources("aws_vpc_security_group_ingress_rule").values():
        assert rule.get("cidr_ipv4") in (None, "${var.vpc_cidr_block}")
        assert "cidr_ipv6" not in rule
    from_cloudfront = lb.resource(
        "aws_vpc_security_group_ingress_rule", "production_from_cloudfront"
    )
    assert from_cloudfront["prefix_list_id"] == (
        "${data.aws_ec2_managed_prefix_list.cloudfront.id}"
    )
    prefix_list = lb.data("aws_ec2_managed_prefix_list")["cloudfront"]
    assert prefix_list["name"] == "com.amazonaws.global.cloudfront.origin-facing"


def test_deployment_rolls_back_on_failure_and_on_alarms(modules, production) -> None:
    deployment = modules["deployment"]
    group = deployment.resource("aws_codedeploy_deployment_group")
    rollback = one(group["auto_rollback_configuration"])
    assert rollback["enabled"] is True
    assert set(rollback["events"]) == {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
    alarms = one(group["alarm_configuration"])
    assert alarms["enabled"] is True
    assert alarms["alarms"] == "${var.alarm_names}"
    assert any("length(var.alarm_names) >= 1" in c for c in deployment.validations("alarm_names"))
    assert production.module_calls["deployment"]["alarm_names"] == (
        "${module.monitoring.deployment_alarm_names}"
    )


def test_deployment_is_blue_green_and_keeps_the_original_tasks(modules) -> None:
    deployment = modules["deployment"]
    group = deployment.resource("aws_codedeploy_deployment_group")
    style = one(group["deployment_style"])
    assert style == {"deployment_type": "BLUE_GREEN", "deployment_option": "WITH_TRAFFIC_CONTROL"}
    terminate = one(
        one(group["blue_green_deployment_config"])["terminate_blue_instances_on_deployment_success"]
    )
    assert terminate["termination_wait_time_in_minutes"] == "${var.termination_wait_minutes}"
    assert deployment.variables["termination_wait_minutes"]["default"] >= 30
    pair = one(one(group["load_balancer_info"])["target_group_pair_info"])
    assert len(pair["target_group"]) == 2
    assert "prod_traffic_route" in pair and "test_traffic_route" in pair


def test_the_service_waits_for_the_listeners_on_first_apply(lb: Config, production: Config) -> None:
    """CreateService fails while its target group belongs to no load balancer."""
    output = lb.outputs["target_group_arns"]
    assert set(output["depends_on"]) == {"${aws_lb_listener.production}", "${aws_lb_listener.test}"}
    call = production.module_calls["api_service"]
    assert call["target_group_arn"] == '${module.load_balancer.target_group_arns["blue"]}'


# --------------------------------------------------------------------------- the test-traffic hook


@pytest.fixture(scope="module")
def deployment(modules) -> Config:
    return modules["deployment"]


def test_a_hook_probes_the_replacement_tasks_through_the_test_listener(
    deployment: Config, production: Config, lb: Config
) -> None:
    hook = deployment.resource("aws_lambda_function", "hook")
    variables = one(hook["environment"])["variables"]
    assert (
        variables["TEST_TRAFFIC_URL"]
        == "http://${var.test_listener_dns_name}:${var.test_listener_port}"
    )
    call = production.module_calls["deployment"]
    assert call["test_listener_dns_name"] == "${module.load_balancer.dns_name}"
    assert call["test_listener_port"] == "${module.load_balancer.test_port}"
    assert lb.outputs["test_port"]["value"] == "${var.test_port}"
    listener = lb.resource("aws_lb_listener", "test")
    assert listener["port"] == "${var.test_port}"
    # It runs where the internal NLB is reachable, and may reach nothing else.
    assert one(hook["vpc_config"])["subnet_ids"] == "${var.subnet_ids}"
    assert call["subnet_ids"] == "${module.network.private_subnet_ids}"
    egress = deployment.resources("aws_vpc_security_group_egress_rule")
    ports = {(rule["from_port"], rule["cidr_ipv4"]) for rule in egress.values()}
    assert ports == {
        ("${var.test_listener_port}", "${var.vpc_cidr_block}"),
        (443, "${var.vpc_cidr_block}"),
    }
    # The handler Terraform names is the module's source file and function.
    module, function = hook["handler"].split(".")
    assert (
        deployment.data("archive_file")["hook"]["source_file"]
        == f"${{path.module}}/hook/{module}.py"
    )
    assert callable(getattr(load_hook(), function))


def test_the_hook_probes_routes_the_app_serves(deployment: Config) -> None:
    from api import create_app

    app = create_app({"STORE_URL": "sqlite:///:memory:"})
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    for path, _check in load_hook().PROBES:
        assert path.split("?")[0] in routes, path


def test_the_hook_may_report_its_verdict_and_reach_codedeploy_privately(
    deployment: Config, modules
) -> None:
    policy = deployment.data("aws_iam_policy_document")["hook"]
    report = next(s for s in policy["statement"] if s.get("sid") == "ReportHookStatus")
    assert report["actions"] == ["codedeploy:PutLifecycleEventHookExecutionStatus"]
    assert report["resources"] == ["${aws_codedeploy_deployment_group.this.arn}"]
    interface = modules["network"].files["main.tf"]["locals"][0]["interface_endpoints"]
    assert '"codedeploy"' in interface
    hook = deployment.resource("aws_lambda_function", "hook")
    assert hook["function_name"] == "${local.hook_name}"
    assert deployment.outputs["test_traffic_hook_function_name"]["value"] == (
        "${aws_lambda_function.hook.function_name}"
    )


def load_hook():
    """The hook's source, imported from its file (it is not a package of this repository)."""
    import importlib.util

    path = TERRAFORM / "modules" / "deployment" / "hook" / "after_allow_test_traffic.py"
    spec = importlib.util.spec_from_file_location("after_allow_test_traffic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
