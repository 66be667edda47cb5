"""Data layer: schemas, validation, import/export, the store and the demo municipality.

Never imports Streamlit.
"""

from data.errors import DataValidationError, StoreError

__all__ = ["DataValidationError", "StoreError"]
