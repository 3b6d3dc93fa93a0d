"""Pure functions: source frames -> typed rows of the raw layer, with rejects. No Dagster here."""

from orchestration.normalize.estimates import validate_estimates, validate_vendor_figures
from orchestration.normalize.prices import choose_prices, validate_prices
from orchestration.normalize.profiles import validate_profiles
from orchestration.normalize.statements import validate_statements
from orchestration.normalize.validated import Validated

__all__ = ["Validated", "choose_prices", "validate_estimates", "validate_prices", "validate_profiles", "validate_statements",
           "validate_vendor_figures"]
