"""HPO Desktop's resources (icons, examples), installed as package data: ``hpo_desktop.resources``."""
