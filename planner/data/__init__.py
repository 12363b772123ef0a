"""Bundled data: loaders and schemas."""

from planner.data.load import Tables, bundled_dir, describe_tables, load_tables, read_table
from planner.data.schemas import HEADROOM_COLUMNS, SCHEMAS

__all__ = ["Tables", "bundled_dir", "describe_tables", "load_tables", "read_table", "HEADROOM_COLUMNS", "SCHEMAS"]
