"""The data_science pipeline, namespaced so its nodes read `data_science.<name>`."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import evaluate_model, split_data, train_model


def create_pipeline(**kwargs) -> Pipeline:
    """Return the pipeline: `model_input_table` in, `regressor` and `metrics` out.

    The train/test splits are namespaced (`data_science.X_train`); the parameters
    stay top-level (`params:model_options`).
    """
    return pipeline(
        [
            node(
                func=split_data,
                inputs=["model_input_table", "params:model_options"],
                outputs=["X_train", "X_test", "y_train", "y_test"],
                name="split_data_node",
            ),
            node(
                func=train_model,
                inputs=["X_train", "y_train"],
                outputs="regressor",
                name="train_model_node",
            ),
            node(
                func=evaluate_model,
                inputs=["regressor", "X_test", "y_test"],
                outputs="metrics",
                name="evaluate_model_node",
            ),
        ],
        namespace="data_science",
        inputs={"model_input_table"},
        outputs={"regressor", "metrics"},
        parameters={"params:model_options"},
    )
