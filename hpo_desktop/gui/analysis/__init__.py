"""The analysis page and its views (slice, parallel coordinates, contour, importance, trade-offs,
all curves, insights). Chart data comes from :mod:`hpo_desktop.core.analysis`; these only draw."""
