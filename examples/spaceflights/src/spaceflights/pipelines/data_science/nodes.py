"""Node functions of the data_science pipeline."""

import logging

import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import max_error, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split


def split_data(data: pd.DataFrame, parameters: dict) -> tuple:
    """Split the data into features and target, then into training and test sets.

    Args:
        data: The model input table.
        parameters: `model_options`: `features`, `test_size`, `random_state`.

    Returns:
        `(X_train, X_test, y_train, y_test)`.
    """
    X = data[parameters["features"]]
    y = data["price"]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=parameters["test_size"], random_state=parameters["random_state"]
    )
    return X_train, X_test, y_train, y_test


def train_model(X_train: pd.DataFrame, y_train: pd.Series) -> LinearRegression:
    """Return a linear regression fitted on the training set."""
    regressor = LinearRegression()
    regressor.fit(X_train, y_train)
    return regressor


def evaluate_model(
    regressor: LinearRegression, X_test: pd.DataFrame, y_test: pd.Series
) -> dict[str, float]:
    """Log and return the regressor's R^2, MAE and max error on the test set."""
    y_pred = regressor.predict(X_test)
    metrics = {
        "r2_score": float(r2_score(y_test, y_pred)),
        "mae": float(mean_absolute_error(y_test, y_pred)),
        "max_error": float(max_error(y_test, y_pred)),
    }
    logging.getLogger(__name__).info(
        "Model has a coefficient R^2 of %.3f on test data.", metrics["r2_score"]
    )
    return metrics
