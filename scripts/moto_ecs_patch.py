"""moto 5.2.5 runs ``ecs:runTask.sync`` Tasks but sends their Parameters to ECS as written.

Step Functions takes an optimized integration's parameters in PascalCase (``Cluster``,
``TaskDefinition``, ``Overrides.ContainerOverrides``) and maps them onto the API's own names;
moto's engine left that mapping out (``_normalise_parameters`` does nothing), so botocore cannot
serialise the call, and the task's description comes back camelCase where the engine reads
``Tasks[0].ClusterArn``. The mapping moto's engine already carries (``_to_boto_request``,
``_from_boto_response``, over botocore's ECS model) is switched on here for ECS only.
"""
from __future__ import annotations

from typing import Any

from botocore.session import Session
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (
    StateTaskServiceEcs,
)

_MODEL = Session().get_service_model("ecs")


def _operation(action: str | None, default: str) -> Any:
    name = action or default
    pascal = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    return _MODEL.operation_model(pascal)


def _normalise_parameters(self: Any, parameters: dict, boto_service_name: str | None = None,
                          service_action_name: str | None = None) -> None:
    self._to_boto_request(parameters, _operation(service_action_name, self.resource.api_action).input_shape)


def _normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                        service_action_name: str | None = None) -> None:
    self._from_boto_response(response, _operation(service_action_name, self.resource.api_action).output_shape)


StateTaskServiceEcs._normalise_parameters = _normalise_parameters  # type: ignore[method-assign]
StateTaskServiceEcs._normalise_response = _normalise_response  # type: ignore[method-assign]
