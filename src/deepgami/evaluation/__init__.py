"""Model selection and comparison without leakage: methods, fold preprocessing, cross-validation."""
