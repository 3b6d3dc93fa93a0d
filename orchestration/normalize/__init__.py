"""Pure functions: source frames -> typed rows of the raw layer, with rejects. No Dagster here."""

from orchestration.normalize.prices import splice_vintages, validate_prices
from orchestration.normalize.profiles import validate_profiles
from orchestration.normalize.statements import validate_statements
from orchestration.normalize.validated import Validated

__all__ = ["Validated", "splice_vintages", "validate_prices", "validate_profiles", "validate_statements"]
