"""dpsynth: differentially private synthetic data with one accountant per release."""

__version__ = "0.1.0"
