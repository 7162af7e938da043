"""The data_processing pipeline, namespaced so its nodes read `data_processing.<name>`."""

from kedro.pipeline import Pipeline, node, pipeline

from .nodes import create_model_input_table, preprocess_companies, preprocess_shuttles


def create_pipeline(**kwargs) -> Pipeline:
    """Return the pipeline: raw `companies`, `shuttles`, `reviews` in, `model_input_table` out.

    Its intermediate datasets are namespaced (`data_processing.preprocessed_companies`).
    """
    return pipeline(
        [
            node(
                func=preprocess_companies,
                inputs="companies",
                outputs="preprocessed_companies",
                name="preprocess_companies_node",
            ),
            node(
                func=preprocess_shuttles,
                inputs="shuttles",
                outputs="preprocessed_shuttles",
                name="preprocess_shuttles_node",
            ),
            node(
                func=create_model_input_table,
                inputs=["preprocessed_shuttles", "preprocessed_companies", "reviews"],
                outputs="model_input_table",
                name="create_model_input_table_node",
            ),
        ],
        namespace="data_processing",
        inputs={"companies", "shuttles", "reviews"},
        outputs={"model_input_table"},
    )
